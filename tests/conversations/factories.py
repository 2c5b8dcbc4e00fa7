"""Rows of conversations for page tests: mailboxes, threads and messages
made directly, without a sync."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import factory
from django.utils import timezone

from accounts.models import User
from contacts.models import Contact
from conversations.models import Message, MessageLink, Thread, ThreadContact, ThreadLink
from conversations.sanitize import has_remote_images
from conversations.services import refresh_thread_summaries
from mailsync.models import Mailbox


class MailboxFactory(factory.django.DjangoModelFactory):
    """A connected mailbox row (no tokens: pages never call the provider)."""

    class Meta:
        model = Mailbox

    employee = factory.SubFactory("tests.factories.EmployeeFactory")
    account = factory.LazyAttribute(lambda mailbox: mailbox.employee.account)
    provider = Mailbox.Provider.GMAIL
    address = factory.LazyAttribute(
        lambda mailbox: f"mailbox{mailbox.employee.pk}@gmail.test"
    )
    state = Mailbox.State.ACTIVE


class ThreadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Thread

    subject = factory.Sequence(lambda n: f"Thread {n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    thread = factory.SubFactory(ThreadFactory)
    account = factory.LazyAttribute(lambda message: message.thread.account)
    rfc_message_id = factory.Sequence(lambda n: f"<m{n}@client.example>")
    subject = factory.LazyAttribute(lambda message: message.thread.subject)
    sent_at = factory.LazyFunction(timezone.now)
    sender_address = "carol@client.example"
    sender_name = "Carol Client"
    to = factory.LazyFunction(lambda: [{"address": "sam@gmail.test", "name": "Sam"}])
    text_body = "Hello from Carol."
    html_body = ""
    # As the sync stores it.
    has_remote_images = factory.LazyAttribute(
        lambda message: has_remote_images(message.html_body)
    )


def thread_with(
    contact: Contact,
    mailbox: Mailbox,
    *,
    messages: int = 1,
    subject: str = "Our proposal",
    start: datetime | None = None,
    **fields: Any,
) -> Thread:
    """A thread on ``contact``'s timeline, its messages held by ``mailbox``."""
    thread = ThreadFactory(account=contact.account, subject=subject)
    ThreadContact.objects.create(thread=thread, contact=contact)
    ThreadLink.objects.create(
        thread=thread, mailbox=mailbox, provider_thread_id=f"t{thread.pk}"
    )
    start = start or timezone.now() - timedelta(days=1)
    for index in range(messages):
        add_message(thread, mailbox, sent_at=start + timedelta(minutes=index), **fields)
    return thread


def add_message(thread: Thread, mailbox: Mailbox, **fields: Any) -> Message:
    """A message of ``thread``, held by ``mailbox``; summaries refreshed."""
    message = MessageFactory(thread=thread, **fields)
    MessageLink.objects.create(
        message=message,
        mailbox=mailbox,
        provider_message_id=f"p{message.pk}",
        provider_thread_id=f"t{thread.pk}",
    )
    refresh_thread_summaries({thread.pk})
    return message


def add_messages(thread: Thread, mailbox: Mailbox, count: int) -> None:
    """Many messages at once, for tests of large threads."""
    now = timezone.now()
    first = Message.objects.count()
    created = Message.objects.bulk_create(
        [
            Message(
                account_id=thread.account_id,
                thread=thread,
                rfc_message_id=f"<bulk{first + index}.{thread.pk}@client.example>",
                subject=thread.subject,
                sent_at=now - timedelta(minutes=count - index),
                sender_address="carol@client.example",
                to=[{"address": mailbox.address, "name": ""}],
                text_body=f"Message {index}",
            )
            for index in range(count)
        ]
    )
    MessageLink.objects.bulk_create(
        [
            MessageLink(
                message=message,
                mailbox=mailbox,
                provider_message_id=f"bulk{message.pk}",
            )
            for message in created
        ]
    )
    refresh_thread_summaries({thread.pk})


def outbound(thread: Thread, mailbox: Mailbox, author: User, **fields: Any) -> Message:
    """Mail written in the CRM by ``author`` (not yet sent: no link)."""
    defaults: dict[str, Any] = {
        "direction": Message.Direction.OUTBOUND,
        "status": Message.Status.QUEUED,
        "sender_address": mailbox.address,
        "sender_name": author.full_name,
        "to": [{"address": "carol@client.example", "name": "Carol"}],
        "sent_at": None,
        "author": author,
        "sending_mailbox": mailbox,
    }
    message = MessageFactory(thread=thread, **{**defaults, **fields})
    refresh_thread_summaries({thread.pk})
    return message
