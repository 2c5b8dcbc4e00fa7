import pytest
from django.db import IntegrityError, transaction

from contacts.models import Contact, ContactEmail
from contacts.selectors import contact_for_address
from contacts.services import AddressInUse, ContactDetails, create_contact
from tests.contacts.factories import ContactFactory
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_an_address_is_stored_trimmed_with_a_lower_case_form_for_matching() -> None:
    contact = ContactFactory(addresses=["  Ann.Lee@Example.COM "])

    email = contact.emails.get()

    assert email.address == "Ann.Lee@Example.COM"
    assert email.normalized == "ann.lee@example.com"
    assert email.domain == "example.com"
    assert email.is_primary


def test_an_address_is_found_whatever_its_case() -> None:
    contact = ContactFactory(addresses=["Ann.Lee@Example.com"])

    found = contact_for_address(account=contact.account, address=" ANN.LEE@example.com")

    assert found == contact


def test_the_database_refuses_one_address_on_two_contacts_of_an_account() -> None:
    contact = ContactFactory(addresses=["ann@example.com"])
    other = ContactFactory(account=contact.account)

    with pytest.raises(IntegrityError), transaction.atomic():
        ContactEmail.objects.create(contact=other, address="ANN@example.com")


def test_two_accounts_may_each_have_a_contact_with_the_same_address() -> None:
    ContactFactory(addresses=["ann@example.com"])

    contact = create_contact(
        account=AccountFactory(),
        details=ContactDetails(first_name="Ann"),
        addresses=["Ann@Example.com"],
    )

    assert contact.emails.get().normalized == "ann@example.com"
    assert ContactEmail.objects.filter(normalized="ann@example.com").count() == 2


def test_a_second_contact_with_a_taken_address_is_refused_and_not_saved() -> None:
    first = ContactFactory(addresses=["ann@example.com"])

    with pytest.raises(AddressInUse) as refused:
        create_contact(
            account=first.account,
            details=ContactDetails(first_name="Other"),
            addresses=["new@example.com", " ANN@example.com"],
        )

    assert refused.value.owners == {"ann@example.com": first}
    assert not ContactEmail.objects.filter(normalized="new@example.com").exists()
    assert Contact.objects.count() == 1


def test_the_database_allows_one_primary_address_per_contact() -> None:
    contact = ContactFactory(addresses=["a@example.com"])

    with pytest.raises(IntegrityError), transaction.atomic():
        ContactEmail.objects.create(
            contact=contact, address="b@example.com", is_primary=True
        )
