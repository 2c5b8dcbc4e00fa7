"""Attachment downloads: fetched from the provider when someone asks.

Only the attachments' descriptions are stored; their content stays in the
mailboxes that hold the message until a reader downloads one. Files of
mail written in the CRM are kept by the CRM itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.files.storage import default_storage

from conversations.models import Attachment, MessageLink
from mailsync.errors import ProviderError
from mailsync.parsing import extract_part
from mailsync.providers.base import provider_for
from mailsync.services.tokens import fresh_access_token

logger = logging.getLogger(__name__)


class AttachmentUnavailable(Exception):
    """No mailbox could give the attachment; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AttachmentContent:
    content: bytes
    content_type: str


def fetch_attachment(*, attachment: Attachment, reader_id: int) -> AttachmentContent:
    """The attachment's content, from the CRM's store or a mailbox.

    The reader's own mailbox is asked first, then the other connected
    mailboxes that hold the message. Raise ``AttachmentUnavailable`` when
    none can give it.
    """
    if attachment.upload:
        with default_storage.open(attachment.upload.name, "rb") as handle:
            return AttachmentContent(handle.read(), attachment.content_type)
    if not attachment.part_path:
        raise AttachmentUnavailable("This attachment was not kept.")

    links = sorted(
        MessageLink.objects.filter(
            message_id=attachment.message_id, deleted_in_provider_at__isnull=True
        ).select_related("mailbox"),
        key=lambda link: (link.mailbox.employee_id != reader_id, link.pk),
    )
    reason = "No connected mailbox holds this message any more."
    for link in links:
        mailbox = link.mailbox
        if not mailbox.is_connected:
            continue
        try:
            token = fresh_access_token(mailbox_id=mailbox.pk)
            raw = provider_for(mailbox.provider, token).fetch_raw(
                link.provider_message_id
            )
            content, content_type, _ = extract_part(raw, attachment.part_path)
        except ProviderError as error:
            logger.warning(
                "attachment %s not fetched from mailbox %s: %s",
                attachment.pk,
                mailbox.pk,
                error.reason,
            )
            reason = f"The mailbox could not give the file: {error.reason}"
            continue
        except KeyError:
            reason = "The message at the provider no longer has this file."
            continue
        return AttachmentContent(content, content_type)
    raise AttachmentUnavailable(reason)
