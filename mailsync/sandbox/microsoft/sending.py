"""Drafts, sending and replies.

A sent message waits in the Outbox, then, after the configurable
``sent_copy_delay``, lands in Sent Items (unless ``saveToSentItems`` is
false) and in the Inbox of every recipient who is a sandbox Microsoft
user. A sent draft keeps its immutable id and its ``internetMessageId``,
which is how a client learns a sent item's identity before sending.
"""

from __future__ import annotations

import base64
import binascii
import html
import logging
import threading
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from mailsync.sandbox.microsoft.api import Call, field_of
from mailsync.sandbox.microsoft.compose import apply_fields
from mailsync.sandbox.microsoft.errors import GraphError, bad_request
from mailsync.sandbox.microsoft.exchange import Exchange
from mailsync.sandbox.microsoft.mail import message_answer
from mailsync.sandbox.microsoft.mime import parse_mime
from mailsync.sandbox.microsoft.state import EmailAddress, Folder, Message, User, iso

if TYPE_CHECKING:
    from mailsync.sandbox.microsoft import MicrosoftProvider

logger = logging.getLogger(__name__)


# Drafts ----------------------------------------------------------------------


def create_draft(call: Call) -> Response:
    exchange = call.provider.exchange
    folder = (
        call.folder()
        if "folder" in call.params
        else exchange.well_known(call.user, "drafts")
    )
    if _is_mime(call):
        parsed = parse_mime(_mime_bytes(call))
        message = exchange.message_from_mime(
            call.user, folder, parsed, None, is_draft=True, is_read=True
        )
    else:
        body = call.json_body()
        message = exchange.new_message(call.user, folder, is_draft=True, is_read=True)
        try:
            apply_fields(exchange, call.user, message, body)
        except GraphError:
            exchange.delete(call.user, message)
            raise
    exchange.touch(call.user, message)
    return message_answer(call, message, status=201)


def send_draft(call: Call) -> Response:
    message = call.message()
    if not message.is_draft:
        raise bad_request(
            "Only a draft message can be sent.", code="ErrorInvalidOperation"
        )
    dispatch(call.provider, call.user, message, save_copy=True)
    return Response(status=202)


# sendMail --------------------------------------------------------------------


def send_mail(call: Call) -> Response:
    exchange = call.provider.exchange
    outbox = exchange.well_known(call.user, "outbox")
    if _is_mime(call):
        raw = _mime_bytes(call)
        parsed = parse_mime(raw)
        keep_raw = parsed.message_id is not None and parsed.from_ is not None
        message = exchange.message_from_mime(
            call.user, outbox, parsed, raw if keep_raw else None, is_draft=True
        )
        save_copy = True
    else:
        body = call.json_body()
        content = field_of(body, "message")
        if not isinstance(content, dict):
            raise bad_request("The 'message' parameter is required.")
        message = exchange.new_message(call.user, outbox, is_draft=True)
        try:
            apply_fields(exchange, call.user, message, content)
        except GraphError:
            exchange.delete(call.user, message)
            raise
        # Absent or null means Graph's default, true. (msgraph-sdk's
        # SendMailPostRequestBody sends false unless told otherwise.)
        save_copy = field_of(body, "saveToSentItems") is not False
    try:
        dispatch(call.provider, call.user, message, save_copy=save_copy)
    except GraphError:
        exchange.delete(call.user, message)
        raise
    return Response(status=202)


# Replies ---------------------------------------------------------------------


def create_reply(call: Call) -> Response:
    draft = _reply_draft(call, reply_all=False)
    return message_answer(call, draft, status=201)


def create_reply_all(call: Call) -> Response:
    draft = _reply_draft(call, reply_all=True)
    return message_answer(call, draft, status=201)


def reply(call: Call) -> Response:
    draft = _reply_draft(call, reply_all=False)
    dispatch(call.provider, call.user, draft, save_copy=True)
    return Response(status=202)


def reply_all(call: Call) -> Response:
    draft = _reply_draft(call, reply_all=True)
    dispatch(call.provider, call.user, draft, save_copy=True)
    return Response(status=202)


def _reply_draft(call: Call, *, reply_all: bool) -> Message:
    """Create the reply draft Outlook would: same conversation, quoted."""
    exchange = call.provider.exchange
    original = call.message()
    body = call.json_body()
    owner = call.user

    if original.from_ is not None and owner.owns_address(original.from_.address):
        to = list(original.to)
    else:
        to = list(original.reply_to) or ([original.from_] if original.from_ else [])
    cc: list[EmailAddress] = []
    if reply_all:
        to += [item for item in original.to if not owner.owns_address(item.address)]
        cc = [item for item in original.cc if not owner.owns_address(item.address)]
    to = _unique(to)

    subject = original.subject
    if not subject.lower().startswith("re:"):
        subject = f"RE: {subject}"
    comment = str(field_of(body, "comment", "") or "")
    draft = exchange.new_message(
        owner,
        exchange.well_known(owner, "drafts"),
        subject=subject,
        body_type="html",
        body=_quoted_reply(comment, original),
        from_=EmailAddress(owner.address, owner.display_name),
        to=to,
        cc=cc,
        in_reply_to=original.internet_message_id,
        references=[*original.references, original.internet_message_id][-20:],
        is_draft=True,
        is_read=True,
    )
    draft.conversation_id = original.conversation_id
    overrides = field_of(body, "message")
    if isinstance(overrides, dict):
        apply_fields(exchange, owner, draft, overrides)
    exchange.touch(owner, draft)
    return draft


