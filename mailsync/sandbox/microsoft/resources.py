"""Graph's JSON representations of users, folders, messages, attachments.

Each ``*_resource`` function returns every property the type has; the
``DEFAULT_*`` tuples list what Graph returns when ``$select`` is absent
(``proxyAddresses`` and ``internetMessageHeaders``, for example, only come
when selected).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from mailsync.sandbox.microsoft.mime import mime_headers, text_to_html
from mailsync.sandbox.microsoft.odata import Preferences
from mailsync.sandbox.microsoft.state import (
    Attachment,
    EmailAddress,
    Folder,
    Message,
    User,
    iso,
)

DEFAULT_USER_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
)

DEFAULT_FOLDER_PROPERTIES = (
    "displayName",
    "parentFolderId",
    "childFolderCount",
    "unreadItemCount",
    "totalItemCount",
    "sizeInBytes",
    "isHidden",
)

DEFAULT_MESSAGE_PROPERTIES = (
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "receivedDateTime",
    "sentDateTime",
    "hasAttachments",
    "internetMessageId",
    "subject",
    "bodyPreview",
    "importance",
    "parentFolderId",
    "conversationId",
    "conversationIndex",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "isRead",
    "isDraft",
    "webLink",
    "inferenceClassification",
    "body",
    "sender",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "flag",
)


def user_resource(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": user.given_name or None,
        "jobTitle": None,
        "mail": user.address,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": user.surname or None,
        "userPrincipalName": user.address,
        "mailNickname": user.mail_nickname,
        "proxyAddresses": list(user.proxy_addresses),
        "companyName": None,
        "accountEnabled": True,
        "otherMails": [],
    }


def folder_resource(
    folder: Folder, children: int, messages: list[Message]
) -> dict[str, Any]:
    return {
        "id": folder.id,
        "displayName": folder.display_name,
        "parentFolderId": folder.parent_id,
        "childFolderCount": children,
        "unreadItemCount": sum(1 for message in messages if not message.is_read),
        "totalItemCount": len(messages),
        "sizeInBytes": sum(len(message.body) for message in messages),
        "isHidden": folder.is_hidden,
    }


def message_id(message: Message, preferences: Preferences) -> str:
    return message.immutable_id if preferences.immutable_ids else message.rest_id


def message_resource(
    message: Message, preferences: Preferences, select: list[str] | None = None
) -> dict[str, Any]:
    """Return the message; its headers are rendered only when selected."""
    wants_headers = select is not None and any(
        name.lower() == "internetmessageheaders" for name in select
    )
    item_id = message_id(message, preferences)
    content_type, content = _body(message, preferences)
    return {
        "@odata.type": "#microsoft.graph.message",
        "@odata.etag": f'W/"{message.change_key}"',
        "id": item_id,
        "createdDateTime": iso(message.created),
        "lastModifiedDateTime": iso(message.modified),
        "changeKey": message.change_key,
        "categories": list(message.categories),
        "receivedDateTime": iso(message.received),
        "sentDateTime": iso(message.sent) if message.sent is not None else None,
        "hasAttachments": any(not item.is_inline for item in message.attachments),
        "internetMessageId": message.internet_message_id,
        "subject": message.subject,
        "bodyPreview": _preview(message.text_body),
        "importance": message.importance,
        "parentFolderId": message.folder_id,
        "conversationId": message.conversation_id,
        "conversationIndex": message.conversation_index,
        "isDeliveryReceiptRequested": False,
        "isReadReceiptRequested": False,
        "isRead": message.is_read,
        "isDraft": message.is_draft,
        "webLink": (
            "https://outlook.office365.com/owa/?ItemID="
            + quote(item_id, safe="")
            + "&exvsurl=1&viewmodel=ReadMessageItem"
        ),
        "inferenceClassification": "focused",
        "body": {"contentType": content_type, "content": content},
        "uniqueBody": {"contentType": content_type, "content": content},
        "sender": _recipient(message.sender),
        "from": _recipient(message.from_),
        "toRecipients": [_recipient(item) for item in message.to],
        "ccRecipients": [_recipient(item) for item in message.cc],
        "bccRecipients": [_recipient(item) for item in message.bcc],
        "replyTo": [_recipient(item) for item in message.reply_to],
        "flag": {"flagStatus": "notFlagged"},
        "internetMessageHeaders": _headers(message) if wants_headers else None,
    }


def attachment_resource(attachment: Attachment) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "@odata.mediaContentType": attachment.content_type,
        "id": attachment.id,
        "lastModifiedDateTime": iso(attachment.last_modified),
        "name": attachment.name,
        "contentType": attachment.content_type,
        "size": attachment.size,
        "isInline": attachment.is_inline,
        "contentId": attachment.content_id,
        "contentLocation": None,
        "contentBytes": attachment.content_b64,
    }


def _recipient(address: EmailAddress | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "emailAddress": {
            "name": address.name or address.address,
            "address": address.address,
        }
    }


def _body(message: Message, preferences: Preferences) -> tuple[str, str]:
    wanted = preferences.body_content_type or message.body_type
    if wanted == message.body_type:
        return message.body_type, message.body
    if wanted == "text":
        return "text", message.text_body
    return "html", text_to_html(message.body)


def _preview(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:255]


def _headers(message: Message) -> list[dict[str, str]]:
    # A draft has only the custom headers set on it; a sent or received
    # message shows its transport headers.
    if message.is_draft:
        return [dict(header) for header in message.custom_headers]
    return mime_headers(message)
