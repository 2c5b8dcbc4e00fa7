"""The Conversations pages need the Conversations permission; threads,
messages and files are the account's, and show only what their mailbox
owners share (here the Admin's mailbox shares everything).

The contact record's Conversations tab (``contacts:conversations``, in
tests/access/contacts.py) needs both Contacts and Conversations.
"""

from __future__ import annotations

from typing import Any

from conversations.models import Attachment, Message
from mailsync.models import Mailbox
from tests.access import REDIRECT, WITH, Entry, World
from tests.contacts.factories import ContactFactory
from tests.conversations.factories import MailboxFactory, outbound, thread_with

CONVERSATIONS = "accounts.access_conversations"


def _admins_mailbox(world: World) -> Mailbox:
    current = Mailbox.objects.filter(employee=world.admin, is_current=True).first()
    return current or MailboxFactory(employee=world.admin)


def _admins_thread(world: World, **fields: Any) -> Message:
    mailbox = _admins_mailbox(world)
    thread = thread_with(ContactFactory(account=world.account), mailbox, **fields)
    return thread.messages.get()


def thread(world: World) -> dict[str, Any]:
    return {"thread_id": _admins_thread(world).thread_id}


def contact(world: World) -> dict[str, Any]:
    return {"contact_id": ContactFactory(account=world.account).pk}


def html_message(world: World) -> dict[str, Any]:
    return {"message_id": _admins_thread(world, html_body="<p>Hi</p>").pk}


def message(world: World) -> dict[str, Any]:
    return {"message_id": _admins_thread(world).pk}


def admins_failed_message(world: World) -> dict[str, Any]:
    received = _admins_thread(world)
    failed = outbound(
        received.thread,
        _admins_mailbox(world),
        world.admin,
        status=Message.Status.FAILED,
    )
    return {"message_id": failed.pk}


def attachment(world: World) -> dict[str, Any]:
    received = _admins_thread(world)
    stored = Attachment.objects.create(
        message=received, filename="plan.pdf", part_path="2"
    )
    return {"attachment_id": stored.pk}


ENTRIES = [
    Entry("conversations:inbox", CONVERSATIONS),
    Entry("conversations:inbox_updates", CONVERSATIONS),
    Entry("conversations:thread", CONVERSATIONS, kwargs=thread),
    Entry("conversations:thread_updates", CONVERSATIONS, kwargs=thread),
    # Without ?before= there is nothing earlier to give.
    Entry("conversations:thread_earlier", CONVERSATIONS, kwargs=thread, status=204),
    # Nobody here has a connected mailbox: the composer comes back refused.
    Entry("conversations:write", CONVERSATIONS, kwargs=contact, method="post"),
    Entry("conversations:message_body", CONVERSATIONS, kwargs=html_message),
    Entry("conversations:reply", CONVERSATIONS, kwargs=message),
    # Only the author retries their failed email; for a teammate it is not
    # theirs to find.
    Entry(
        "conversations:retry",
        CONVERSATIONS,
        kwargs=admins_failed_message,
        method="post",
        status=302,
        expect={WITH: 404},
    ),
    # The Admin's mailbox has no tokens here, so the download ends in a
    # redirect back to the thread with the reason; access is what counts.
    Entry(
        "conversations:attachment", CONVERSATIONS, kwargs=attachment, status=REDIRECT
    ),
    Entry(
        "conversations:sharing", "accounts.access_settings", method="post", status=302
    ),
]
