import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import Contact, ContactEmail
from demo.services import DEMO_CONTACTS, load_demo_account
from tests.contacts.factories import ContactFactory
from tests.factories import SupportUserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_account_gets_its_contacts_once() -> None:
    account = load_demo_account()
    load_demo_account()

    assert Contact.objects.for_account(account).count() == len(DEMO_CONTACTS)
    assert ContactEmail.objects.filter(account=account, is_primary=True).count() == len(
        DEMO_CONTACTS
    )


def test_support_staff_find_a_contact_by_address_in_the_admin(client: Client) -> None:
    contact = ContactFactory(first_name="Ann", addresses=["ann@acme.com"])
    client.force_login(SupportUserFactory())

    listed = client.get(
        reverse("admin:contacts_contact_changelist"), {"q": "ann@acme.com"}
    )
    opened = client.get(reverse("admin:contacts_contact_change", args=[contact.pk]))

    assert "Ann" in listed.text
    assert opened.status_code == 200
    assert "ann@acme.com" in opened.text
