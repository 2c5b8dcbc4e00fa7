"""Upload sessions for attachments of 3 MB and more.

``createUploadSession`` answers a pre-authorised ``uploadUrl``; the client
PUTs the file to it in order, in chunks of at most 4 MiB each with a
``Content-Range`` header, and no Authorization header (the URL carries its
own token, as Outlook's does). The last chunk creates the attachment.
Sessions live in memory only and are not part of the persisted state.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from mailsync.sandbox.microsoft.api import Call, field_of
from mailsync.sandbox.microsoft.errors import GraphError, bad_request, graph_json
from mailsync.sandbox.microsoft.state import iso

if TYPE_CHECKING:
    from mailsync.sandbox.microsoft import MicrosoftProvider

MAX_CHUNK = 4 * 1024 * 1024
MAX_ATTACHMENT = 150 * 1024 * 1024
SESSION_LIFETIME = 15 * 60
UPLOAD_PREFIX = "/graph/uploads/"
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass
class UploadSession:
    id: str
    auth_token: str
    user_id: str
    message_id: str
    name: str
    content_type: str
    size: int
    is_inline: bool
    content_id: str | None
    expires_at: float
    received: bytearray = field(default_factory=bytearray)


def create_upload_session(call: Call) -> Response:
    message = call.message()
    item = field_of(call.json_body(), "AttachmentItem")
    if not isinstance(item, dict):
        raise bad_request("The AttachmentItem parameter is required.")
    if str(field_of(item, "attachmentType", "file")).lower() != "file":
        raise bad_request("Only file attachments can be uploaded in a session.")
    size = field_of(item, "size")
    if not isinstance(size, int) or size <= 0:
        raise bad_request("The attachment size must be a positive number of bytes.")
    if size > MAX_ATTACHMENT:
        raise GraphError(
            413,
            "ErrorAttachmentSizeLimitExceeded",
            "The attachment exceeds the maximum size of 150 MB.",
        )
    if not message.is_draft:
        raise bad_request(
            "Attachments can be uploaded to draft messages only.",
            code="ErrorInvalidOperation",
        )

    session = UploadSession(
        id=secrets.token_urlsafe(24),
        auth_token=secrets.token_urlsafe(32),
        user_id=call.user.id,
        message_id=message.immutable_id,
        name=str(field_of(item, "name", "attachment")),
        content_type=str(
            field_of(item, "contentType", "") or "application/octet-stream"
        ),
        size=size,
        is_inline=bool(field_of(item, "isInline", False)),
        content_id=field_of(item, "contentId"),
        expires_at=call.provider.sandbox.clock.now() + SESSION_LIFETIME,
    )
    call.provider.upload_sessions[session.id] = session
    upload_url = (
        f"{call.request.host_url.rstrip('/')}{UPLOAD_PREFIX}{session.id}"
        f"?authtoken={session.auth_token}"
    )
    return call.answer(
        {
            "@odata.context": call.context("microsoft.graph.uploadSession"),
            "uploadUrl": upload_url,
            "expirationDateTime": iso(session.expires_at),
            "nextExpectedRanges": ["0-"],
        },
        status=201,
    )


def handle_upload(provider: MicrosoftProvider, request: Request) -> Response:
    """Take one chunk (PUT) or cancel the session (DELETE)."""
    session_id = request.path[len(UPLOAD_PREFIX) :]
    sandbox = provider.sandbox
    try:
        with sandbox.lock:
            session = provider.upload_sessions.get(session_id)
            if session is None or request.args.get("authtoken") != session.auth_token:
                raise GraphError(
                    404, "ErrorItemNotFound", "The upload session was not found."
                )
            user = provider.state.users[session.user_id]
        operation = f"{request.method} /uploads/{{id}}"
        mailbox = user.address.lower()
        sandbox.counters.record("microsoft", mailbox, operation)
        fault = sandbox.faults.pick("microsoft", operation, mailbox)
        if fault is not None:
            provider.graph.suffer(None, fault)
        if request.method == "DELETE":
            with sandbox.lock:
                provider.upload_sessions.pop(session_id, None)
            return Response(status=204)
        if request.method != "PUT":
            raise GraphError(405, "ErrorInvalidRequest", "Use PUT to upload a chunk.")
        with sandbox.lock:
            return _take_chunk(provider, session, request)
    except GraphError as error:
        return error.response(request)


def _take_chunk(
    provider: MicrosoftProvider, session: UploadSession, request: Request
) -> Response:
    now = provider.sandbox.clock.now()
    if session.expires_at <= now:
        provider.upload_sessions.pop(session.id, None)
        raise GraphError(404, "ErrorItemNotFound", "The upload session has expired.")
    match = _CONTENT_RANGE.match(request.headers.get("Content-Range", ""))
    if match is None:
        raise bad_request("The Content-Range header is missing or malformed.")
    start, end, total = (int(group) for group in match.groups())
    chunk = request.get_data()
    if total != session.size:
        raise bad_request("The total size in Content-Range does not match the session.")
    if len(chunk) != end - start + 1:
        raise bad_request("The chunk length does not match its Content-Range.")
    if len(chunk) > MAX_CHUNK:
        raise GraphError(
            413, "ErrorRequestEntityTooLarge", "A chunk can hold at most 4 MiB."
        )
    if start != len(session.received):
        # Out of order: say which range is expected next.
        return graph_json(_progress(session), status=416)

    session.received.extend(chunk)
    session.expires_at = now + SESSION_LIFETIME
    if len(session.received) < session.size:
        return graph_json(_progress(session))

    del provider.upload_sessions[session.id]
    user = provider.state.users[session.user_id]
    message = user.messages.get(session.message_id)
    if message is None:
        raise GraphError(
            404, "ErrorItemNotFound", "The message of this upload is gone."
        )
    attachment = provider.exchange.add_attachment(
        message,
        name=session.name,
        content_type=session.content_type,
        content=bytes(session.received),
        is_inline=session.is_inline,
        content_id=session.content_id,
    )
    provider.exchange.touch(user, message)
    host = request.host_url.rstrip("/")
    location = (
        f"{host}/graph/v1.0/users('{user.id}')/messages('{message.rest_id}')"
        f"/attachments('{attachment.id}')"
    )
    return Response(status=201, headers={"Location": location})


def _progress(session: UploadSession) -> dict[str, object]:
    return {
        "expirationDateTime": iso(session.expires_at),
        "nextExpectedRanges": [f"{len(session.received)}-"],
    }
