"""The contact pages need the Contacts permission; rows are the account's."""

from __future__ import annotations

from typing import Any

from contacts.models import ContactImport
from tests.access import WITH, Entry, World
from tests.contacts.factories import ContactFactory

CONTACTS = "accounts.access_contacts"


def contact(world: World) -> dict[str, Any]:
    return {"pk": ContactFactory(account=world.account).pk}


def admins_upload(world: World) -> dict[str, Any]:
    staged = ContactImport.objects.create(
        account=world.account,
        uploaded_by=world.admin,
        file_name="people.csv",
        content="Name,Email\nAnn Lee,ann@example.com\n",
    )
    return {"pk": staged.pk}


ENTRIES = [
    Entry("contacts:list", CONTACTS),
    Entry("contacts:create", CONTACTS),
    Entry("contacts:export", CONTACTS),
    Entry("contacts:import", CONTACTS),
    # An upload is its uploader's (here the Admin's) until imported.
    Entry(
        "contacts:import_preview", CONTACTS, kwargs=admins_upload, expect={WITH: 404}
    ),
    Entry("contacts:import_errors", CONTACTS, kwargs=admins_upload, expect={WITH: 404}),
    Entry("contacts:detail", CONTACTS, kwargs=contact),
    Entry(
        "contacts:conversations",
        f"{CONTACTS} & accounts.access_conversations",
        kwargs=contact,
    ),
    Entry("contacts:edit", CONTACTS, kwargs=contact),
    Entry("contacts:delete", CONTACTS, kwargs=contact),
]