def _quoted_reply(comment: str, original: Message) -> str:
    sender = original.from_.address if original.from_ else ""
    sent = iso(original.sent or original.received)
    quoted = (
        original.body if original.body_type == "html" else html.escape(original.body)
    )
    return (
        "<html><body>"
        f"<div>{html.escape(comment)}</div><hr>"
        f"<div><b>From:</b> {html.escape(sender)}<br><b>Sent:</b> {sent}<br>"
        f"<b>Subject:</b> {html.escape(original.subject)}</div>"
        f"<div>{quoted}</div>"
        "</body></html>"
    )


# Dispatch --------------------------------------------------------------------


def dispatch(
    provider: MicrosoftProvider, user: User, message: Message, *, save_copy: bool
) -> None:
    """Send ``message``: into the Outbox now, delivered after the delay.

    The caller holds ``sandbox.lock``.
    """
    exchange = provider.exchange
    if not (message.to or message.cc or message.bcc):
        raise GraphError(
            400,
            "ErrorInvalidRecipients",
            "At least one recipient is required, but none were found.",
        )
    if message.from_ is not None and not user.owns_address(message.from_.address):
        raise GraphError(
            403,
            "ErrorSendAsDenied",
            "The user account which was used to submit this request does not "
            "have the right to send mail on behalf of the specified sending account.",
        )

    now = provider.sandbox.clock.now()
    me = EmailAddress(user.address, user.display_name)
    message.from_ = message.from_ or me
    message.sender = message.sender or message.from_
    message.is_draft = False
    message.is_read = True
    message.sent = message.received = now
    message.save_to_sent_items = save_copy
    exchange.move(user, message, exchange.well_known(user, "outbox"))
    exchange.touch(user, message)

    delay = provider.state.settings.sent_copy_delay
    if delay <= 0:
        deliver_from_outbox(provider, user, message)
        return
    generation = provider.generation
    timer = threading.Timer(
        delay,
        _deliver_later,
        args=(provider, generation, user.id, message.immutable_id),
    )
    timer.daemon = True
    timer.start()


def _deliver_later(
    provider: MicrosoftProvider, generation: int, user_id: str, message_id: str
) -> None:
    with provider.sandbox.lock:
        if provider.generation != generation:
            return
        user = provider.state.users.get(user_id)
        message = user.messages.get(message_id) if user else None
        if user is None or message is None:
            return
        deliver_from_outbox(provider, user, message)


def deliver_from_outbox(
    provider: MicrosoftProvider, user: User, message: Message
) -> None:
    """Deliver to sandbox recipients, then file the sender's copy."""
    exchange = provider.exchange
    recipients = _unique([*message.to, *message.cc, *message.bcc])
    delivered_to: set[str] = set()
    for recipient in recipients:
        mailbox = provider.state.user_by_address(recipient.address)
        if mailbox is None or mailbox.id in delivered_to:
            continue
        delivered_to.add(mailbox.id)
        exchange.copy_to_mailbox(
            message, mailbox, exchange.well_known(mailbox, "inbox")
        )

    if message.save_to_sent_items:
        exchange.move(user, message, exchange.well_known(user, "sentitems"))
    else:
        exchange.delete(user, message)
    logger.debug(
        "sandbox delivered a message to %d sandbox mailboxes", len(delivered_to)
    )


def pending_in_outbox(exchange: Exchange, user: User) -> list[Message]:
    outbox: Folder = exchange.well_known(user, "outbox")
    return exchange.messages_in(user, outbox)


# Helpers ---------------------------------------------------------------------


def _is_mime(call: Call) -> bool:
    return call.request.mimetype == "text/plain"


def _mime_bytes(call: Call) -> bytes:
    try:
        return base64.b64decode(call.request.get_data(), validate=False)
    except (binascii.Error, ValueError) as error:
        raise GraphError(
            400,
            "ErrorMimeContentInvalidBase64String",
            "Invalid base64 string for MIME content.",
        ) from error


def _unique(addresses: list[EmailAddress]) -> list[EmailAddress]:
    seen: set[str] = set()
    unique = []
    for address in addresses:
        if address.address.lower() not in seen:
            seen.add(address.address.lower())
            unique.append(address)
    return unique
