"""Replies written in the CRM stay in the provider's thread; a new thread
starts a new one. Driven through the composer and the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from contacts.models import Contact
from conversations.models import Message, Thread
from mailsync.models import Mailbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from mailsync.services.sending import SendOutcome, send_outbound_message
from tests.conversations.conftest import CAROL
from tests.mailsync.conftest import ConnectMailbox, sync_until_idle

pytestmark = pytest.mark.django_db


@pytest.fixture
def sams_mailbox() -> None:
    """These tests connect a real sandbox mailbox instead."""


def reply_through_the_composer(
    client: Client, message: Message, capture: Any, *, body: str = "Answer"
) -> Message:
    with capture(execute=False):
        response = client.post(
            reverse("conversations:reply", args=[message.pk]),
            {"to": CAROL, "subject": f"Re: {message.subject}", "body": body},
        )
    assert response.status_code == 302, response.context["form"].errors
    return Message.objects.get(text_body=body)


def new_thread_through_the_composer(
    client: Client, contact: Contact, capture: Any, *, subject: str
) -> Message:
    with capture(execute=False):
        response = client.post(
            reverse("conversations:write", args=[contact.pk]),
            {"to_contact": [CAROL], "subject": subject, "body": "Fresh start"},
        )
    assert response.status_code == 302, response.context["form"].errors
    return Message.objects.get(subject=subject, direction=Message.Direction.OUTBOUND)


def test_a_gmail_reply_stays_in_the_thread_and_a_new_thread_starts_anew(
    sam: User,
    as_sam: Client,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    google_sandbox: GoogleSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mailbox = connect_mailbox(sam, Mailbox.Provider.GMAIL, "sam@gmail.test")
    delivered = google_sandbox.deliver(
        from_=CAROL, mailbox="sam@gmail.test", to=["sam@gmail.test"], subject="Help"
    )[0]
    sync_until_idle(mailbox)
    question = Message.objects.get()

    reply = reply_through_the_composer(
        as_sam, question, django_capture_on_commit_callbacks
    )
    assert send_outbound_message(message_id=reply.pk) == SendOutcome.SENT
    fresh = new_thread_through_the_composer(
        as_sam, carol, django_capture_on_commit_callbacks, subject="Another matter"
    )
    assert send_outbound_message(message_id=fresh.pk) == SendOutcome.SENT
    sync_until_idle(mailbox)

    sent = {m["id"]: m for m in google_sandbox.messages("sam@gmail.test", label="SENT")}
    reply.refresh_from_db()
    fresh.refresh_from_db()
    reply_copy = sent[reply.links.get().provider_message_id]
    fresh_copy = sent[fresh.links.get().provider_message_id]
    assert reply_copy["threadId"] == delivered["threadId"]
    assert fresh_copy["threadId"] != delivered["threadId"]
    assert reply.in_reply_to == question.rfc_message_id
    assert reply.thread_id == question.thread_id
    assert fresh.thread_id != question.thread_id and not fresh.in_reply_to
    assert Thread.objects.count() == 2
    assert Message.objects.count() == 3  # the sync linked, not duplicated


def test_an_outlook_reply_stays_in_the_conversation_and_a_new_thread_starts_anew(
    sam: User,
    as_sam: Client,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
    django_capture_on_commit_callbacks: Any,
) -> None:
    microsoft_sandbox.settings(sent_copy_delay=0)
    mailbox = connect_mailbox(sam, Mailbox.Provider.OUTLOOK, "sam@outlook.test")
    delivered = microsoft_sandbox.deliver(
        "sam@outlook.test", sender=CAROL, subject="Help", text="Can you help?"
    )
    sync_until_idle(mailbox)
    question = Message.objects.get()

    reply = reply_through_the_composer(
        as_sam, question, django_capture_on_commit_callbacks
    )
    assert send_outbound_message(message_id=reply.pk) == SendOutcome.SENT
    fresh = new_thread_through_the_composer(
        as_sam, carol, django_capture_on_commit_callbacks, subject="Another matter"
    )
    assert send_outbound_message(message_id=fresh.pk) == SendOutcome.SENT
    sync_until_idle(mailbox)

    sent = {
        m["internet_message_id"]: m
        for m in microsoft_sandbox.folder_messages("sam@outlook.test", "sentitems")
    }
    reply.refresh_from_db()
    reply_copy = sent[reply.rfc_message_id]
    fresh_copy = sent[fresh.rfc_message_id]
    assert reply_copy["in_reply_to"] == question.rfc_message_id
    assert reply_copy["conversation_id"] == delivered["conversation_id"]
    assert fresh_copy["conversation_id"] != delivered["conversation_id"]
    assert reply.thread_id == question.thread_id
    assert Thread.objects.count() == 2
    assert Message.objects.count() == 3
