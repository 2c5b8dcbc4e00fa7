"""Graph v1.0 mail routes, and the path every request takes through them.

A request is routed, its bearer token checked, its mailbox resolved
(``/me`` or ``/users/{id | address}``), counted, admitted by the mailbox's
limits, offered to the fault plan, checked against the grant's scopes and
only then handled, under ``sandbox.lock``.

Operations are named for counters and faults with ``/me`` in front and ids
replaced, whichever form the client used: ``GET /me/mailFolders/{id}/
messages/delta``, ``POST /me/sendMail``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from mailsync.sandbox.core import DropConnection, Fault, apply_delay
from mailsync.sandbox.microsoft import batch, delta, mail, sending, uploads
from mailsync.sandbox.microsoft.api import Call, Handler
from mailsync.sandbox.microsoft.errors import GraphError, bad_request
from mailsync.sandbox.microsoft.identity import scope_name
from mailsync.sandbox.microsoft.odata import parse_prefer
from mailsync.sandbox.microsoft.state import AccessToken, User

if TYPE_CHECKING:
    from mailsync.sandbox.microsoft import MicrosoftProvider

SERVICE_PREFIX = "/graph/v1.0"

# Which delegated scopes let a call through, by the kind of call.
PERMISSIONS = {
    "profile": {"user.read", "user.readwrite", "user.readbasic.all", "user.read.all"},
    "read": {"mail.read", "mail.readwrite"},
    "write": {"mail.readwrite"},
    "send": {"mail.send"},
}


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    permission: str
    handler: Handler


def _route(method: str, path: str, permission: str, handler: Handler) -> Route:
    pattern = "".join(
        f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
        for part in re.split(r"(\{\w+\})", path)
    )
    operation = re.sub(r"\{\w+\}", "{id}", path)
    return Route(method, re.compile(f"^{pattern}$"), operation, permission, handler)


def _message_routes(prefix: str) -> list[Route]:
    """Routes on one message, reachable directly or through its folder."""
    item = prefix + "/messages/{message}"
    return [
        _route("GET", item, "read", mail.get_message),
        _route("PATCH", item, "write", mail.update_message),
        _route("DELETE", item, "write", mail.delete_message),
        _route("GET", item + "/$value", "read", mail.get_mime),
        _route("POST", item + "/move", "write", mail.move_message),
        _route("POST", item + "/send", "send", sending.send_draft),
        _route("POST", item + "/createReply", "write", sending.create_reply),
        _route("POST", item + "/createReplyAll", "write", sending.create_reply_all),
        _route("POST", item + "/reply", "send", sending.reply),
        _route("POST", item + "/replyAll", "send", sending.reply_all),
        _route("GET", item + "/attachments", "read", mail.list_attachments),
        _route("POST", item + "/attachments", "write", mail.add_attachment),
        _route(
            "POST",
            item + "/attachments/createUploadSession",
            "write",
            uploads.create_upload_session,
        ),
        _route("GET", item + "/attachments/{attachment}", "read", mail.get_attachment),
        _route(
            "GET",
            item + "/attachments/{attachment}/$value",
            "read",
            mail.get_attachment_value,
        ),
        _route(
            "DELETE",
            item + "/attachments/{attachment}",
            "write",
            mail.delete_attachment,
        ),
    ]


ROUTES = [
    _route("GET", "", "profile", mail.get_profile),
    _route("GET", "/mailFolders", "read", mail.list_folders),
    _route("POST", "/mailFolders", "write", mail.create_folder),
    _route("GET", "/mailFolders/{folder}", "read", mail.get_folder),
    _route(
        "GET", "/mailFolders/{folder}/childFolders", "read", mail.list_child_folders
    ),
    _route("POST", "/mailFolders/{folder}/childFolders", "write", mail.create_folder),
    _route("GET", "/mailFolders/{folder}/messages/delta", "read", delta.delta),
    _route("GET", "/mailFolders/{folder}/messages", "read", mail.list_messages),
    _route("POST", "/mailFolders/{folder}/messages", "write", sending.create_draft),
    *_message_routes("/mailFolders/{folder}"),
    _route("GET", "/messages", "read", mail.list_messages),
    _route("POST", "/messages", "write", sending.create_draft),
    *_message_routes(""),
    _route("POST", "/sendMail", "send", sending.send_mail),
]


class GraphApi:
    def __init__(self, provider: MicrosoftProvider) -> None:
        self.provider = provider

    def handle(self, request: Request) -> Response:
        try:
            return self.dispatch(request, in_batch=False)
        except GraphError as error:
            return error.response(request)

    def dispatch(self, request: Request, *, in_batch: bool) -> Response:
        path = request.path
        if not path.startswith(SERVICE_PREFIX + "/"):
            raise bad_request("Invalid version.", code="BadRequest")
        path = path[len(SERVICE_PREFIX) :]
        if path == "/$batch" and not in_batch:
            return batch.handle_batch(self, request)

        route, params, user_reference = _match(request.method, path)
        token = self.authenticate(request)
        user = self._mailbox(token, user_reference)
        operation = f"{route.method} /me{route.operation}"
        call = Call(
            provider=self.provider,
            request=request,
            token=token,
            user=user,
            params=params,
            preferences=parse_prefer(request.headers.getlist("Prefer")),
            service_root=request.host_url.rstrip("/") + SERVICE_PREFIX,
            user_path="/me" if user_reference is None else f"/users/{user_reference}",
            operation=operation,
        )
        return self.run(call, route.permission, route.handler, in_batch=in_batch)

    def run(
        self, call: Call, permission: str, handler: Handler, *, in_batch: bool
    ) -> Response:
        """Count, limit, inject faults, check scopes, then handle the call."""
        sandbox = self.provider.sandbox
        mailbox = call.user.address.lower()
        sandbox.counters.record("microsoft", mailbox, call.operation)

        with self.provider.limiter.admit(mailbox, concurrent=not in_batch):
            fault = sandbox.faults.pick(
                "microsoft",
                call.operation,
                mailbox,
                takes_cursor=handler is delta.delta and delta.carries_token(call),
            )
            if fault is not None:
                call.cursor_expired = self.suffer(call.token, fault)
            self._check_scopes(call.token, permission)
            with sandbox.lock:
                return handler(call)

    def authenticate(self, request: Request) -> AccessToken:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthenticated("Access token is empty.")
        state = self.provider.state
        with self.provider.sandbox.lock:
            token = state.access_tokens.get(value.strip())
            if token is None:
                raise _unauthenticated("IDX14100: JWT is not well formed.")
            if state.grants[token.grant_id].revoked:
                raise _unauthenticated(
                    "Continuous access evaluation resulted in challenge with "
                    "result: InteractionRequired and code: TokenIssuedBeforeRevocation"
                    "Timestamp"
                )
            if token.expires_at <= self.provider.sandbox.clock.now():
                raise _unauthenticated(
                    "Lifetime validation failed, the token is expired."
                )
        return token

    def _mailbox(self, token: AccessToken, reference: str | None) -> User:
        state = self.provider.state
        with self.provider.sandbox.lock:
            owner = state.users.get(token.user_id)
            if owner is None:
                raise _unauthenticated("The user of this token no longer exists.")
            if reference is None:
                return owner
            user = state.user_by_reference(reference)
        if user is None:
            raise GraphError(
                404,
                "ErrorInvalidUser",
                f"The requested user '{reference}' is invalid.",
            )
        if user.id != owner.id:
            # Delegated access to another person's mailbox needs mailbox
            # permissions the sandbox does not model.
            raise GraphError(
                403,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            )
        return user

    def _check_scopes(self, token: AccessToken, permission: str) -> None:
        granted = {scope_name(scope) for scope in token.scopes}
        if granted & PERMISSIONS[permission]:
            return
        if permission == "profile":
            raise GraphError(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        raise GraphError(
            403,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )

    def suffer(self, token: AccessToken | None, fault: Fault) -> bool:
        """Answer as Graph would under ``fault``; True for a stale cursor.

        ``slow`` only delays; ``expire_cursor`` reaches only a delta
        request with a token (the fault plan offers it to no other call),
        and the delta handler answers it. A call without a token (an upload
        URL) suffers ``expire_token`` as a 401.
        """
        kind = fault.kind
        retry_after = fault.retry_after
        if kind == "slow":
            apply_delay(fault)
        elif kind == "drop":
            raise DropConnection()
        elif kind == "rate_limit":
            raise GraphError(
                429,
                "TooManyRequests",
                "Too many requests. Please retry later.",
                retry_after=retry_after,
            )
        elif kind == "server_error":
            raise GraphError(
                500, "generalException", "General exception while processing."
            )
        elif kind == "unavailable":
            raise GraphError(
                503,
                "serviceNotAvailable",
                "Service unavailable. Please retry later.",
                retry_after=retry_after,
            )
        elif kind == "expire_token":
            if token is not None:
                with self.provider.sandbox.lock:
                    token.expires_at = self.provider.sandbox.clock.now()
            raise _unauthenticated("Lifetime validation failed, the token is expired.")
        return kind == "expire_cursor"


def _match(method: str, path: str) -> tuple[Route, dict[str, str], str | None]:
    """Find the route of a Graph path; return it, its ids and the user."""
    path = re.sub(r"/(\w+)\('([^']*)'\)", r"/\1/\2", path)
    path = re.sub(r"/delta\(\)$", "/delta", path)
    if path == "/me" or path.startswith("/me/"):
        user_reference, rest = None, path[len("/me") :]
    elif path.startswith("/users/"):
        user_reference, _, rest = path[len("/users/") :].partition("/")
        rest = "/" + rest if rest else ""
    else:
        segment = path.strip("/").split("/")[0]
        raise bad_request(
            f"Resource not found for the segment '{segment}'.", code="BadRequest"
        )

    allowed = False
    for route in ROUTES:
        match = route.pattern.match(rest)
        if match is None:
            continue
        if route.method == method:
            return route, match.groupdict(), user_reference
        allowed = True
    if allowed:
        raise GraphError(
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
    segment = rest.strip("/").split("/")[-1] if rest else "me"
    raise bad_request(
        f"Resource not found for the segment '{segment}'.", code="BadRequest"
    )


def _unauthenticated(message: str) -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message)
