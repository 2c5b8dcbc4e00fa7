"""A send whose access token the provider refuses renews it and goes out."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from contacts.models import Contact
from conversations.models import Message
from conversations.services import queue_outbound_email
from mailsync.models import Mailbox
from mailsync.parsing import Address
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from mailsync.services.sending import SendOutcome, send_outbound_message
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory
from tests.mailsync.conftest import ConnectMailbox

pytestmark = pytest.mark.django_db

CAROL = "carol@client.example"


@pytest.fixture
def employee(db: None) -> User:
    return EmployeeFactory(email="sam@northwind.test", full_name="Sam Seller")


@pytest.fixture
def carol(employee: User) -> Contact:
    return ContactFactory(account=employee.account, addresses=[CAROL])


def test_outlook_send_after_the_token_was_expired_early_is_sent_once(
    employee: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    microsoft_sandbox.settings(sent_copy_delay=0)
    mailbox = connect_mailbox(employee, Mailbox.Provider.OUTLOOK, "sam@outlook.test")
    with django_capture_on_commit_callbacks(execute=False):
        message = queue_outbound_email(
            author_id=employee.pk,
            account_id=mailbox.account_id,
            sending_mailbox_id=mailbox.pk,
            sender_address=mailbox.address,
            sender_name=employee.full_name,
            to=[Address(CAROL, "Carol")],
            subject="Our proposal",
            text_body="Please find our proposal.",
            contact_ids=[carol.pk],
        )
    # Microsoft ends the token's life early (as continuous access evaluation
    # does) while RevStackr still holds it as valid for an hour; the draft
    # is created before the refusal.
    microsoft_sandbox.add_fault(
        "expire_token", operation="POST /me/messages/{id}/send", remaining=1
    )

    outcome = send_outbound_message(message_id=message.pk)

    assert outcome == SendOutcome.SENT
    sent = microsoft_sandbox.folder_messages("sam@outlook.test", "sentitems")
    assert [m["internet_message_id"] for m in sent] == [message.rfc_message_id]
    assert microsoft_sandbox.folder_messages("sam@outlook.test", "drafts") == []
    assert Message.objects.get(pk=message.pk).status == Message.Status.SENT
