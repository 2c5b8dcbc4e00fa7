"""Sending the outbox through each author's own mailbox, exactly once."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from conversations.models import Message, MessageLink, ThreadLink
from mailsync.errors import ProviderError
from mailsync.models import Mailbox
from mailsync.parsing import Address, build_message
from mailsync.providers.base import OutgoingEmail, SentEmail, provider_for
from mailsync.services.tokens import fresh_access_token

logger = logging.getLogger(__name__)

# A send still "sending" this long after it started was interrupted (the
# worker died); it may be taken up again, and the provider is asked first
# whether the interrupted try got through.
STALE_SEND = timedelta(minutes=2)
MAX_AUTOMATIC_ATTEMPTS = 5
# Graph takes attachments up to this size inside the message source; larger
# ones go through an upload session.
GRAPH_INLINE_ATTACHMENT_BYTES = 3 * 1024 * 1024


class SendOutcome:
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"


def sendable_message_ids() -> list[int]:
    """Queued messages, and sends a dead worker left half done."""
    now = timezone.now()
    return list(
        Message.objects.filter(direction=Message.Direction.OUTBOUND)
        .filter(
            Q(status=Message.Status.QUEUED)
            | Q(status=Message.Status.SENDING, send_started_at__lt=now - STALE_SEND)
        )
        .values_list("pk", flat=True)
    )


def claim_send(message_id: int) -> bool:
    """Take a queued (or interrupted) outbound message for sending."""
    now = timezone.now()
    claimed = (
        Message.objects.filter(pk=message_id, direction=Message.Direction.OUTBOUND)
        .filter(
            Q(status=Message.Status.QUEUED)
            | Q(status=Message.Status.SENDING, send_started_at__lt=now - STALE_SEND)
        )
        .update(
            status=Message.Status.SENDING,
            send_started_at=now,
            send_attempts=F("send_attempts") + 1,
        )
    )
    return claimed == 1


def send_outbound_message(*, message_id: int) -> str:
    """Send one outbox message; return a ``SendOutcome``."""
    if not claim_send(message_id):
        return SendOutcome.SKIPPED
    message = Message.objects.select_related("sending_mailbox", "thread").get(
        pk=message_id
    )
    mailbox = message.sending_mailbox
    if mailbox is None or not mailbox.is_current or not mailbox.is_connected:
        _fail(message, "Your mailbox is not connected. Reconnect it on My Profile.")
        return SendOutcome.FAILED

    try:
        sent = _send(message, mailbox)
    except ProviderError as error:
        if error.permanent or message.send_attempts >= MAX_AUTOMATIC_ATTEMPTS:
            _fail(message, error.reason)
            return SendOutcome.FAILED
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.QUEUED, failure_reason=error.reason[:500]
        )
        logger.warning(
            "send of message %s will be retried: %s", message.pk, error.reason
        )
        return SendOutcome.RETRY

    with transaction.atomic():
        MessageLink.objects.get_or_create(
            mailbox=mailbox,
            provider_message_id=sent.provider_message_id,
            defaults={
                "message": message,
                "provider_thread_id": sent.provider_thread_id,
            },
        )
        if sent.provider_thread_id:
            ThreadLink.objects.get_or_create(
                mailbox=mailbox,
                provider_thread_id=sent.provider_thread_id,
                defaults={"thread": message.thread},
            )
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.SENT, sent_at=timezone.now(), failure_reason=""
        )
    logger.info("message %s sent through mailbox %s", message.pk, mailbox.pk)
    return SendOutcome.SENT


def _send(message: Message, mailbox: Mailbox) -> SentEmail:
    email = _outgoing(message, mailbox)
    token = fresh_access_token(mailbox_id=mailbox.pk)
    try:
        return provider_for(mailbox.provider, token).send(
            email, attempt=message.send_attempts
        )
    except ProviderError as error:
        if not error.auth_expired:
            raise
    # The provider refused a token that looked valid (ended early, or on
    # its own clock): without a renewal every later try would fail the same
    # way. The second call counts as a later try, so whatever the first got
    # through (an Outlook draft) is found instead of made twice.
    token = fresh_access_token(mailbox_id=mailbox.pk, force=True)
    return provider_for(mailbox.provider, token).send(
        email, attempt=max(message.send_attempts, 2)
    )


def _fail(message: Message, reason: str) -> None:
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.FAILED, failure_reason=reason[:500]
    )
    logger.warning("send of message %s failed", message.pk)


def _outgoing(message: Message, mailbox: Mailbox) -> OutgoingEmail:
    inline: list[tuple[str, str, bytes]] = []
    large: list[tuple[str, str, bytes]] = []
    for attachment in message.attachments.all():
        with default_storage.open(attachment.upload.name, "rb") as handle:
            content = handle.read()
        item = (attachment.filename, attachment.content_type, content)
        too_big_for_graph = (
            mailbox.provider == Mailbox.Provider.OUTLOOK
            and len(content) > GRAPH_INLINE_ATTACHMENT_BYTES
        )
        (large if too_big_for_graph else inline).append(item)

    raw = build_message(
        sender=Address(mailbox.address, message.sender_name),
        to=_addresses(message.to),
        cc=_addresses(message.cc),
        bcc=_addresses(message.bcc),
        include_bcc=True,
        subject=message.subject,
        text_body=message.text_body,
        html_body=message.html_body or None,
        message_id=message.rfc_message_id,
        in_reply_to=message.in_reply_to,
        references=list(message.references),
        attachments=inline,
        date=message.created_at,
    )
    thread_link = ThreadLink.objects.filter(
        thread_id=message.thread_id, mailbox=mailbox
    ).first()
    return OutgoingEmail(
        raw=raw,
        message_id=message.rfc_message_id,
        provider_thread_id=thread_link.provider_thread_id if thread_link else "",
        large_attachments=large,
    )


def _addresses(people: list[dict[str, str]]) -> list[Address]:
    return [Address(person["address"], person.get("name", "")) for person in people]
