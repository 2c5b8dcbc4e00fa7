"""Adding mail: ``messages.send``, ``insert`` and ``import``, as JSON or
through the media upload URLs, and delivery between sandbox mailboxes.

A sent message lands in the sender's SENT once and in the INBOX of each
recipient that is a sandbox Google account; mail to anyone else is noted
in the outbound list the control surface shows.
"""

from __future__ import annotations

from email.utils import formataddr, formatdate, getaddresses, make_msgid
from typing import Any

from mailsync.sandbox.google import errors
from mailsync.sandbox.google.api import GmailCall
from mailsync.sandbox.google.mailbox import add_message, thread_messages
from mailsync.sandbox.google.mime import (
    addresses,
    b64url_decode,
    decoded_header,
    header_date_ms,
    parse_mime,
)
from mailsync.sandbox.google.multipart import boundary_of, split_multipart
from mailsync.sandbox.google.state import (
    GoogleState,
    Mailbox,
    OutboundMessage,
    StoredMessage,
)

INBOUND_LABELS = ("INBOX", "UNREAD", "CATEGORY_PERSONAL")
MAX_RECIPIENTS = 100


def send_message(call: GmailCall) -> dict[str, Any]:
    raw, metadata = _message_of(call)
    sent = send(
        call.state,
        call.mailbox,
        raw,
        thread_id=metadata.get("threadId") or None,
        now=call.now,
    )
    return _added(sent)


def insert_message(call: GmailCall) -> dict[str, Any]:
    return _add_to_own_mailbox(call, default_date_source="receivedTime")


def import_message(call: GmailCall) -> dict[str, Any]:
    return _add_to_own_mailbox(call, default_date_source="dateHeader")


def _add_to_own_mailbox(call: GmailCall, *, default_date_source: str) -> dict[str, Any]:
    raw, metadata = _message_of(call)
    source = call.param("internalDateSource", default_date_source)
    if source not in ("receivedTime", "dateHeader"):
        raise errors.bad_request(f"Invalid value at 'internal_date_source' ({source})")
    internal_date = header_date_ms(parse_mime(raw)) if source == "dateHeader" else None
    message = add_message(
        call.mailbox,
        raw,
        label_ids=metadata.get("labelIds", []),
        now=call.now,
        internal_date=internal_date,
        thread_id=metadata.get("threadId") or None,
    )
    return _added(message)


def _added(message: StoredMessage) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": message.id, "threadId": message.thread_id}
    if message.label_ids:
        answer["labelIds"] = list(message.label_ids)
    return answer


def _message_of(call: GmailCall) -> tuple[bytes, dict[str, Any]]:
    """The RFC 822 bytes and the Message metadata of an add or send call."""
    if not call.request.path.startswith("/upload/"):
        metadata = call.json()
        raw = metadata.get("raw")
        if not raw:
            raise errors.bad_request(
                "'raw' RFC822 payload message string or uploading message via"
                " /upload/* URL required"
            )
        return _decode_raw(raw), metadata

    upload_type = call.param("uploadType")
    content_type = call.request.headers.get("Content-Type", "")
    if upload_type == "media":
        return call.body, {}
    if upload_type == "multipart":
        boundary = boundary_of(content_type)
        if boundary is None:
            raise errors.bad_request("Multipart upload needs a multipart/related body")
        try:
            parts = split_multipart(call.body, boundary)
        except ValueError as error:
            raise errors.bad_request("Malformed multipart body") from error
        if len(parts) != 2:
            raise errors.bad_request("Multipart upload needs metadata and media parts")
        call.body = parts[0].body
        return parts[1].body, call.json()
    raise errors.bad_request(f"Invalid uploadType {upload_type!r}")


def _decode_raw(raw: str) -> bytes:
    try:
        return b64url_decode(raw)
    except ValueError as error:
        raise errors.bad_request("Invalid value for ByteString") from error


