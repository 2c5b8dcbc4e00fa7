"""A stand-in for Microsoft's identity platform and Graph mail API.

Mounted on the shared sandbox server, it answers:

- ``/microsoft/{tenant}/oauth2/v2.0/authorize`` and ``.../token`` and the
  OpenID discovery documents (``identity``), for django-allauth's
  Microsoft provider with ``login_url`` set to ``BASE/microsoft``;
- ``/graph/v1.0/...``: the profile, mail folders, messages, delta,
  attachments, drafts, sending, replies and ``$batch`` (``graph``), for
  msgraph-sdk with ``base_url`` set to ``BASE/graph/v1.0``;
- ``/graph/uploads/...``: attachment upload sessions (``uploads``);
- ``/_control/microsoft/...``: users, mail delivery, revocation, limits
  (``control``), with a Python client in ``control_client``.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from mailsync.sandbox.core import Sandbox
from mailsync.sandbox.microsoft.control import add_control_routes
from mailsync.sandbox.microsoft.errors import bad_request
from mailsync.sandbox.microsoft.exchange import Exchange
from mailsync.sandbox.microsoft.graph import GraphApi
from mailsync.sandbox.microsoft.identity import IdentityPlatform
from mailsync.sandbox.microsoft.sending import deliver_from_outbox, pending_in_outbox
from mailsync.sandbox.microsoft.state import MicrosoftState
from mailsync.sandbox.microsoft.throttling import MailboxLimiter
from mailsync.sandbox.microsoft.uploads import (
    UPLOAD_PREFIX,
    UploadSession,
    handle_upload,
)

__all__ = ["MicrosoftProvider"]


class MicrosoftProvider:
    name = "microsoft"
    prefixes: tuple[str, ...] = ("/microsoft/", "/graph/")

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.state = MicrosoftState()
        self.exchange = Exchange(self.state, sandbox.clock)
        self.limiter = MailboxLimiter(lambda: self.state.settings, sandbox.clock)
        self.identity = IdentityPlatform(self)
        self.graph = GraphApi(self)
        self.upload_sessions: dict[str, UploadSession] = {}
        # Bumped on reset and load, so sends scheduled before are dropped.
        self.generation = 0
        add_control_routes(self)

    def handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/microsoft/"):
            tenant, _, endpoint = path[len("/microsoft/") :].partition("/")
            return self.identity.handle(request, tenant, endpoint)
        if path.startswith(UPLOAD_PREFIX):
            return handle_upload(self, request)
        if path.startswith("/graph/"):
            return self.graph.handle(request)
        return bad_request("Invalid version.", code="BadRequest").response(request)

    def dump(self) -> dict[str, Any]:
        with self.sandbox.lock:
            return self.state.dump()

    def load(self, state: dict[str, Any]) -> None:
        with self.sandbox.lock:
            self._replace_state(MicrosoftState.load(state))
            # Sends still waiting in an Outbox when the state was saved go
            # out now rather than never.
            for user in self.state.users.values():
                for message in pending_in_outbox(self.exchange, user):
                    deliver_from_outbox(self, user, message)

    def reset(self) -> None:
        with self.sandbox.lock:
            self._replace_state(MicrosoftState())

    def _replace_state(self, state: MicrosoftState) -> None:
        self.state = state
        self.exchange = Exchange(state, self.sandbox.clock)
        self.limiter.reset()
        self.upload_sessions.clear()
        self.generation += 1
