"""The Microsoft identity platform's v2.0 endpoints for one app at a time.

Served under ``/microsoft/{tenant}/``: the authorize page (sign in and
consent, with each requested scope a checkbox), the token endpoint
(authorization code with PKCE, refresh token), OpenID discovery and keys.

Choices where Microsoft leaves room:
- A client id nobody registered through the control surface is accepted
  with any redirect URI and no secret, so the demo needs no set-up; a
  registered client has its redirect URIs and secret checked.
- Refresh tokens rotate: every refresh answers a new one. The old one stays
  valid until its own expiry, as Microsoft's do; revoking the grant ends
  them all.
- Access tokens are opaque strings; the id token is a JWT signed with a
  key published at ``discovery/v2.0/keys``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from mailsync.sandbox.core import DropConnection, Fault, apply_delay
from mailsync.sandbox.microsoft.consent import render_consent_page, render_form_post
from mailsync.sandbox.microsoft.errors import IdentityError
from mailsync.sandbox.microsoft.state import (
    AccessToken,
    AuthorizationCode,
    ConsentRequest,
    Grant,
    RefreshToken,
    User,
    new_token,
)

if TYPE_CHECKING:
    from mailsync.sandbox.microsoft import MicrosoftProvider

logger = logging.getLogger(__name__)

GRAPH_RESOURCE = "https://graph.microsoft.com/"
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")


def scope_name(scope: str) -> str:
    """Return a scope without Graph's resource prefix, lower-cased."""
    if scope.lower().startswith(GRAPH_RESOURCE):
        scope = scope[len(GRAPH_RESOURCE) :]
    return scope.lower()


def split_scopes(raw: str) -> list[str]:
    scopes: list[str] = []
    for scope in raw.split():
        if scope_name(scope) not in {scope_name(known) for known in scopes}:
            scopes.append(scope)
    return scopes


