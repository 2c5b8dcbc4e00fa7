import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import Contact, ContactEmail
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory
from tests.staff.factories import grant

pytestmark = pytest.mark.django_db


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Ann",
        "last_name": "Lee",
        "company": "Acme",
        "phone": "+1 555 0100",
        "owner": "",
        "notes": "",
        "emails-TOTAL_FORMS": "3",
        "emails-INITIAL_FORMS": "0",
        "emails-MIN_NUM_FORMS": "0",
        "emails-MAX_NUM_FORMS": "20",
        "emails-0-address": "ann@acme.com",
        "emails-1-address": "ann@home.net",
        "emails-2-address": "",
        "emails-primary": "0",
    }
    data.update(overrides)
    return data


def test_the_list_shows_the_accounts_contacts(contacts_client: Client, contacts_user):
    ContactFactory(account=contacts_user.account, first_name="Ann", last_name="Lee")
    ContactFactory(first_name="Stranger")

    response = contacts_client.get(reverse("contacts:list"), {"q": "a"})

    assert response.status_code == 200
    assert "Ann Lee" in response.text
    assert "Stranger" not in response.text


def test_a_contact_is_created_with_the_chosen_primary(contacts_client: Client):
    response = contacts_client.post(
        reverse("contacts:create"), form_data(**{"emails-primary": "1"})
    )

    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:detail", args=[contact.pk])
    assert contact.primary_address == "ann@home.net"
    assert [e.address for e in contact.sorted_emails] == [
        "ann@home.net",
        "ann@acme.com",
    ]


def test_a_bad_address_keeps_what_was_typed_and_saves_nothing(contacts_client):
    response = contacts_client.post(
        reverse("contacts:create"),
        form_data(**{"emails-1-address": "not-an-address", "company": "Kept Co"}),
    )

    assert response.status_code == 200
    assert not Contact.objects.exists()
    assert 'value="not-an-address"' in response.text
    assert 'value="Kept Co"' in response.text
    assert "field-invalid" in response.text


def test_a_contact_needs_an_address(contacts_client: Client):
    response = contacts_client.post(
        reverse("contacts:create"),
        form_data(**{"emails-0-address": "", "emails-1-address": ""}),
    )

    assert response.status_code == 200
    assert "Add at least one email address." in response.text
    assert not Contact.objects.exists()


def test_a_taken_address_is_refused_with_a_link_to_its_contact(
    contacts_client: Client, contacts_user
):
    owner = ContactFactory(
        account=contacts_user.account, first_name="Bo", addresses=["ann@acme.com"]
    )

    response = contacts_client.post(
        reverse("contacts:create"), form_data(**{"emails-0-address": "ANN@acme.com"})
    )

    link = f'<a href="{reverse("contacts:detail", args=[owner.pk])}">{owner}</a>'
    assert response.status_code == 200
    assert f"ANN@acme.com already belongs to {link}." in response.text
    assert Contact.objects.count() == 1
    assert not ContactEmail.objects.filter(normalized="ann@home.net").exists()


def test_an_address_of_another_account_is_no_conflict(contacts_client: Client):
    ContactFactory(addresses=["ann@acme.com"])

    response = contacts_client.post(reverse("contacts:create"), form_data())

    assert response.status_code == 302


def test_editing_changes_details_and_addresses(contacts_client, contacts_user):
    contact = ContactFactory(
        account=contacts_user.account, addresses=["old@x.com", "other@x.com"]
    )

    response = contacts_client.post(
        reverse("contacts:edit", args=[contact.pk]),
        form_data(
            first_name="Annie",
            owner=str(contacts_user.pk),
            **{
                "emails-INITIAL_FORMS": "2",
                "emails-0-address": "old@x.com",
                "emails-1-address": "",
                "emails-2-address": "new@x.com",
                "emails-primary": "2",
            },
        ),
    )

    contact.refresh_from_db()
    assert response.status_code == 302
    assert contact.first_name == "Annie"
    assert contact.owner == contacts_user
    assert [(e.address, e.is_primary) for e in contact.sorted_emails] == [
        ("new@x.com", True),
        ("old@x.com", False),
    ]


def test_a_failed_edit_changes_nothing(contacts_client, contacts_user):
    contact = ContactFactory(account=contacts_user.account, first_name="Ann")
    ContactFactory(account=contacts_user.account, addresses=["taken@x.com"])

    response = contacts_client.post(
        reverse("contacts:edit", args=[contact.pk]),
        form_data(first_name="Changed", **{"emails-1-address": "taken@x.com"}),
    )

    contact.refresh_from_db()
    assert response.status_code == 200
    assert contact.first_name == "Ann"
    assert not ContactEmail.objects.filter(normalized="ann@acme.com").exists()


def test_an_owner_must_be_an_employee_of_the_account(contacts_client):
    response = contacts_client.post(
        reverse("contacts:create"), form_data(owner=str(EmployeeFactory().pk))
    )

    assert response.status_code == 200
    assert not Contact.objects.exists()


def test_deleting_asks_first_then_deletes(contacts_client, contacts_user):
    contact = ContactFactory(account=contacts_user.account)
    url = reverse("contacts:delete", args=[contact.pk])

    asked = contacts_client.get(url)
    deleted = contacts_client.post(url, {"delete_email": "on"})

    assert "Also delete their email" in asked.text
    assert deleted.status_code == 302
    assert not Contact.objects.exists()


def test_the_record_has_an_overview_and_a_conversations_tab(
    contacts_client, contacts_user
):
    grant(contacts_user, "accounts.access_conversations")
    contact = ContactFactory(
        account=contacts_user.account, first_name="Ann", addresses=["ann@x.com"]
    )

    overview = contacts_client.get(reverse("contacts:detail", args=[contact.pk]))
    conversations = contacts_client.get(
        reverse("contacts:conversations", args=[contact.pk])
    )

    assert "ann@x.com" in overview.text
    assert reverse("contacts:conversations", args=[contact.pk]) in overview.text
    assert "No email has been exchanged with this contact yet." in conversations.text


def contact_urls(contact: Contact) -> list[str]:
    return [
        reverse(f"contacts:{name}", args=[contact.pk])
        for name in ("detail", "conversations", "edit", "delete")
    ]


def test_another_accounts_contact_is_not_found_on_any_page(
    contacts_client, contacts_user
):
    grant(contacts_user, "accounts.access_conversations")
    stranger = ContactFactory()

    for url in contact_urls(stranger):
        assert contacts_client.get(url).status_code == 404, url
        assert contacts_client.post(url, form_data()).status_code in (404, 405), url
    assert Contact.objects.filter(pk=stranger.pk).exists()


def test_every_page_needs_the_contacts_permission(signed_in, employee):
    contact = ContactFactory(account=employee.account)
    client = signed_in(employee)
    urls = [
        *contact_urls(contact),
        reverse("contacts:list"),
        reverse("contacts:create"),
        reverse("contacts:import"),
        reverse("contacts:export"),
    ]

    for url in urls:
        assert client.get(url).status_code == 403, url


def test_signing_out_leads_to_the_sign_in_page(client):
    response = client.get(reverse("contacts:list"))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_home_opens_the_contacts_for_those_who_may_see_them(contacts_client):
    response = contacts_client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:list")


def test_home_stays_for_those_who_may_not(signed_in, employee):
    response = signed_in(employee).get(reverse("home"))

    assert response.status_code == 200
    assert reverse("contacts:list") not in response.text