def send(
    state: GoogleState,
    mailbox: Mailbox,
    raw: bytes,
    *,
    thread_id: str | None,
    now: float,
) -> StoredMessage:
    """Send as ``mailbox``: keep a SENT copy and deliver to the recipients."""
    raw = _prepare_outgoing(mailbox, raw, now)
    mime = parse_mime(raw)
    recipients = list(dict.fromkeys(addresses(mime, "To", "Cc", "Bcc")))
    if not recipients:
        raise errors.bad_request("Recipient address required", reason="invalidArgument")
    if len(recipients) > MAX_RECIPIENTS:
        raise errors.bad_request("Too many recipients", reason="invalidArgument")
    if thread_id is not None and not thread_messages(mailbox, thread_id):
        raise errors.not_found()

    # A message to oneself is one message, in SENT and INBOX at once.
    own = mailbox.addresses()
    labels = ["SENT"] + (["INBOX"] if own & set(recipients) else [])
    sent = add_message(mailbox, raw, label_ids=labels, now=now, thread_id=thread_id)

    delivered_to = {mailbox.address}
    outside: list[str] = []
    copy = _without_bcc(raw)
    for address in recipients:
        recipient = state.mailbox_for(address)
        if recipient is None:
            outside.append(address)
            continue
        if recipient.address in delivered_to:
            continue
        delivered_to.add(recipient.address)
        add_message(recipient, copy, label_ids=INBOUND_LABELS, now=now)

    if outside:
        state.outbound.append(
            OutboundMessage(
                sender=mailbox.address,
                recipients=outside,
                message_id=sent.id,
                rfc822_message_id=sent.header("Message-ID").strip(),
                subject=decoded_header(mime, "Subject"),
                at=now,
            )
        )
    return sent


def deliver(
    state: GoogleState,
    raw: bytes,
    *,
    now: float,
    labels: list[str] | None = None,
    only_to: list[str] | None = None,
    thread_ids: dict[str, str] | None = None,
) -> list[tuple[Mailbox, StoredMessage]]:
    """Deliver mail from outside to every sandbox recipient (or to
    ``only_to``), as Gmail's SMTP intake would."""
    mime = parse_mime(raw)
    targets = only_to or addresses(mime, "To", "Cc", "Bcc", "Delivered-To")
    copy = _without_bcc(raw)
    delivered: list[tuple[Mailbox, StoredMessage]] = []
    seen: set[str] = set()
    for address in targets:
        mailbox = state.mailbox_for(address)
        if mailbox is None or mailbox.address in seen:
            continue
        seen.add(mailbox.address)
        thread_id = (thread_ids or {}).get(mailbox.address)
        message = add_message(
            mailbox,
            copy,
            label_ids=INBOUND_LABELS if labels is None else labels,
            now=now,
            thread_id=thread_id,
        )
        delivered.append((mailbox, message))
    return delivered


def _prepare_outgoing(mailbox: Mailbox, raw: bytes, now: float) -> bytes:
    """Fill in what Gmail adds to a message it sends: From, Date, Message-ID.

    The sender's own Message-ID is kept, so the app can find its message
    again by it.
    """
    mime = parse_mime(raw)
    added: list[str] = []
    senders = [address.lower() for _, address in getaddresses(mime.get_all("From", []))]
    if not senders or senders[0] not in mailbox.addresses():
        # Gmail sends only as the account or one of its send-as aliases.
        del mime["From"]
        mime["From"] = formataddr((mailbox.name, mailbox.address))
        raw = mime.as_bytes()
    if not mime.get("Date"):
        added.append("Date: " + formatdate(now))
    if not mime.get("Message-ID"):
        added.append("Message-ID: " + make_msgid(domain="mail.gmail.com"))
    if not added:
        return raw
    return "\r\n".join(added).encode() + b"\r\n" + raw


def _without_bcc(raw: bytes) -> bytes:
    mime = parse_mime(raw)
    if mime.get("Bcc") is None:
        return raw
    del mime["Bcc"]
    return mime.as_bytes()
