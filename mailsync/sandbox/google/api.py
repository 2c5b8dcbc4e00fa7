"""The Gmail API's front door: routing, auth, scopes, faults and quota.

Each call goes through the same steps as at Google: find the method, ask
the fault plan, check the access token and its scopes, charge quota, then
run the method under the sandbox lock. Methods are named by their
discovery document ids (``gmail.users.messages.get``), which are also the
operation names of faults and call counters.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from googleapiclient.discovery_cache import get_static_doc
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from mailsync.sandbox.core import (
    DropConnection,
    Fault,
    Sandbox,
    apply_delay,
    json_response,
)
from mailsync.sandbox.google import errors
from mailsync.sandbox.google.errors import GoogleApiError
from mailsync.sandbox.google.fields import select_fields
from mailsync.sandbox.google.oauth import OAuthServer
from mailsync.sandbox.google.quota import QuotaMeter
from mailsync.sandbox.google.state import AccessToken, GoogleState, Mailbox

GMAIL_METADATA = "https://www.googleapis.com/auth/gmail.metadata"
# The one method that continues from a cursor (``startHistoryId``).
HISTORY_LIST = "gmail.users.history.list"


@dataclass
class GmailCall:
    """One Gmail method call, as its handler sees it."""

    request: Request
    operation: str
    args: dict[str, str]
    mailbox: Mailbox
    token: AccessToken
    state: GoogleState
    sandbox: Sandbox
    now: float
    body: bytes = b""
    metadata_only: bool = False

    def param(self, name: str, default: str = "") -> str:
        return self.request.args.get(name, default)

    def params(self, name: str) -> list[str]:
        return self.request.args.getlist(name)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.request.args.get(name)
        if value is None:
            return default
        return value.lower() in ("true", "1")

    def integer(self, name: str, default: int, maximum: int) -> int:
        value = self.request.args.get(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError as error:
            raise errors.bad_request(f"Invalid value for {name}: {value}") from error
        if number < 0:
            raise errors.bad_request(f"Invalid value for {name}: {value}")
        return min(number, maximum) or default

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            body = json.loads(self.body)
        except ValueError as error:
            raise errors.bad_request("Invalid JSON payload received.") from error
        if not isinstance(body, dict):
            raise errors.bad_request("Invalid JSON payload received.")
        return body


Handler = Callable[[GmailCall], Any]


@functools.cache
def method_scopes() -> dict[str, frozenset[str]]:
    """The scopes that authorize each Gmail method, from its discovery
    document, which is what Google enforces."""
    document = json.loads(get_static_doc("gmail", "v1"))
    scopes: dict[str, frozenset[str]] = {}

    def collect(resource: dict[str, Any]) -> None:
        for method in resource.get("methods", {}).values():
            scopes[method["id"]] = frozenset(method.get("scopes", []))
        for child in resource.get("resources", {}).values():
            collect(child)

    collect(document)
    return scopes


class GmailApi:
    def __init__(
        self,
        sandbox: Sandbox,
        state: GoogleState,
        oauth: OAuthServer,
        quota: QuotaMeter,
        routes: list[tuple[str, str, str, Handler]],
    ) -> None:
        self.sandbox = sandbox
        self.state = state
        self.oauth = oauth
        self.quota = quota
        self.handlers = {operation: handler for _, _, operation, handler in routes}
        self.url_map = Map(
            [
                Rule(path, endpoint=operation, methods=[method])
                for method, path, operation, _ in routes
            ],
            strict_slashes=False,
        )

    def handle(self, request: Request) -> Response:
        override = request.headers.get("X-HTTP-Method-Override")
        if override and request.method == "POST":
            request = _with_method(request, override)
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            operation, args = adapter.match()
        except MethodNotAllowed:
            return GoogleApiError(
                405, "Method not allowed.", "methodNotAllowed"
            ).response()
        except HTTPException:
            return errors.not_found().response()

        try:
            result = self._call(request, operation, dict(args))
        except GoogleApiError as error:
            return error.response()
        if result is None:
            return Response(b"", status=204)
        fields = request.args.get("fields")
        if fields:
            result = select_fields(result, fields)
        return json_response(result)

    def _call(self, request: Request, operation: str, args: dict[str, str]) -> Any:
        user_id = args.pop("user_id")
        owner = self.oauth.token_owner(request)
        address = owner if user_id == "me" else user_id.lower()
        units = 0
        try:
            self._suffer_fault(operation, address)
            token = self.oauth.authenticate(request)
            if token is None:
                raise errors.unauthenticated()

            with self.sandbox.lock:
                mailbox = self.state.mailboxes[
                    self.state.grants[token.grant_id].address
                ]
                if user_id != "me" and self.state.mailbox_for(user_id) is not mailbox:
                    raise errors.forbidden(f"Delegation denied for {mailbox.address}")
                metadata_only = self._check_scopes(operation, token)
                units, retry_after = self.quota.charge(
                    mailbox.address, operation, self.sandbox.clock.now()
                )
            if retry_after is not None:
                raise errors.rate_limited(retry_after)

            call = GmailCall(
                request=request,
                operation=operation,
                args=args,
                mailbox=mailbox,
                token=token,
                state=self.state,
                sandbox=self.sandbox,
                now=self.sandbox.clock.now(),
                body=request.get_data(),
                metadata_only=metadata_only,
            )
            with self.sandbox.lock:
                return self.handlers[operation](call)
        finally:
            self.sandbox.counters.record("google", address, operation, units)

    def _suffer_fault(self, operation: str, address: str | None) -> None:
        fault = self.sandbox.faults.pick(
            "google", operation, address, takes_cursor=operation == HISTORY_LIST
        )
        if fault is None:
            return
        raise_fault(fault, operation)

    def _check_scopes(self, operation: str, token: AccessToken) -> bool:
        """Refuse a token without a scope for the method; return whether it
        only reaches metadata (which forbids bodies and ``q``)."""
        allowed = method_scopes().get(operation, frozenset()) & set(token.scopes)
        if not allowed:
            raise errors.insufficient_scope()
        return allowed == {GMAIL_METADATA}


def _with_method(request: Request, method: str) -> Request:
    """The request a POST with ``X-HTTP-Method-Override`` stands for.

    google-api-python-client turns a GET whose URL passes 2,048 characters
    (a long ``q``) into a POST carrying the query string as its form body;
    Google answers it as the GET.
    """
    environ = dict(request.environ)
    query = "&".join(
        part
        for part in (environ.get("QUERY_STRING", ""), request.get_data(as_text=True))
        if part
    )
    environ.update(
        {
            "REQUEST_METHOD": method.upper(),
            "QUERY_STRING": query,
            "CONTENT_LENGTH": "0",
            "wsgi.input": io.BytesIO(b""),
        }
    )
    environ.pop("CONTENT_TYPE", None)
    return Request(environ)


def raise_fault(fault: Fault, operation: str) -> None:
    """Answer an injected fault the way Google would, or just delay."""
    if fault.kind == "slow":
        apply_delay(fault)
    elif fault.kind == "drop":
        raise DropConnection()
    elif fault.kind == "rate_limit":
        raise errors.rate_limited(fault.retry_after)
    elif fault.kind == "server_error":
        raise errors.backend_error()
    elif fault.kind == "unavailable":
        raise errors.unavailable(fault.retry_after)
    elif fault.kind == "expire_token":
        raise errors.unauthenticated()
    elif fault.kind == "expire_cursor" and operation == HISTORY_LIST:
        raise errors.not_found()
