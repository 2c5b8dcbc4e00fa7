"""Writing a message's properties from a Graph request body.

Used by draft creation, PATCH, ``sendMail`` and replies. On a draft every
writable property can change; on a sent or received message only the
flags a person can set in Outlook (read state, categories, importance).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from mailsync.sandbox.microsoft.api import field_of, recipient_of, recipients_of
from mailsync.sandbox.microsoft.errors import GraphError, bad_request
from mailsync.sandbox.microsoft.exchange import Exchange
from mailsync.sandbox.microsoft.mime import html_to_text
from mailsync.sandbox.microsoft.state import Message, User

# Exchange refuses inline attachments of 3 MB or more: larger files go
# through an upload session.
MAX_INLINE_ATTACHMENT = 3 * 1024 * 1024

_ANY_MESSAGE = {"isread", "categories", "importance", "flag", "inferenceclassification"}
_DRAFT_ONLY = {
    "subject",
    "body",
    "torecipients",
    "ccrecipients",
    "bccrecipients",
    "replyto",
    "from",
    "sender",
    "internetmessageheaders",
    "attachments",
}


def apply_fields(
    exchange: Exchange, user: User, message: Message, body: dict[str, Any]
) -> None:
    """Write ``body``'s properties onto ``message``, as Graph would."""
    for key in body:
        name = key.lower()
        if name.startswith("@odata") or name in _ANY_MESSAGE:
            continue
        if name in _DRAFT_ONLY:
            if not message.is_draft:
                raise GraphError(
                    400,
                    "ErrorInvalidPropertyUpdateSentMessage",
                    "Update operation is not supported for some of the properties "
                    "of a message that has been sent.",
                )
            continue
        if name in ("id", "conversationid", "internetmessageid", "parentfolderid"):
            raise bad_request(f"The property '{key}' is read-only.")

    if (subject := field_of(body, "subject")) is not None:
        message.subject = str(subject)
    content = field_of(body, "body")
    if isinstance(content, dict):
        message.body_type = str(field_of(content, "contentType", "text")).lower()
        if message.body_type not in ("text", "html"):
            raise bad_request(f"Invalid body content type '{message.body_type}'.")
        message.body = str(field_of(content, "content", "") or "")
        message.text_body = (
            html_to_text(message.body) if message.body_type == "html" else message.body
        )
    for name, attribute in (
        ("toRecipients", "to"),
        ("ccRecipients", "cc"),
        ("bccRecipients", "bcc"),
        ("replyTo", "reply_to"),
    ):
        recipients = recipients_of(body, name)
        if recipients is not None:
            setattr(message, attribute, recipients)
    if (sender := field_of(body, "from")) is not None:
        message.from_ = recipient_of(sender, "from")
        message.sender = message.from_
    headers = field_of(body, "internetMessageHeaders")
    if headers is not None:
        message.custom_headers = custom_headers(headers)
    for attachment in field_of(body, "attachments", None) or []:
        add_file_attachment(exchange, message, attachment)

    if (is_read := field_of(body, "isRead")) is not None:
        message.is_read = bool(is_read)
    if (categories := field_of(body, "categories")) is not None:
        message.categories = [str(category) for category in categories]
    if (importance := field_of(body, "importance")) is not None:
        message.importance = str(importance).lower()


def custom_headers(raw: Any) -> list[dict[str, str]]:
    """Validate ``internetMessageHeaders``: Graph takes only ``x-`` headers."""
    if not isinstance(raw, list):
        raise bad_request("The property 'internetMessageHeaders' must be a collection.")
    headers = []
    for item in raw:
        name = str(field_of(item, "name", "")) if isinstance(item, dict) else ""
        value = str(field_of(item, "value", "")) if isinstance(item, dict) else ""
        if not name.lower().startswith("x-"):
            raise GraphError(
                400,
                "InvalidInternetMessageHeader",
                f"The internet message header name '{name}' should start with "
                "'x-' or 'X-'.",
            )
        if "\n" in value or "\r" in value:
            raise GraphError(
                400,
                "InvalidInternetMessageHeader",
                f"The value of the internet message header '{name}' is not valid.",
            )
        headers.append({"name": name, "value": value})
    return headers


def add_file_attachment(
    exchange: Exchange, message: Message, raw: dict[str, Any]
) -> dict[str, Any]:
    """Attach a ``fileAttachment`` given inline as base64 ``contentBytes``."""
    kind = str(field_of(raw, "@odata.type", "")).lower()
    if kind != "#microsoft.graph.fileattachment":
        raise bad_request(
            "Only '#microsoft.graph.fileAttachment' attachments are supported "
            "by the sandbox.",
        )
    try:
        content = base64.b64decode(
            str(field_of(raw, "contentBytes", "")), validate=True
        )
    except (binascii.Error, ValueError) as error:
        raise bad_request(
            "The attachment's contentBytes is not valid base64."
        ) from error
    if len(content) >= MAX_INLINE_ATTACHMENT:
        raise GraphError(
            413,
            "ErrorAttachmentSizeLimitExceeded",
            "The attachment is 3 MB or larger: add it through an upload session.",
        )
    attachment = exchange.add_attachment(
        message,
        name=str(field_of(raw, "name", "attachment")),
        content_type=str(
            field_of(raw, "contentType", "") or "application/octet-stream"
        ),
        content=content,
        is_inline=bool(field_of(raw, "isInline", False)),
        content_id=field_of(raw, "contentId"),
    )
    return {"id": attachment.id}
