"""Google's OAuth 2.0 and OpenID Connect endpoints, and the grants behind them.

Client registration is optional: while no client is registered, any
client_id, secret and redirect URI are accepted, so the demo works with
whatever the app is configured with; once one is registered, only
registered clients and their redirect URIs are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from mailsync.sandbox.core import (
    DropConnection,
    Fault,
    Sandbox,
    apply_delay,
    json_response,
)
from mailsync.sandbox.google.consent import render_consent, render_error
from mailsync.sandbox.google.errors import OAuthError, unauthenticated
from mailsync.sandbox.google.signing import IdTokenSigner
from mailsync.sandbox.google.state import (
    AccessToken,
    AuthorizationCode,
    GoogleState,
    Grant,
    Mailbox,
    new_token,
)

USERINFO_EMAIL = "https://www.googleapis.com/auth/userinfo.email"
USERINFO_PROFILE = "https://www.googleapis.com/auth/userinfo.profile"
SCOPE_ALIASES = {"email": USERINFO_EMAIL, "profile": USERINFO_PROFILE}
SIGN_IN_SCOPES = frozenset({"openid", USERINFO_EMAIL, USERINFO_PROFILE})

ACCESS_TOKEN_SECONDS = 3599
ID_TOKEN_SECONDS = 3600
CODE_SECONDS = 600


def normalise_scopes(value: str | list[str]) -> list[str]:
    """Scopes in Google's long form, once each, in the order asked."""
    scopes = value.split() if isinstance(value, str) else value
    normalised: list[str] = []
    for scope in scopes:
        scope = SCOPE_ALIASES.get(scope, scope)
        if scope not in normalised:
            normalised.append(scope)
    return normalised


class _ConsentRefused(Exception):
    """An authorization request Google answers with its own error page."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail


class _RedirectBack(Exception):
    """An authorization request refused with an error sent to the app."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.headers.get("Location"))
        self.response = response


