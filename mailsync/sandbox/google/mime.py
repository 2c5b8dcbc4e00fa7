"""RFC 822 messages as Gmail shows them: payload trees, snippets, addresses.

Gmail keeps each message as the bytes it received and derives everything
else from them; so does the sandbox. The payload tree numbers its parts as
Gmail does ("" for the root, then "0", "1", "0.1", ...), hands text bodies
inline as base64url and names attachments by an ``attachmentId``.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.errors
import email.header
import email.policy
import html
import re
import secrets
from collections.abc import Iterator
from email.message import EmailMessage
from email.message import Message as MimeMessage
from email.utils import formatdate, getaddresses, make_msgid, parsedate_to_datetime
from typing import Any

SNIPPET_LENGTH = 200

_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv|tr)\s*(\[\d+\])?\s*:\s*)+", re.I)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_FOLD = re.compile(r"\r?\n[ \t]+")


def parse_mime(raw: bytes) -> MimeMessage:
    # compat32 keeps header values exactly as sent, which is what Gmail
    # returns in payload.headers.
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; ValueError when invalid."""
    text = text.strip()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("invalid base64url") from error


def normalise_subject(subject: str) -> str:
    """The subject without reply and forward prefixes, for threading."""
    return _SPACE.sub(" ", _REPLY_PREFIX.sub("", subject)).strip().lower()


def decoded_header(message: MimeMessage, name: str) -> str:
    """A header with RFC 2047 encoded words decoded, for matching."""
    value = message.get(name)
    if value is None:
        return ""
    text = unfold(str(value))
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except (UnicodeDecodeError, LookupError, email.errors.HeaderParseError):
        return text


def unfold(value: str) -> str:
    """A header value on one line, as RFC 5322 unfolding gives it."""
    return _FOLD.sub(" ", value).strip()


def addresses(message: MimeMessage, *names: str) -> list[str]:
    """Lower-cased addresses found in the given address headers."""
    values = [str(value) for name in names for value in message.get_all(name, [])]
    return [address.lower() for _, address in getaddresses(values) if address]


def message_ids(value: str) -> list[str]:
    """The <...> ids of a Message-ID, In-Reply-To or References header."""
    return re.findall(r"<[^<>\s]+>", value)


def header_date_ms(message: MimeMessage) -> int | None:
    value = message.get("Date")
    if not value:
        return None
    try:
        return int(parsedate_to_datetime(str(value)).timestamp() * 1000)
    except (TypeError, ValueError, IndexError):
        return None


def text_of(message: MimeMessage) -> str:
    """The message's readable text: its plain part, else its stripped HTML."""
    plain = html_text = ""
    for part in message.walk():
        if part.is_multipart() or is_attachment(part):
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain" and not plain:
            plain = _decode_text(part)
        elif content_type == "text/html" and not html_text:
            html_text = html.unescape(_TAG.sub(" ", _decode_text(part)))
    return plain or html_text


def snippet_of(message: MimeMessage) -> str:
    # Gmail's snippets are HTML-escaped plain text.
    text = _SPACE.sub(" ", text_of(message)).strip()[:SNIPPET_LENGTH]
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def is_attachment(part: MimeMessage) -> bool:
    if part.is_multipart():
        return False
    if part.get_filename():
        return True
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip()
    return disposition.lower() == "attachment"


def has_attachment(message: MimeMessage) -> bool:
    return any(is_attachment(part) for part in message.walk())


def _decode_text(part: MimeMessage) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _headers(part: MimeMessage) -> list[dict[str, str]]:
    return [{"name": name, "value": str(value)} for name, value in part.items()]


def attachment_id(message_id: str, part_id: str) -> str:
    # Gmail's attachment ids are long opaque strings; this one carries what
    # it needs to find the part again.
    return "ANGjdJ" + b64url_encode(f"{message_id}:{part_id}".encode()).rstrip("=")


def parse_attachment_id(value: str) -> tuple[str, str] | None:
    if not value.startswith("ANGjdJ"):
        return None
    try:
        message_id, _, part_id = b64url_decode(value[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return message_id, part_id


def payload_tree(
    message_id: str, part: MimeMessage, part_id: str = ""
) -> dict[str, Any]:
    """The ``MessagePart`` of the discovery document for ``part``."""
    tree: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": _headers(part),
    }
    if part.is_multipart():
        tree["body"] = {"size": 0}
        children = part.get_payload()
        assert isinstance(children, list)
        tree["parts"] = [
            payload_tree(message_id, child, _child_id(part_id, index))
            for index, child in enumerate(children)
        ]
        return tree

    data = part.get_payload(decode=True)
    data = data if isinstance(data, bytes) else b""
    if is_attachment(part):
        tree["body"] = {
            "size": len(data),
            "attachmentId": attachment_id(message_id, part_id),
        }
    else:
        tree["body"] = (
            {"size": len(data), "data": b64url_encode(data)} if data else {"size": 0}
        )
    return tree


def metadata_payload(part: MimeMessage, header_names: list[str]) -> dict[str, Any]:
    wanted = {name.lower() for name in header_names}
    headers = [
        header
        for header in _headers(part)
        if not wanted or header["name"].lower() in wanted
    ]
    return {
        "partId": "",
        "mimeType": part.get_content_type(),
        "filename": "",
        "headers": headers,
    }


def find_part(message: MimeMessage, part_id: str) -> MimeMessage | None:
    for candidate_id, part in _numbered_parts(message, ""):
        if candidate_id == part_id:
            return part
    return None


def _numbered_parts(
    part: MimeMessage, part_id: str
) -> Iterator[tuple[str, MimeMessage]]:
    yield part_id, part
    if part.is_multipart():
        children = part.get_payload()
        assert isinstance(children, list)
        for index, child in enumerate(children):
            yield from _numbered_parts(child, _child_id(part_id, index))


def _child_id(parent_id: str, index: int) -> str:
    return str(index) if not parent_id else f"{parent_id}.{index}"


def compose(
    *,
    sender: str,
    to: list[str],
    cc: list[str],
    subject: str,
    text: str | None,
    html_body: str | None,
    attachments: list[dict[str, Any]],
    in_reply_to: str = "",
    references: str = "",
    date: float | None = None,
    domain: str = "sandbox.example",
) -> bytes:
    """Build the RFC 822 bytes of a message an outside contact sends."""
    message = EmailMessage()
    message["From"] = sender
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = formatdate(date, localtime=False)
    message["Message-ID"] = make_msgid(idstring=secrets.token_hex(4), domain=domain)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = references or in_reply_to

    if text is not None or html_body is None:
        message.set_content(text or "")
    if html_body is not None:
        if text is not None:
            message.add_alternative(html_body, subtype="html")
        else:
            message.set_content(html_body, subtype="html")
    for attachment in attachments:
        content = attachment.get("data")
        data = (
            base64.b64decode(content)
            if content
            else str(attachment.get("text", "")).encode()
        )
        maintype, _, subtype = str(
            attachment.get("content_type", "application/octet-stream")
        ).partition("/")
        message.add_attachment(
            data, maintype=maintype, subtype=subtype, filename=attachment["filename"]
        )
    return message.as_bytes()
