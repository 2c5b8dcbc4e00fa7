import pytest

from contacts.models import Contact
from contacts.services import (
    ContactDetails,
    ContactError,
    create_contact,
    delete_contact,
    update_contact,
)
from contacts.signals import contact_deleting
from tests.contacts.factories import ContactFactory
from tests.factories import AccountFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def test_the_first_address_is_primary_unless_another_is_chosen() -> None:
    account = AccountFactory()

    first = create_contact(
        account=account, details=ContactDetails(), addresses=["a@x.com", "b@x.com"]
    )
    chosen = create_contact(
        account=account,
        details=ContactDetails(),
        addresses=["c@x.com", "d@x.com"],
        primary="D@x.com",
    )

    assert first.primary_address == "a@x.com"
    assert chosen.primary_address == "d@x.com"


def test_editing_replaces_the_addresses_and_moves_the_primary() -> None:
    contact = ContactFactory(addresses=["old@x.com", "kept@x.com"])

    update_contact(
        contact=contact,
        details=ContactDetails(first_name="Ann"),
        addresses=["Kept@x.com", "new@x.com"],
        primary="new@x.com",
    )

    emails = {e.address: e.is_primary for e in contact.emails.all()}
    assert emails == {"Kept@x.com": False, "new@x.com": True}
    assert Contact.objects.get().first_name == "Ann"


def test_a_contact_without_an_address_is_refused() -> None:
    with pytest.raises(ContactError):
        create_contact(
            account=AccountFactory(), details=ContactDetails(), addresses=[" "]
        )

    assert not Contact.objects.exists()


def test_an_owner_from_another_account_is_refused() -> None:
    with pytest.raises(ContactError):
        create_contact(
            account=AccountFactory(),
            details=ContactDetails(owner=EmployeeFactory()),
            addresses=["a@x.com"],
        )


@pytest.mark.parametrize("delete_email", [False, True])
def test_deleting_tells_the_conversations_app_whether_to_delete_the_mail(
    delete_email: bool,
) -> None:
    contact = ContactFactory(addresses=["ann@x.com"])
    heard = []

    def receiver(**kwargs: object) -> None:
        heard.append(kwargs)

    contact_deleting.connect(receiver)
    try:
        delete_contact(contact=contact, delete_email=delete_email)
    finally:
        contact_deleting.disconnect(receiver)

    assert not Contact.objects.exists()
    assert heard[0]["addresses"] == ["ann@x.com"]
    assert heard[0]["delete_email"] is delete_email
