"""Sending from the CRM through each provider: Sent once, threaded, retried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from contacts.models import Contact
from conversations.models import Message, Thread
from conversations.services import OutgoingFile, queue_outbound_email
from mailsync.models import Mailbox
from mailsync.parsing import Address
from mailsync.providers.base import provider_for
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from mailsync.services.sending import (
    SendOutcome,
    _outgoing,
    send_outbound_message,
)
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory
from tests.mailsync.conftest import ConnectMailbox, sync_until_idle

pytestmark = pytest.mark.django_db

CAROL = "carol@client.example"


@pytest.fixture
def employee(db: None) -> User:
    return EmployeeFactory(email="sam@northwind.test", full_name="Sam Seller")


@pytest.fixture
def carol(employee: User) -> Contact:
    return ContactFactory(account=employee.account, addresses=[CAROL])


def write(
    employee: User,
    mailbox: Mailbox,
    carol: Contact,
    django_capture_on_commit_callbacks: Any,
    *,
    subject: str = "Our proposal",
    reply_to: Message | None = None,
    attachments: list[OutgoingFile] | None = None,
) -> Message:
    with django_capture_on_commit_callbacks(execute=False):
        return queue_outbound_email(
            author_id=employee.pk,
            account_id=mailbox.account_id,
            sending_mailbox_id=mailbox.pk,
            sender_address=mailbox.address,
            sender_name=employee.full_name,
            to=[Address(CAROL, "Carol")],
            subject=subject,
            text_body="Please find our proposal.",
            reply_to=reply_to,
            contact_ids=[carol.pk],
            attachments=attachments,
        )


def die_after_the_provider_accepted(message: Message, mailbox: Mailbox) -> None:
    """A worker claimed the message and the provider took it, then the
    worker died before recording anything; its claim has gone stale."""
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING,
        send_attempts=1,
        send_started_at=timezone.now() - timedelta(minutes=10),
    )
    provider_for(mailbox.provider, mailbox.access_token).send(
        _outgoing(message, mailbox), attempt=1
    )


def test_gmail_round_trip_sent_once_and_the_reply_joins_the_thread(
    employee: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    google_sandbox: GoogleSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mailbox = connect_mailbox(employee, Mailbox.Provider.GMAIL, "sam@gmail.test")
    sync_until_idle(mailbox)
    message = write(employee, mailbox, carol, django_capture_on_commit_callbacks)

    assert send_outbound_message(message_id=message.pk) == SendOutcome.SENT

    sent = google_sandbox.messages("sam@gmail.test", label="SENT")
    assert len(sent) == 1
    google_sandbox.deliver(
        from_=CAROL,
        mailbox="sam@gmail.test",
        to=["sam@gmail.test"],
        subject="Re: Our proposal",
        text="Looks good",
        in_reply_to=sent[0]["id"],
    )
    sync_until_idle(mailbox)

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert Thread.objects.count() == 1
    assert Message.objects.count() == 2
    assert set(Message.objects.values_list("thread", flat=True)) == {message.thread_id}


def test_a_crm_reply_stays_in_the_gmail_thread(
    employee: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    google_sandbox: GoogleSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mailbox = connect_mailbox(employee, Mailbox.Provider.GMAIL, "sam@gmail.test")
    delivered = google_sandbox.deliver(
        from_=CAROL, mailbox="sam@gmail.test", to=["sam@gmail.test"], subject="Help"
    )[0]
    sync_until_idle(mailbox)
    question = Message.objects.get()

    reply = write(
        employee,
        mailbox,
        carol,
        django_capture_on_commit_callbacks,
        subject="Re: Help",
        reply_to=question,
    )
    send_outbound_message(message_id=reply.pk)

    sent = google_sandbox.messages("sam@gmail.test", label="SENT")
    assert [m["threadId"] for m in sent] == [delivered["threadId"]]
    reply.refresh_from_db()
    assert reply.thread_id == question.thread_id
    assert reply.in_reply_to == question.rfc_message_id


def test_a_send_interrupted_after_gmail_accepted_it_is_not_sent_again(
    employee: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    google_sandbox: GoogleSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mailbox = connect_mailbox(employee, Mailbox.Provider.GMAIL, "sam@gmail.test")
    message = write(employee, mailbox, carol, django_capture_on_commit_callbacks)
    die_after_the_provider_accepted(message, mailbox)

    assert send_outbound_message(message_id=message.pk) == SendOutcome.SENT

    assert len(google_sandbox.messages("sam@gmail.test", label="SENT")) == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.links.count() == 1


def test_outlook_round_trip_sent_once_and_the_reply_joins_the_thread(
    employee: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    microsoft_sandbox.settings(sent_copy_delay=0)
    mailbox = connect_mailbox(employee, Mailbox.Provider.OUTLOOK, "sam@outlook.test")
    sync_until_idle(mailbox)
    message = write(employee, mailbox, carol, django_capture_on_commit_callbacks)

    assert send_outbound_message(message_id=message.pk) == SendOutcome.SENT

    sent = microsoft_sandbox.folder_messages("sam@outlook.test", "sentitems")
    assert [m["internet_message_id"] for m in sent] == [message.rfc_message_id]
    microsoft_sandbox.deliver(
        "sam@outlook.test",
        sender=CAROL,
        subject="RE: Our proposal",
        reply_to_internet_message_id=message.rfc_message_id,
    )
    sync_until_idle(mailbox)

    assert Thread.objects.count() == 1
    assert Message.objects.count() == 2
    assert message.links.count() == 1


def test_a_send_interrupted_after_graph_accepted_it_is_not_sent_again(
    employee: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mailbox = connect_mailbox(employee, Mailbox.Provider.OUTLOOK, "sam@outlook.test")
    message = write(employee, mailbox, carol, django_capture_on_commit_callbacks)
    die_after_the_provider_accepted(message, mailbox)

    assert send_outbound_message(message_id=message.pk) == SendOutcome.SENT

    mailbox_state = microsoft_sandbox.mailbox("sam@outlook.test")
    copies = [
        m
        for folder in mailbox_state["folders"]
        for m in folder["messages"]
        if m["internet_message_id"] == message.rfc_message_id
    ]
    assert len(copies) == 1


def test_an_outlook_send_retried_after_its_uploads_attaches_each_file_once(
    employee: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    microsoft_sandbox.settings(sent_copy_delay=0)
    mailbox = connect_mailbox(employee, Mailbox.Provider.OUTLOOK, "sam@outlook.test")
    large = 3 * 1024 * 1024 + 1
    message = write(
        employee,
        mailbox,
        carol,
        django_capture_on_commit_callbacks,
        attachments=[
            OutgoingFile("plans.pdf", "application/pdf", b"p" * large),
            OutgoingFile("photos.zip", "application/zip", b"z" * large),
            OutgoingFile("notes.txt", "text/plain", b"small"),
        ],
    )
    # The worker is cut off when it asks Graph to send the finished draft.
    microsoft_sandbox.add_fault(
        "drop", operation="POST /me/messages/{id}/send", remaining=1
    )
    assert send_outbound_message(message_id=message.pk) == SendOutcome.RETRY

    assert send_outbound_message(message_id=message.pk) == SendOutcome.SENT

    sent = microsoft_sandbox.folder_messages("sam@outlook.test", "sentitems")
    assert [sorted(m["attachments"]) for m in sent] == [
        ["notes.txt", "photos.zip", "plans.pdf"]
    ]
    assert microsoft_sandbox.folder_messages("sam@outlook.test", "drafts") == []


def test_a_throttled_outlook_send_is_left_to_the_outbox_retry(
    employee: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mailbox = connect_mailbox(employee, Mailbox.Provider.OUTLOOK, "sam@outlook.test")
    message = write(employee, mailbox, carol, django_capture_on_commit_callbacks)
    microsoft_sandbox.add_fault("rate_limit", operation="POST /me/messages")

    assert send_outbound_message(message_id=message.pk) == SendOutcome.RETRY

    assert microsoft_sandbox.calls("POST /me/messages", "sam@outlook.test") == 1
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert "429" in message.failure_reason


def test_a_send_without_a_connected_mailbox_fails_with_the_reason(
    employee: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mailbox = connect_mailbox(employee, Mailbox.Provider.GMAIL, "sam@gmail.test")
    message = write(employee, mailbox, carol, django_capture_on_commit_callbacks)
    Mailbox.objects.filter(pk=mailbox.pk).update(state=Mailbox.State.DISCONNECTED)

    assert send_outbound_message(message_id=message.pk) == SendOutcome.FAILED

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "not connected" in message.failure_reason


def test_outlook_send_after_the_token_was_expired_early_is_sent_once(
    employee: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    microsoft_sandbox.settings(sent_copy_delay=0)
    mailbox = connect_mailbox(employee, Mailbox.Provider.OUTLOOK, "sam@outlook.test")
    message = write(employee, mailbox, carol, django_capture_on_commit_callbacks)
    # Microsoft ends the token's life early (as continuous access evaluation
    # does) while RevStackr still holds it as valid for an hour; the draft
    # is created before the refusal. The send renews the token once.
    microsoft_sandbox.add_fault(
        "expire_token", operation="POST /me/messages/{id}/send", remaining=1
    )

    outcome = send_outbound_message(message_id=message.pk)

    assert outcome == SendOutcome.SENT
    sent = microsoft_sandbox.folder_messages("sam@outlook.test", "sentitems")
    assert [m["internet_message_id"] for m in sent] == [message.rfc_message_id]
    assert microsoft_sandbox.folder_messages("sam@outlook.test", "drafts") == []
    assert Message.objects.get(pk=message.pk).status == Message.Status.SENT
