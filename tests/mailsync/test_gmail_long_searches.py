"""A first import whose Gmail searches are longer than a URL may be."""

from __future__ import annotations

import pytest

from conversations.models import Message
from mailsync.models import Mailbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory
from tests.mailsync.conftest import ConnectMailbox, sync_until_idle

pytestmark = pytest.mark.django_db


def test_import_with_many_contacts_survives_searches_sent_as_post(
    connect_mailbox: ConnectMailbox, google_sandbox: GoogleSandboxControl
) -> None:
    # Twenty long addresses make one search query of some 2,500 characters;
    # the client library then sends the GET as a POST with an override.
    employee = EmployeeFactory(email="sam@northwind.test")
    contacts = [
        f"customer.number{n}@a-rather-long-company-name-{n}.example" for n in range(40)
    ]
    for address in contacts:
        ContactFactory(account=employee.account, addresses=[address])
    mailbox = connect_mailbox(employee, Mailbox.Provider.GMAIL, "sam@gmail.test")
    for address in (contacts[0], contacts[39]):
        google_sandbox.deliver(
            from_=address, mailbox="sam@gmail.test", to=["sam@gmail.test"], subject="Hi"
        )

    sync_until_idle(mailbox)

    assert mailbox.state == Mailbox.State.ACTIVE
    assert sorted(Message.objects.values_list("sender_address", flat=True)) == [
        contacts[0],
        contacts[39],
    ]
