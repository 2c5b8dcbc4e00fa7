"""The searches the contact list runs are answered from indexes.

Only PostgreSQL's plans matter for speed at scale; the timings themselves
are measured by benchmarks/contacts_search.py.
"""

import pytest
from django.db import connection

from contacts.models import Contact, ContactEmail
from contacts.selectors import search_contacts
from tests.contacts.factories import ContactFactory
from tests.factories import AccountFactory

pytestmark = pytest.mark.usefixtures("postgresql")


@pytest.fixture
def crowded_account():
    """An account with enough contacts that a sequential scan costs more."""
    account = AccountFactory()
    contacts = Contact.objects.bulk_create(
        Contact(account=account, first_name=f"Person{n}", last_name=f"Name{n}")
        for n in range(3000)
    )
    ContactEmail.objects.bulk_create(
        ContactEmail(
            account=account,
            contact=contact,
            address=f"person{n}@example.com",
            normalized=f"person{n}@example.com",
            domain="example.com",
            is_primary=True,
        )
        for n, contact in enumerate(contacts)
    )
    ContactFactory(account=account, first_name="Zora", addresses=["zora@acme.com"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
        cursor.execute("ANALYZE contacts_contactemail")
    return account


def plan(account, query: str) -> str:
    return search_contacts(account=account, query=query).explain()


def test_an_exact_address_is_looked_up_through_an_index(crowded_account) -> None:
    explained = plan(crowded_account, "Zora@Acme.com")

    assert "contact_email_prefix" in explained
    assert "Seq Scan on contacts_contactemail" not in explained
    assert "Seq Scan on contacts_contact " not in explained


def test_a_name_prefix_is_looked_up_through_the_name_indexes(crowded_account) -> None:
    explained = plan(crowded_account, "zor")

    assert "contact_prefix_first_name" in explained
    assert "Seq Scan on contacts_contact " not in explained
