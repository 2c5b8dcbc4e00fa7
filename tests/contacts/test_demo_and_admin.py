import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import Contact, ContactEmail
from demo.services import DEMO_CONTACTS, load_demo_account
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory, SupportUserFactory

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


def _change_form(contact: Contact, **overrides: str) -> dict[str, str]:
    """The contact's admin change form as the browser would post it."""
    emails = list(contact.emails.order_by("pk"))
    data = {
        "account": str(contact.account_id),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "company": "",
        "phone": "",
        "notes": "",
        "owner": "",
        "emails-TOTAL_FORMS": str(len(emails)),
        "emails-INITIAL_FORMS": str(len(emails)),
        "emails-MIN_NUM_FORMS": "0",
        "emails-MAX_NUM_FORMS": "1000",
    }
    for index, email in enumerate(emails):
        data[f"emails-{index}-id"] = str(email.pk)
        data[f"emails-{index}-contact"] = str(contact.pk)
        data[f"emails-{index}-address"] = email.address
        if email.is_primary:
            data[f"emails-{index}-is_primary"] = "on"
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"emails-1-is_primary": "on"}, "Mark exactly one address as primary."),
        ({"emails-0-is_primary": ""}, "Mark exactly one address as primary."),
        (
            {"emails-0-DELETE": "on", "emails-1-DELETE": "on"},
            "A contact needs at least one address.",
        ),
    ],
)
def test_the_admin_keeps_one_primary_address_per_contact(
    client: Client, change: dict[str, str], message: str
) -> None:
    contact = ContactFactory(addresses=["ann@acme.com", "ann@home.example"])
    client.force_login(SupportUserFactory())
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    form = {k: v for k, v in _change_form(contact, **change).items() if v != ""}

    answer = client.post(url, form)

    assert answer.status_code == 200
    assert message in answer.text
    assert sorted(contact.emails.values_list("address", "is_primary")) == [
        ("ann@acme.com", True),
        ("ann@home.example", False),
    ]


def test_the_admin_refuses_an_owner_from_another_account(client: Client) -> None:
    contact = ContactFactory(addresses=["ann@acme.com"])
    stranger = ContactFactory().account
    outsider = EmployeeFactory(account=stranger)
    client.force_login(SupportUserFactory())
    url = reverse("admin:contacts_contact_change", args=[contact.pk])

    answer = client.post(url, _change_form(contact, owner=str(outsider.pk)))

    assert answer.status_code == 200
    assert "The owner must be an employee of the same account." in answer.text
    contact.refresh_from_db()
    assert contact.owner_id is None


def test_addresses_cannot_be_changed_outside_their_contact(client: Client) -> None:
    contact = ContactFactory(addresses=["ann@acme.com"])
    email = contact.emails.get()
    client.force_login(SupportUserFactory())
    url = reverse("admin:contacts_contactemail_change", args=[email.pk])

    shown = client.get(url)
    posted = client.post(url, {"address": "other@acme.com", "is_primary": "on"})

    assert shown.status_code == 200  # shown, read-only
    assert posted.status_code == 403
    assert contact.emails.get().address == "ann@acme.com"
