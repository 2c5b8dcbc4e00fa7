"""The first import's cost at the providers, as the sandbox counts it."""

from __future__ import annotations

import pytest

from accounts.models import User
from conversations.models import Message
from mailsync.models import Mailbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory
from tests.mailsync.conftest import ConnectMailbox, sync_until_idle

pytestmark = pytest.mark.django_db

CONTACTS = [f"client{number}@client.example" for number in range(10)]


@pytest.fixture
def employee(db: None) -> User:
    employee = EmployeeFactory(email="sam@northwind.test")
    for address in CONTACTS:
        ContactFactory(account=employee.account, addresses=[address])
    return employee


def cost(counters: list[dict], mailbox: str, field: str) -> int:
    return sum(
        row[field]
        for row in counters
        if row["mailbox"] == mailbox and not row["operation"].startswith("oauth2")
    )


def test_gmail_first_import_stays_within_25_quota_units_per_stored_message(
    employee: User,
    connect_mailbox: ConnectMailbox,
    google_sandbox: GoogleSandboxControl,
) -> None:
    address = "sam@gmail.test"
    mailbox = connect_mailbox(employee, Mailbox.Provider.GMAIL, address)
    for number in range(90):
        sender = CONTACTS[number % 10] if number % 3 == 0 else f"n{number}@news.example"
        google_sandbox.deliver(
            from_=sender, mailbox=address, to=[address], subject=f"Mail {number}"
        )
    before = cost(google_sandbox.counters(), address, "units")

    sync_until_idle(mailbox)

    stored = Message.objects.count()
    units = cost(google_sandbox.counters(), address, "units") - before
    assert stored == 30
    assert units / stored <= 25, f"{units} units for {stored} messages"


def test_graph_first_import_stays_within_1_2_requests_per_stored_message(
    employee: User,
    connect_mailbox: ConnectMailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
) -> None:
    address = "sam@outlook.test"
    mailbox = connect_mailbox(employee, Mailbox.Provider.OUTLOOK, address)
    for number in range(300):
        sender = CONTACTS[number % 10] if number % 2 == 0 else f"n{number}@news.example"
        microsoft_sandbox.deliver(address, sender=sender, subject=f"Mail {number}")
    before = cost(microsoft_sandbox.counters(), address, "calls")

    sync_until_idle(mailbox)

    stored = Message.objects.count()
    requests = cost(microsoft_sandbox.counters(), address, "calls") - before
    assert stored == 150
    assert requests / stored <= 1.2, f"{requests} requests for {stored} messages"
