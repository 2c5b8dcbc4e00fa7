"""A local stand-in for Google's OAuth 2.0 and the Gmail API.

It speaks Google's wire protocol, so google-auth, google-api-python-client
and django-allauth's Google provider run unmodified against it, pointed at
these URLs (BASE is the sandbox's base URL):

- ``BASE/google/o/oauth2/v2/auth``: sign-in and consent screen
- ``BASE/google/token``, ``BASE/google/revoke``: token endpoints
- ``BASE/google/oauth2/v1/certs`` (PEM, as allauth reads) and
  ``BASE/google/oauth2/v3/certs`` (JWKS): id_token keys; id_tokens are
  issued by ``BASE/google``
- ``BASE/google/oauth2/v2/userinfo``, ``BASE/google/oauth2/v3/userinfo``
- ``BASE/gmail/v1/...``: the Gmail API, with rootUrl ``BASE/``; uploads
  under ``BASE/upload/gmail/v1/...``; batches at ``BASE/batch`` (where the
  bundled discovery document sends them) and ``BASE/batch/gmail/v1``
- ``BASE/_control/google/...``: the control surface (see ``control``)
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from mailsync.sandbox.core import Sandbox
from mailsync.sandbox.google.api import GmailApi
from mailsync.sandbox.google.batch import BatchEndpoint
from mailsync.sandbox.google.control import GoogleControl
from mailsync.sandbox.google.errors import not_found
from mailsync.sandbox.google.oauth import OAuthServer
from mailsync.sandbox.google.quota import QuotaMeter
from mailsync.sandbox.google.routes import GMAIL_ROUTES
from mailsync.sandbox.google.signing import IdTokenSigner
from mailsync.sandbox.google.state import GoogleState

__all__ = ["GoogleProvider"]


class GoogleProvider:
    """Google's OAuth and Gmail, mounted on a ``Sandbox``."""

    name = "google"
    prefixes: tuple[str, ...] = ("/google/", "/gmail/", "/upload/gmail/", "/batch")

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.state = GoogleState()
        self.quota = QuotaMeter(self.state)
        self.oauth = OAuthServer(sandbox, self.state, IdTokenSigner())
        self.gmail = GmailApi(sandbox, self.state, self.oauth, self.quota, GMAIL_ROUTES)
        self.batch = BatchEndpoint(sandbox, self.gmail)
        GoogleControl(sandbox, self.state, self.oauth, self.quota).register()
        self._oauth_routes = Map(
            [
                Rule(
                    "/google/o/oauth2/v2/auth",
                    endpoint=self.oauth.authorize,
                    methods=["GET", "POST"],
                ),
                Rule("/google/token", endpoint=self.oauth.token, methods=["POST"]),
                Rule(
                    "/google/revoke",
                    endpoint=self.oauth.revoke,
                    methods=["POST", "GET"],
                ),
                Rule("/google/oauth2/v1/certs", endpoint=self.oauth.certificates),
                Rule("/google/oauth2/v3/certs", endpoint=self.oauth.jwks),
                Rule("/google/oauth2/v2/userinfo", endpoint=self._userinfo_v2),
                Rule("/google/oauth2/v3/userinfo", endpoint=self._userinfo_v3),
                Rule("/google/oauth2/v3/tokeninfo", endpoint=self.oauth.tokeninfo),
                Rule(
                    "/google/.well-known/openid-configuration",
                    endpoint=self.oauth.openid_configuration,
                ),
            ]
        )

    def handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith(("/gmail/", "/upload/gmail/")):
            return self.gmail.handle(request)
        if path in ("/batch", "/batch/gmail/v1"):
            return self.batch.handle(request)
        try:
            view, _ = self._oauth_routes.bind_to_environ(request.environ).match()
        except HTTPException:
            return not_found().response()
        response: Response = view(request)
        return response

    def _userinfo_v2(self, request: Request) -> Response:
        return self.oauth.userinfo(request, version=2)

    def _userinfo_v3(self, request: Request) -> Response:
        return self.oauth.userinfo(request, version=3)

    # State -------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        with self.sandbox.lock:
            return self.state.dump()

    def load(self, state: dict[str, Any]) -> None:
        with self.sandbox.lock:
            self.state.replace_with(GoogleState.load(state))
            self.quota.reset()

    def reset(self) -> None:
        with self.sandbox.lock:
            self.state.replace_with(GoogleState())
            self.quota.reset()
