"""django-q2 tasks of the mail sync.

Each takes ids, loads rows and calls a service; each can run twice without
harm. Failures are logged here, at the task boundary.
"""

from __future__ import annotations

import logging

from django_q.tasks import async_task

from mailsync.services.sending import send_outbound_message, sendable_message_ids
from mailsync.services.sync import due_mailbox_ids, sync_mailbox
from mailsync.services.tokens import refresh_expiring_tokens

logger = logging.getLogger(__name__)


def sync_due_mailboxes() -> int:
    """Every minute: start a sync task for each mailbox that is due."""
    mailbox_ids = due_mailbox_ids()
    for mailbox_id in mailbox_ids:
        async_task(
            "mailsync.tasks.sync_one_mailbox",
            mailbox_id,
            task_name=f"sync mailbox {mailbox_id}",
        )
    return len(mailbox_ids)


def sync_one_mailbox(mailbox_id: int) -> bool:
    """Sync for a short while; a long import continues in a new task."""
    try:
        outcome = sync_mailbox(mailbox_id=mailbox_id)
    except Exception:
        logger.exception("sync of mailbox %s crashed", mailbox_id)
        raise
    if outcome.more:
        async_task("mailsync.tasks.sync_one_mailbox", mailbox_id)
    return outcome.ran


def send_message(message_id: int) -> str:
    try:
        outcome = send_outbound_message(message_id=message_id)
    except Exception:
        logger.exception("send of message %s crashed", message_id)
        raise
    return outcome


def dispatch_outbox() -> int:
    """Every minute: (re)send queued messages and interrupted sends."""
    message_ids = sendable_message_ids()
    for message_id in message_ids:
        async_task("mailsync.tasks.send_message", message_id)
    return len(message_ids)


def refresh_tokens() -> int:
    """Renew access tokens that expire within the next quarter hour."""
    try:
        return refresh_expiring_tokens()
    except Exception:
        logger.exception("the scheduled token refresh crashed")
        raise