class OAuthServer:
    """Authorization, token, revoke, userinfo and certificate endpoints."""

    def __init__(self, sandbox: Sandbox, state: GoogleState, signer: IdTokenSigner):
        self.sandbox = sandbox
        self.state = state
        self.signer = signer

    @property
    def issuer(self) -> str:
        return self.sandbox.base_url + "/google"

    # Access tokens, for the Gmail API ----------------------------------------

    def authenticate(self, request: Request) -> AccessToken | None:
        """The live access token the request carries, if any."""
        header = request.headers.get("Authorization", "")
        value = header[7:].strip() if header[:7].lower() == "bearer " else ""
        value = (
            value
            or request.args.get("access_token")
            or request.args.get("oauth_token", "")
        )
        with self.sandbox.lock:
            token = self.state.access_tokens.get(value)
            if token is None or token.grant_id not in self.state.grants:
                return None
            if token.expires_at <= self.sandbox.clock.now():
                return None
            return token

    def token_owner(self, request: Request) -> str | None:
        """The address of whoever the request's token was issued to, even
        when the token no longer works; faults are aimed at mailboxes."""
        header = request.headers.get("Authorization", "")
        value = header[7:].strip() if header[:7].lower() == "bearer " else ""
        value = value or request.args.get("access_token", "")
        with self.sandbox.lock:
            token = self.state.access_tokens.get(value)
            grant = self.state.grants.get(token.grant_id) if token else None
            return grant.address if grant else None

    # Authorization endpoint --------------------------------------------------

    def authorize(self, request: Request) -> Response:
        params = request.form if request.method == "POST" else request.args
        fault = self._fault("oauth2.authorize", None)
        if fault is not None:
            return self._fault_response(fault, html=True)

        try:
            client_id, redirect_uri, scopes = self._check_authorization(params)
        except _ConsentRefused as refused:
            return Response(
                render_error(refused.title, refused.detail),
                status=refused.status,
                mimetype="text/html",
            )
        except _RedirectBack as refused:
            return refused.response
        if request.method == "GET":
            return self._consent_page(request, params, client_id, scopes)
        return self._decide(request, params, client_id, redirect_uri, scopes)

    def _check_authorization(self, params: Any) -> tuple[str, str, list[str]]:
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if not client_id:
            raise _ConsentRefused(
                400,
                "Error 400: invalid_request",
                "Missing required parameter: client_id",
            )
        with self.sandbox.lock:
            registered = bool(self.state.clients)
            client = self.state.clients.get(client_id)
        if registered and client is None:
            raise _ConsentRefused(
                401, "Error 401: invalid_client", "The OAuth client was not found."
            )
        if not redirect_uri or not urlsplit(redirect_uri).scheme:
            raise _ConsentRefused(
                400, "Error 400: invalid_request", "Missing or invalid redirect_uri."
            )
        if client is not None and redirect_uri not in client.redirect_uris:
            raise _ConsentRefused(
                400,
                "Error 400: redirect_uri_mismatch",
                f"The redirect URI in the request, {redirect_uri}, does not match the"
                " ones authorized for the OAuth client.",
            )

        # From here on, Google reports problems to the app's redirect URI.
        state = params.get("state")
        if params.get("response_type") != "code":
            raise _RedirectBack(
                _redirect(redirect_uri, error="unsupported_response_type", state=state)
            )
        scopes = normalise_scopes(params.get("scope", ""))
        if not scopes:
            raise _ConsentRefused(
                400, "Error 400: invalid_request", "Missing required parameter: scope"
            )
        method = params.get("code_challenge_method", "")
        if params.get("code_challenge") and method not in ("", "S256", "plain"):
            raise _RedirectBack(
                _redirect(redirect_uri, error="invalid_request", state=state)
            )
        return client_id, redirect_uri, scopes

    def _consent_page(
        self,
        request: Request,
        params: Any,
        client_name: str,
        scopes: list[str],
        *,
        error: str = "",
        status: int = 200,
    ) -> Response:
        with self.sandbox.lock:
            accounts = [(m.address, m.name) for m in self.state.mailboxes.values()]
        own_params = {
            name: value
            for name, value in params.items()
            if name not in ("account", "account_address", "granted_scope", "decision")
        }
        page = render_consent(
            action=request.base_url,
            params=own_params,
            client_name=client_name,
            accounts=accounts,
            scopes=scopes,
            sign_in_scopes=SIGN_IN_SCOPES,
            chosen=params.get("account") or params.get("login_hint", ""),
            error=error,
        )
        return Response(page, status=status, mimetype="text/html")

    def _decide(
        self,
        request: Request,
        params: Any,
        client_id: str,
        redirect_uri: str,
        scopes: list[str],
    ) -> Response:
        state = params.get("state")
        if params.get("decision") != "allow":
            return _redirect(redirect_uri, error="access_denied", state=state)

        address = (
            (params.get("account_address") or params.get("account") or "")
            .strip()
            .lower()
        )
        with self.sandbox.lock:
            mailbox = self.state.mailbox_for(address) if address else None
        if mailbox is None:
            return self._consent_page(
                request,
                params,
                client_id,
                scopes,
                error="Couldn't find your Google Account."
                if address
                else "Choose an account.",
                status=400,
            )

        ticked = set(params.getlist("granted_scope"))
        granted = [s for s in scopes if s in ticked or s in SIGN_IN_SCOPES]
        code = AuthorizationCode(
            code=new_token("4/0A", 40),
            client_id=client_id,
            redirect_uri=redirect_uri,
            address=mailbox.address,
            scopes=granted,
            expires_at=self.sandbox.clock.now() + CODE_SECONDS,
            access_type=params.get("access_type", "online"),
            prompt=params.get("prompt", ""),
            include_granted_scopes=params.get("include_granted_scopes") == "true",
            code_challenge=params.get("code_challenge", ""),
            code_challenge_method=params.get("code_challenge_method", "") or "plain",
            nonce=params.get("nonce", ""),
        )
        with self.sandbox.lock:
            self.state.codes[code.code] = code
        self.sandbox.counters.record("google", mailbox.address, "oauth2.authorize")
        return _redirect(
            redirect_uri,
            state=state,
            code=code.code,
            scope=" ".join(granted),
            authuser="0",
            prompt="consent",
        )

    # Token endpoint ----------------------------------------------------------

    def token(self, request: Request) -> Response:
        try:
            return json_response(self._token(request), Cache_Control="no-store")
        except OAuthError as error:
            return error.response()

    def _token(self, request: Request) -> dict[str, Any]:
        form = request.form
        client_id, client_secret = (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        if request.authorization is not None and request.authorization.type == "basic":
            client_id = request.authorization.username or client_id
            client_secret = request.authorization.password or client_secret
        grant_type = form.get("grant_type", "")

        with self.sandbox.lock:
            address = self._address_for_token_request(form, grant_type)
        self.sandbox.counters.record("google", address, "oauth2.token")
        fault = self._fault("oauth2.token", address)
        if fault is not None:
            self._raise_token_fault(fault)

        with self.sandbox.lock:
            self._check_client(client_id, client_secret)
            if grant_type == "authorization_code":
                return self._exchange_code(form, client_id)
            if grant_type == "refresh_token":
                return self._refresh(form, client_id)
        raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _address_for_token_request(self, form: Any, grant_type: str) -> str | None:
        if grant_type == "authorization_code":
            code = self.state.codes.get(form.get("code", ""))
            return code.address if code else None
        grant = self._grant_of_refresh_token(form.get("refresh_token", ""))
        return grant.address if grant else None

    def _check_client(self, client_id: str, client_secret: str) -> None:
        if not client_id:
            raise OAuthError(
                "invalid_request", "Could not determine client ID from request."
            )
        if not self.state.clients:
            return
        client = self.state.clients.get(client_id)
        if client is None:
            raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
        if not hmac.compare_digest(client.client_secret, client_secret):
            raise OAuthError("invalid_client", "Unauthorized", 401)

    def _exchange_code(self, form: Any, client_id: str) -> dict[str, Any]:
        code = self.state.codes.pop(form.get("code", ""), None)
        if code is None or code.expires_at <= self.sandbox.clock.now():
            raise OAuthError("invalid_grant", "Malformed auth code.")
        if code.client_id != client_id:
            raise OAuthError("invalid_grant", "Unauthorized")
        if form.get("redirect_uri", "") != code.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "Bad Request")
        if code.code_challenge and not _pkce_matches(
            code, form.get("code_verifier", "")
        ):
            raise OAuthError("invalid_grant", "Invalid code verifier.")
        mailbox = self.state.mailboxes.get(code.address)
        if mailbox is None:
            raise OAuthError("invalid_grant", "Account has been deleted")

        grant = self._grant_for(code.address, client_id)
        if grant is None:
            grant = Grant(
                id=secrets.token_hex(8),
                address=code.address,
                client_id=client_id,
                scopes=list(code.scopes),
            )
            self.state.grants[grant.id] = grant
        elif code.include_granted_scopes:
            grant.scopes = normalise_scopes(grant.scopes + code.scopes)
        else:
            grant.scopes = list(code.scopes)

        # Google hands out a refresh token the first time an account allows
        # offline access, and afterwards only when consent was asked again.
        offline = code.access_type == "offline"
        with_refresh = offline and (
            not grant.refresh_tokens or "consent" in code.prompt.split()
        )
        return self._issue(
            grant, mailbox, grant.scopes, with_refresh=with_refresh, nonce=code.nonce
        )

    def _refresh(self, form: Any, client_id: str) -> dict[str, Any]:
        grant = self._grant_of_refresh_token(form.get("refresh_token", ""))
        if grant is None:
            raise OAuthError("invalid_grant", "Token has been expired or revoked.")
        if grant.client_id != client_id:
            raise OAuthError("unauthorized_client", "Unauthorized")
        scopes = grant.scopes
        if form.get("scope"):
            asked = normalise_scopes(form["scope"])
            if not set(asked) <= set(grant.scopes):
                raise OAuthError("invalid_scope", "Bad Request")
            scopes = asked
        mailbox = self.state.mailboxes[grant.address]
        return self._issue(grant, mailbox, scopes, with_refresh=False)

    def issue_grant(
        self, mailbox: Mailbox, client_id: str, scopes: list[str]
    ) -> dict[str, Any]:
        """Grant access without the consent screen (the control surface's)."""
        with self.sandbox.lock:
            scopes = normalise_scopes(scopes)
            grant = self._grant_for(mailbox.address, client_id)
            if grant is None:
                grant = Grant(secrets.token_hex(8), mailbox.address, client_id, scopes)
                self.state.grants[grant.id] = grant
            else:
                grant.scopes = scopes
            return self._issue(grant, mailbox, scopes, with_refresh=True)

    def _issue(
        self,
        grant: Grant,
        mailbox: Mailbox,
        scopes: list[str],
        *,
        with_refresh: bool,
        nonce: str = "",
    ) -> dict[str, Any]:
        access = AccessToken(
            token=new_token("ya29.a0"),
            grant_id=grant.id,
            scopes=list(scopes),
            expires_at=self.sandbox.clock.now() + ACCESS_TOKEN_SECONDS,
        )
        self.state.access_tokens[access.token] = access
        answer: dict[str, Any] = {
            "access_token": access.token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        if with_refresh:
            refresh_token = new_token("1//0g")
            grant.refresh_tokens.append(refresh_token)
            answer["refresh_token"] = refresh_token
        if "openid" in scopes:
            answer["id_token"] = self._id_token(mailbox, grant.client_id, scopes, nonce)
        return answer

    def _id_token(
        self, mailbox: Mailbox, client_id: str, scopes: list[str], nonce: str
    ) -> str:
        # The app checks iat and exp against real time, so they are real
        # time, not the sandbox clock.
        issued_at = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "azp": client_id,
            "aud": client_id,
            "sub": mailbox.sub,
            "iat": issued_at,
            "exp": issued_at + ID_TOKEN_SECONDS,
        }
        claims.update(_identity_claims(mailbox, scopes, version=3))
        if nonce:
            claims["nonce"] = nonce
        return self.signer.sign(claims)

    def _grant_for(self, address: str, client_id: str) -> Grant | None:
        for grant in self.state.grants.values():
            if grant.address == address and grant.client_id == client_id:
                return grant
        return None

    def _grant_of_refresh_token(self, refresh_token: str) -> Grant | None:
        if not refresh_token:
            return None
        for grant in self.state.grants.values():
            if refresh_token in grant.refresh_tokens:
                return grant
        return None

    # Revocation --------------------------------------------------------------

    def revoke(self, request: Request) -> Response:
        token = request.form.get("token") or request.args.get("token", "")
        with self.sandbox.lock:
            grant = self._grant_of_refresh_token(token)
            access = self.state.access_tokens.get(token)
            if grant is None and access is not None:
                grant = self.state.grants.get(access.grant_id)
            address = grant.address if grant else None
        self.sandbox.counters.record("google", address, "oauth2.revoke")
        fault = self._fault("oauth2.revoke", address)
        if fault is not None:
            try:
                self._raise_token_fault(fault)
            except OAuthError as error:
                return error.response()

        if grant is None:
            return OAuthError("invalid_token", "Token expired or revoked").response()
        with self.sandbox.lock:
            self.revoke_grant(grant)
        return json_response({})

    def revoke_grant(self, grant: Grant) -> None:
        """End a grant: its refresh tokens and access tokens stop working."""
        self.state.grants.pop(grant.id, None)
        for token in [
            t for t in self.state.access_tokens.values() if t.grant_id == grant.id
        ]:
            del self.state.access_tokens[token.token]

    def revoke_grants_of(self, address: str, client_id: str | None = None) -> int:
        with self.sandbox.lock:
            grants = [
                grant
                for grant in self.state.grants.values()
                if grant.address == address and client_id in (None, grant.client_id)
            ]
            for grant in grants:
                self.revoke_grant(grant)
        return len(grants)

    # Identity ----------------------------------------------------------------

    def userinfo(self, request: Request, version: int) -> Response:
        address = self.token_owner(request)
        self.sandbox.counters.record("google", address, "oauth2.userinfo")
        fault = self._fault("oauth2.userinfo", address)
        if fault is not None and fault.kind == "expire_token":
            return unauthenticated().response()
        if fault is not None:
            return self._fault_response(fault, html=False)

        token = self.authenticate(request)
        if token is None:
            return unauthenticated().response()
        with self.sandbox.lock:
            mailbox = self.state.mailboxes[self.state.grants[token.grant_id].address]
            claims = _identity_claims(mailbox, token.scopes, version=version)
        key = "sub" if version == 3 else "id"
        return json_response({key: mailbox.sub, **claims})

    def certificates(self, request: Request) -> Response:
        return json_response(
            self.signer.pem_certificates(), Cache_Control="public, max-age=3600"
        )

    def jwks(self, request: Request) -> Response:
        return json_response(self.signer.jwks(), Cache_Control="public, max-age=3600")

    def openid_configuration(self, request: Request) -> Response:
        base = self.sandbox.base_url
        return json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": base + "/google/o/oauth2/v2/auth",
                "token_endpoint": base + "/google/token",
                "userinfo_endpoint": base + "/google/oauth2/v3/userinfo",
                "revocation_endpoint": base + "/google/revoke",
                "jwks_uri": base + "/google/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
            }
        )

    def tokeninfo(self, request: Request) -> Response:
        token = self.authenticate(request)
        if token is None:
            return OAuthError("invalid_token", "Invalid Value").response()
        with self.sandbox.lock:
            grant = self.state.grants[token.grant_id]
            mailbox = self.state.mailboxes[grant.address]
            expires_in = int(token.expires_at - self.sandbox.clock.now())
        answer = {
            "azp": grant.client_id,
            "aud": grant.client_id,
            "sub": mailbox.sub,
            "scope": " ".join(token.scopes),
            "exp": str(int(time.time()) + expires_in),
            "expires_in": str(expires_in),
            "access_type": "offline" if grant.refresh_tokens else "online",
        }
        if USERINFO_EMAIL in token.scopes:
            answer.update(email=mailbox.address, email_verified="true")
        return json_response(answer)

    # Faults ------------------------------------------------------------------

    def _fault(self, operation: str, address: str | None) -> Fault | None:
        fault = self.sandbox.faults.pick("google", operation, address)
        if fault is None:
            return None
        if fault.kind == "drop":
            raise DropConnection()
        if fault.kind == "slow":
            apply_delay(fault)
            return None
        return fault

    def _raise_token_fault(self, fault: Fault) -> None:
        if fault.kind == "rate_limit":
            raise OAuthError(
                "rate_limit_exceeded", "Rate limit exceeded", 429, fault.retry_after
            )
        if fault.kind == "server_error":
            raise OAuthError("internal_failure", "Backend Error", 500)
        if fault.kind == "unavailable":
            raise OAuthError(
                "temporarily_unavailable", "Try again later", 503, fault.retry_after
            )
        if fault.kind == "expire_token":
            raise OAuthError("invalid_grant", "Token has been expired or revoked.")

    def _fault_response(self, fault: Fault, *, html: bool) -> Response:
        status = {"rate_limit": 429, "server_error": 500, "unavailable": 503}.get(
            fault.kind
        )
        if status is None:
            status = 500
        headers = {"Retry-After": str(fault.retry_after)} if status != 500 else {}
        if html:
            body = render_error(
                f"Error {status}", "The server encountered a temporary error."
            )
            return Response(body, status=status, mimetype="text/html", headers=headers)
        return Response(b"", status=status, headers=headers)


def _pkce_matches(code: AuthorizationCode, verifier: str) -> bool:
    if not verifier:
        return False
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        expected = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    else:
        expected = verifier
    return hmac.compare_digest(expected, code.code_challenge)


def _identity_claims(
    mailbox: Mailbox, scopes: list[str], *, version: int
) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    if USERINFO_EMAIL in scopes:
        claims["email"] = mailbox.address
        claims["verified_email" if version == 2 else "email_verified"] = True
    if USERINFO_PROFILE in scopes:
        given, _, family = mailbox.name.partition(" ")
        claims["name"] = mailbox.name
        claims["given_name"] = given
        if family:
            claims["family_name"] = family
    return claims


def _redirect(redirect_uri: str, **params: str | None) -> Response:
    query = urlencode(
        {name: value for name, value in params.items() if value is not None}
    )
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return Response(
        status=302, headers={"Location": f"{redirect_uri}{separator}{query}"}
    )
