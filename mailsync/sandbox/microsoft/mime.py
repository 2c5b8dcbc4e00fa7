"""Messages to and from RFC 5322 MIME, for ``$value`` and MIME sends."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, parsedate_to_datetime

from mailsync.sandbox.microsoft.state import EmailAddress, Message

_UNFOLDED = policy.default.clone(max_line_length=998)


@dataclass
class ParsedAttachment:
    name: str
    content_type: str
    content: bytes
    is_inline: bool = False
    content_id: str | None = None


@dataclass
class ParsedMime:
    """The fields of a MIME message that Graph turns into properties."""

    subject: str = ""
    from_: EmailAddress | None = None
    sender: EmailAddress | None = None
    to: list[EmailAddress] = field(default_factory=list)
    cc: list[EmailAddress] = field(default_factory=list)
    bcc: list[EmailAddress] = field(default_factory=list)
    reply_to: list[EmailAddress] = field(default_factory=list)
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    sent: float | None = None
    text: str = ""
    html: str | None = None
    attachments: list[ParsedAttachment] = field(default_factory=list)
    custom_headers: list[dict[str, str]] = field(default_factory=list)


def parse_mime(raw: bytes) -> ParsedMime:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    parsed = ParsedMime(
        subject=str(message.get("Subject", "")),
        to=_addresses(message.get_all("To", [])),
        cc=_addresses(message.get_all("Cc", [])),
        bcc=_addresses(message.get_all("Bcc", [])),
        reply_to=_addresses(message.get_all("Reply-To", [])),
        message_id=_clean_id(message.get("Message-ID")),
        in_reply_to=_clean_id(message.get("In-Reply-To")),
        references=message_ids(str(message.get("References", ""))),
    )
    senders = _addresses(message.get_all("From", []))
    parsed.from_ = senders[0] if senders else None
    explicit_sender = _addresses(message.get_all("Sender", []))
    parsed.sender = explicit_sender[0] if explicit_sender else parsed.from_
    if message.get("Date"):
        try:
            parsed.sent = parsedate_to_datetime(str(message["Date"])).timestamp()
        except (TypeError, ValueError):
            parsed.sent = None
    parsed.custom_headers = [
        {"name": name, "value": str(value)}
        for name, value in message.items()
        if name.lower().startswith("x-")
    ]

    body = message.get_body(preferencelist=("html", "plain"))
    if body is not None and body.get_content_type() == "text/html":
        parsed.html = str(body.get_content())
        plain = message.get_body(preferencelist=("plain",))
        parsed.text = (
            str(plain.get_content()) if plain is not None else html_to_text(parsed.html)
        )
    elif body is not None:
        parsed.text = str(body.get_content())

    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        content_id = _clean_id(part.get("Content-ID"))
        parsed.attachments.append(
            ParsedAttachment(
                name=part.get_filename() or "attachment",
                content_type=part.get_content_type(),
                content=content,
                is_inline=part.get_content_disposition() == "inline",
                content_id=content_id.strip("<>") if content_id else None,
            )
        )
    return parsed


def build_mime(message: Message) -> bytes:
    """Render a stored message as Exchange's ``$value`` would."""
    if message.mime_b64 is not None:
        return base64.b64decode(message.mime_b64)

    mime = EmailMessage()
    if message.from_ is not None:
        mime["From"] = _header_address(message.from_)
    if message.sender is not None and message.sender != message.from_:
        mime["Sender"] = _header_address(message.sender)
    for name, recipients in (
        ("To", message.to),
        ("Cc", message.cc),
        ("Bcc", message.bcc),
        ("Reply-To", message.reply_to),
    ):
        if recipients:
            mime[name] = [_header_address(recipient) for recipient in recipients]
    mime["Subject"] = message.subject
    sent = message.sent or message.received
    mime["Date"] = format_datetime(datetime.fromtimestamp(sent, UTC))
    mime["Message-ID"] = message.internet_message_id
    if message.in_reply_to:
        mime["In-Reply-To"] = message.in_reply_to
    if message.references:
        mime["References"] = " ".join(message.references)
    mime["Thread-Index"] = message.conversation_index
    for custom in message.custom_headers:
        mime[custom["name"]] = custom["value"]

    mime.set_content(message.text_body or html_to_text(message.body))
    if message.body_type == "html":
        mime.add_alternative(message.body, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.name,
            disposition="inline" if attachment.is_inline else "attachment",
            cid=f"<{attachment.content_id}>" if attachment.content_id else None,
        )
    # Headers unfolded up to RFC 5322's hard limit, as Exchange writes them.
    return mime.as_bytes(policy=_UNFOLDED)


def mime_headers(message: Message) -> list[dict[str, str]]:
    """Return the transport headers of a message, as Graph lists them."""
    raw = build_mime(message)
    parsed = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    return [
        {"name": name, "value": str(value).strip()} for name, value in parsed.items()
    ]


def message_ids(text: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", text)


def html_to_text(markup: str) -> str:
    without_blocks = re.sub(r"(?is)<(script|style).*?</\1>", "", markup)
    with_breaks = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", without_blocks)
    return html.unescape(re.sub(r"<[^>]+>", "", with_breaks)).strip()


def text_to_html(text: str) -> str:
    return (
        "<html><body><div>"
        + html.escape(text).replace("\n", "<br>")
        + "</div></body></html>"
    )


def _addresses(values: list[object]) -> list[EmailAddress]:
    return [
        EmailAddress(address=address, name=name)
        for name, address in getaddresses([str(value) for value in values])
        if address
    ]


def _header_address(address: EmailAddress) -> Address:
    username, _, domain = address.address.partition("@")
    return Address(display_name=address.name, username=username, domain=domain)


def _clean_id(value: object) -> str | None:
    if value is None:
        return None
    found = message_ids(str(value))
    return found[0] if found else str(value).strip() or None