class IdentityPlatform:
    def __init__(self, provider: MicrosoftProvider) -> None:
        self.provider = provider
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._key_id = secrets.token_hex(8)

    def handle(self, request: Request, tenant: str, endpoint: str) -> Response:
        if endpoint == "oauth2/v2.0/authorize":
            return self._authorize(request, tenant)
        if endpoint == "oauth2/v2.0/token" and request.method == "POST":
            return self._token_endpoint(request, tenant)
        if endpoint == "oauth2/v2.0/logout":
            target = request.args.get("post_logout_redirect_uri")
            if target:
                return Response(status=302, headers={"Location": target})
            return Response("You signed out of your account.", mimetype="text/plain")
        if endpoint == "v2.0/.well-known/openid-configuration":
            return _json(self._discovery(request, tenant))
        if endpoint == "discovery/v2.0/keys":
            return _json({"keys": [self._public_jwk()]})
        return Response("Not found", status=404, mimetype="text/plain")

    # Authorize ---------------------------------------------------------------

    def _authorize(self, request: Request, tenant: str) -> Response:
        if request.method == "POST" and "consent_request" in request.form:
            return self._answer_consent(request, tenant)

        params = dict(request.values.items())
        problem = self._check_client(params)
        if problem:
            return Response(problem, status=400, mimetype="text/plain")
        if params.get("response_type") != "code":
            return _redirect_error(
                params,
                "unsupported_response_type",
                "AADSTS700054: response_type 'id_token' is not enabled for the "
                "application. Only the authorization code flow is available.",
            )
        if not params.get("scope", "").strip():
            return _redirect_error(
                params,
                "invalid_request",
                "AADSTS900144: The request body must contain the following "
                "parameter: 'scope'.",
            )
        method = params.get("code_challenge_method", "plain")
        if params.get("code_challenge") and method not in ("S256", "plain"):
            return _redirect_error(
                params,
                "invalid_request",
                "AADSTS501491: Invalid code_challenge_method.",
            )
        if params.get("prompt") == "none":
            return _redirect_error(
                params,
                "login_required",
                "AADSTS50058: A silent sign-in request was sent but no user is "
                "signed in.",
            )

        with self.provider.sandbox.lock:
            consent = ConsentRequest(
                id=secrets.token_urlsafe(16),
                params=params,
                created=self.provider.sandbox.clock.now(),
            )
            self.provider.state.consent_requests[consent.id] = consent
        return self._consent_page(request, consent)

    def _consent_page(
        self, request: Request, consent: ConsentRequest, error: str = ""
    ) -> Response:
        state = self.provider.state
        client = state.clients.get(consent.params["client_id"])
        page = render_consent_page(
            action=request.path,
            request_id=consent.id,
            client_name=client.name if client else consent.params["client_id"],
            users=sorted(state.users.values(), key=lambda user: user.address),
            scopes=split_scopes(consent.params["scope"]),
            login_hint=consent.params.get("login_hint", ""),
            error=error,
        )
        return Response(page, status=400 if error else 200, mimetype="text/html")

    def _answer_consent(self, request: Request, tenant: str) -> Response:
        sandbox = self.provider.sandbox
        with sandbox.lock:
            consent = self.provider.state.consent_requests.get(
                request.form["consent_request"]
            )
        if consent is None:
            return Response(
                "AADSTS90014: This sign-in request expired. Start again from the app.",
                status=400,
                mimetype="text/plain",
            )
        params = consent.params

        if request.form.get("action") != "accept":
            with sandbox.lock:
                self.provider.state.consent_requests.pop(consent.id, None)
            return _redirect_error(
                params,
                "access_denied",
                "AADSTS65004: User declined to consent to access the app.",
            )

        address = (
            request.form.get("account_other", "").strip()
            or request.form.get("account", "").strip()
        )
        with sandbox.lock:
            user = self.provider.state.user_by_address(address) if address else None
            if user is None:
                message = (
                    f"We couldn't find an account with {address}."
                    if address
                    else "Choose an account."
                )
                return self._consent_page(request, consent, error=message)

            requested = split_scopes(params["scope"])
            ticked = {scope_name(scope) for scope in request.form.getlist("scope")}
            granted = [scope for scope in requested if scope_name(scope) in ticked]
            code = self._issue_code(user, params, granted, tenant)
            self.provider.state.consent_requests.pop(consent.id, None)

        fields = {"code": code}
        if "state" in params:
            fields["state"] = params["state"]
        fields["session_state"] = str(uuid.uuid4())
        return _redirect(params, fields)

    def _issue_code(
        self, user: User, params: dict[str, str], scopes: list[str], tenant: str
    ) -> str:
        state = self.provider.state
        now = self.provider.sandbox.clock.now()
        grant = Grant(
            id=str(uuid.uuid4()),
            client_id=params["client_id"],
            user_id=user.id,
            scopes=scopes,
            created=now,
        )
        state.grants[grant.id] = grant
        code = AuthorizationCode(
            code=new_token("M.C"),
            grant_id=grant.id,
            scopes=scopes,
            redirect_uri=params["redirect_uri"],
            expires_at=now + state.settings.code_lifetime,
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method", "plain"),
            nonce=params.get("nonce"),
        )
        state.codes[code.code] = code
        logger.info(
            "sandbox consent: %d scopes granted to %s", len(scopes), grant.client_id
        )
        return code.code

    def _check_client(self, params: dict[str, str]) -> str | None:
        client_id = params.get("client_id")
        if not client_id:
            return (
                "AADSTS900144: The request body must contain the following "
                "parameter: 'client_id'."
            )
        if not params.get("redirect_uri"):
            return (
                "AADSTS900144: The request body must contain the following "
                "parameter: 'redirect_uri'."
            )
        client = self.provider.state.clients.get(client_id)
        if client is not None and params["redirect_uri"] not in client.redirect_uris:
            return (
                "AADSTS50011: The redirect URI specified in the request does not "
                "match the redirect URIs configured for the application "
                f"'{client_id}'."
            )
        return None

    # Token -------------------------------------------------------------------

    def _token_endpoint(self, request: Request, tenant: str) -> Response:
        sandbox = self.provider.sandbox
        operation = "POST /oauth2/v2.0/token"
        sandbox.counters.record("microsoft", None, operation)
        fault = sandbox.faults.pick("microsoft", operation, None)
        try:
            if fault is not None:
                self._apply_fault(fault.kind, fault)
            with sandbox.lock:
                body = self._token(request, tenant)
        except IdentityError as error:
            return error.response()
        response = _json(body)
        response.headers["Cache-Control"] = "no-store, no-cache"
        return response

    def _apply_fault(self, kind: str, fault: Fault) -> None:
        if kind == "slow":
            apply_delay(fault)
        elif kind == "drop":
            raise DropConnection()
        elif kind == "server_error":
            raise IdentityError(
                "server_error", 90033, "A transient error has occurred.", 500
            )
        elif kind in ("unavailable", "rate_limit"):
            raise IdentityError(
                "temporarily_unavailable",
                50196,
                "The server terminated an operation because it encountered a "
                "client request loop.",
                503 if kind == "unavailable" else 429,
            )
        elif kind == "expire_token":
            raise IdentityError(
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity.",
            )

    def _token(self, request: Request, tenant: str) -> dict[str, Any]:
        form = request.form
        client_id = form.get("client_id")
        secret = form.get("client_secret")
        if request.authorization is not None and request.authorization.type == "basic":
            client_id = request.authorization.username
            secret = request.authorization.password
        if not client_id:
            raise IdentityError(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        client = self.provider.state.clients.get(client_id)
        expected = client.client_secret if client is not None else None
        if expected is not None and (
            secret is None or not hmac.compare_digest(secret, expected)
        ):
            raise IdentityError(
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent "
                "in the request is the client secret value, not the client "
                "secret ID.",
                401,
            )

        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._redeem_code(request, client_id, tenant)
        if grant_type == "refresh_token":
            return self._refresh(request, client_id, tenant)
        raise IdentityError(
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
        )

    def _redeem_code(
        self, request: Request, client_id: str, tenant: str
    ) -> dict[str, Any]:
        state = self.provider.state
        now = self.provider.sandbox.clock.now()
        code = state.codes.get(request.form.get("code", ""))
        if code is None:
            raise IdentityError(
                "invalid_grant",
                70000,
                "The provided value for the 'code' parameter is not valid.",
            )
        grant = state.grants[code.grant_id]
        if code.redeemed:
            raise IdentityError(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry "
                "with a new valid code or use an existing refresh token.",
            )
        if code.expires_at <= now:
            raise IdentityError(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired "
                "due to inactivity. Send a new interactive authorization request "
                "for this user and resource.",
            )
        if grant.client_id != client_id:
            raise IdentityError(
                "invalid_grant",
                70000,
                "The provided value for the 'code' parameter is not valid: it "
                "was issued to another client.",
            )
        if request.form.get("redirect_uri") != code.redirect_uri:
            raise IdentityError(
                "invalid_grant",
                500117,
                "The reply uri specified in the request does not match the "
                "reply uri used in the authorization request.",
            )
        if code.code_challenge:
            verifier = request.form.get("code_verifier", "")
            if not verifier or not _pkce_matches(
                verifier, code.code_challenge, code.code_challenge_method
            ):
                raise IdentityError(
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge "
                    "supplied in the authorization request.",
                )
        if grant.revoked:
            raise _revoked()

        code.redeemed = True
        return self._token_response(request, grant, code.scopes, tenant, code.nonce)

    def _refresh(self, request: Request, client_id: str, tenant: str) -> dict[str, Any]:
        state = self.provider.state
        now = self.provider.sandbox.clock.now()
        refresh = state.refresh_tokens.get(request.form.get("refresh_token", ""))
        if refresh is None:
            raise IdentityError(
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid: the refresh "
                "token is not valid.",
            )
        grant = state.grants[refresh.grant_id]
        if grant.revoked:
            raise _revoked()
        if refresh.expires_at <= now:
            raise IdentityError(
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity. The token was "
                "issued on a date more than 90 days ago.",
            )
        if grant.client_id != client_id:
            raise IdentityError(
                "invalid_grant",
                70000,
                "Provided grant is invalid or malformed: it was issued to "
                "another client.",
            )

        scopes = refresh.scopes
        if request.form.get("scope"):
            granted = {scope_name(scope) for scope in refresh.scopes}
            asked = split_scopes(request.form["scope"])
            missing = [scope for scope in asked if scope_name(scope) not in granted]
            if missing:
                raise IdentityError(
                    "invalid_grant",
                    65001,
                    "The user or administrator has not consented to use the "
                    f"application with ID '{client_id}'. Send an interactive "
                    f"authorization request for this user and resource "
                    f"({' '.join(missing)}).",
                )
            scopes = asked + [
                scope for scope in refresh.scopes if scope_name(scope) in OIDC_SCOPES
            ]
            scopes = split_scopes(" ".join(scopes))
        return self._token_response(request, grant, scopes, tenant, None)

    def _token_response(
        self,
        request: Request,
        grant: Grant,
        scopes: list[str],
        tenant: str,
        nonce: str | None,
    ) -> dict[str, Any]:
        state = self.provider.state
        now = self.provider.sandbox.clock.now()
        lifetime = state.settings.access_token_lifetime
        access = AccessToken(
            token=new_token("EwB"),
            grant_id=grant.id,
            user_id=grant.user_id,
            scopes=scopes,
            expires_at=now + lifetime,
        )
        state.access_tokens[access.token] = access
        names = {scope_name(scope) for scope in scopes}
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(scopes),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access.token,
        }
        if "offline_access" in names:
            refresh = RefreshToken(
                token=new_token("M.R3_"),
                grant_id=grant.id,
                scopes=scopes,
                expires_at=now + state.settings.refresh_token_lifetime,
            )
            state.refresh_tokens[refresh.token] = refresh
            body["refresh_token"] = refresh.token
        if "openid" in names:
            user = state.users[grant.user_id]
            body["id_token"] = self._id_token(request, user, grant, nonce, names)
        return body

    # Id tokens and discovery -------------------------------------------------

    def _id_token(
        self,
        request: Request,
        user: User,
        grant: Grant,
        nonce: str | None,
        scopes: set[str],
    ) -> str:
        now = int(self.provider.sandbox.clock.now())
        pairwise = hashlib.sha256(f"{user.id}:{grant.client_id}".encode()).digest()
        claims: dict[str, Any] = {
            "ver": "2.0",
            "iss": self._issuer(request, user.tenant_id),
            "sub": base64.urlsafe_b64encode(pairwise).decode().rstrip("="),
            "aud": grant.client_id,
            "exp": now + 3600,
            "iat": now,
            "nbf": now,
            "oid": user.id,
            "tid": user.tenant_id,
            "preferred_username": user.address,
            "name": user.display_name,
            "aio": secrets.token_urlsafe(24),
        }
        if "email" in scopes:
            claims["email"] = user.address
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(
            claims, self._key, algorithm="RS256", headers={"kid": self._key_id}
        )

    def _issuer(self, request: Request, tenant_id: str) -> str:
        return f"{request.host_url.rstrip('/')}/microsoft/{tenant_id}/v2.0"

    def _discovery(self, request: Request, tenant: str) -> dict[str, Any]:
        base = f"{request.host_url.rstrip('/')}/microsoft/{tenant}"
        return {
            "issuer": self._issuer(request, "{tenantid}"),
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "userinfo_endpoint": f"{request.host_url.rstrip('/')}/graph/oidc/userinfo",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "client_secret_basic",
            ],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "name",
                "preferred_username",
                "email",
                "oid",
                "tid",
                "ver",
            ],
            "tenant_region_scope": "EU",
        }

    def _public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self._key_id, "use": "sig", "alg": "RS256"})
        return dict(jwk)


def _pkce_matches(verifier: str, challenge: str, method: str | None) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        return hmac.compare_digest(expected, challenge)
    return hmac.compare_digest(verifier, challenge)


def _revoked() -> IdentityError:
    return IdentityError(
        "invalid_grant",
        50173,
        "The provided grant has expired due to it being revoked, a fresh auth "
        "token is needed. The user might have changed or reset their password.",
    )


def _redirect(params: dict[str, str], fields: dict[str, str]) -> Response:
    redirect_uri = params["redirect_uri"]
    mode = params.get("response_mode", "query")
    if mode == "form_post":
        return Response(render_form_post(redirect_uri, fields), mimetype="text/html")
    separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
    return Response(
        status=302,
        headers={"Location": f"{redirect_uri}{separator}{urlencode(fields)}"},
    )


def _redirect_error(params: dict[str, str], error: str, description: str) -> Response:
    fields = {"error": error, "error_description": description}
    if "state" in params:
        fields["state"] = params["state"]
    return _redirect(params, fields)


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), mimetype="application/json")
