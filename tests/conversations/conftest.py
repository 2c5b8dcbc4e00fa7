from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import User
from contacts.models import Contact
from mailsync.models import Mailbox
from tests.contacts.factories import ContactFactory
from tests.conversations.factories import MailboxFactory
from tests.factories import EmployeeFactory
from tests.mailsync.conftest import (  # noqa: F401 - fixtures shared with mailsync
    connect_mailbox,
    google_sandbox,
    microsoft_sandbox,
)
from tests.staff.factories import grant

CAROL = "carol@client.example"
CONVERSATIONS = "accounts.access_conversations"


@pytest.fixture
def sam(admin_user: User) -> User:
    """An employee (not an Admin) with the Conversations permission."""
    employee = EmployeeFactory(
        account=admin_user.account,
        email="sam@northwind.test",
        full_name="Sam Seller",
        signature="Sam Seller\nNorthwind",
    )
    return grant(employee, CONVERSATIONS, "accounts.access_contacts")


@pytest.fixture
def pat(admin_user: User) -> User:
    """Sam's teammate, with the same permissions."""
    employee = EmployeeFactory(
        account=admin_user.account, email="pat@northwind.test", full_name="Pat Peer"
    )
    return grant(employee, CONVERSATIONS, "accounts.access_contacts")


@pytest.fixture
def sams_mailbox(sam: User) -> Mailbox:
    return MailboxFactory(employee=sam, address="sam@gmail.test")


@pytest.fixture
def carol(sam: User) -> Contact:
    return ContactFactory(
        account=sam.account,
        first_name="Carol",
        last_name="Client",
        addresses=[CAROL, "carol@home.example"],
    )


@pytest.fixture
def as_sam(sam: User, signed_in: Callable[[User], Client]) -> Client:
    return signed_in(sam)


@pytest.fixture
def sign_in() -> Callable[[User], Client]:
    """Sign people in on clients of their own, for tests with several."""

    def client_for(user: User) -> Client:
        client = Client()
        client.force_login(user, backend="accounts.backends.EmployeeBackend")
        return client

    return client_for
