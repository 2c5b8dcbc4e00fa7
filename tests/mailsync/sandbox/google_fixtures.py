"""Fixtures for the Google stand-in's conformance tests.

Everything reaches the sandbox through the real client libraries
(google-auth, google-api-python-client) or plain HTTP for the consent
screen; the control client only sets the scene and looks at the result.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from google.oauth2.credentials import Credentials

from mailsync.providers.gmail_api import build_gmail_service
from mailsync.sandbox import Sandbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl

GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
GMAIL_SEND = "https://www.googleapis.com/auth/gmail.send"
GMAIL_MODIFY = "https://www.googleapis.com/auth/gmail.modify"
GMAIL_INSERT = "https://www.googleapis.com/auth/gmail.insert"
GMAIL_METADATA = "https://www.googleapis.com/auth/gmail.metadata"
USERINFO_EMAIL = "https://www.googleapis.com/auth/userinfo.email"
CRM_SCOPES = ["openid", "email", "profile", GMAIL_READONLY, GMAIL_SEND]
ALL_TEST_SCOPES = [*CRM_SCOPES, GMAIL_MODIFY, GMAIL_INSERT]

OWNER = "sam@revstackr.test"
CLIENT_ID = "revstackr-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-secret"
REDIRECT_URI = "http://127.0.0.1:9/accounts/google/login/callback/"

GmailFactory = Callable[..., Any]


@pytest.fixture
def google(sandbox: Sandbox) -> GoogleSandboxControl:
    return GoogleSandboxControl(sandbox.base_url)


@pytest.fixture
def owner(google: GoogleSandboxControl) -> str:
    """The address of a sandbox Google account with a Gmail mailbox."""
    google.create_user(OWNER, "Sam Seller", aliases=["sales@revstackr.test"])
    return OWNER


def credentials_from(sandbox: Sandbox, tokens: dict[str, Any]) -> Credentials:
    return Credentials(
        tokens["access_token"],
        refresh_token=tokens.get("refresh_token"),
        token_uri=sandbox.base_url + "/google/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )


@pytest.fixture
def make_gmail(sandbox: Sandbox, google: GoogleSandboxControl) -> GmailFactory:
    """Build a Gmail service for an address, granted the given scopes."""

    def make(address: str = OWNER, scopes: list[str] | None = None) -> Any:
        tokens = google.grant(address, scopes or ALL_TEST_SCOPES, client_id=CLIENT_ID)
        return build_gmail_service(
            credentials_from(sandbox, tokens), sandbox.base_url + "/"
        )

    return make


@pytest.fixture
def gmail(owner: str, make_gmail: GmailFactory) -> Any:
    """The owner's Gmail service with every scope the tests use."""
    return make_gmail(owner)


@dataclass
class Authorization:
    """The result of the authorization-code dance."""

    redirect: dict[str, str]
    verifier: str
    tokens: dict[str, Any] | None = None


def authorize(
    sandbox: Sandbox,
    address: str,
    *,
    scopes: list[str] = CRM_SCOPES,
    untick: tuple[str, ...] = (),
    decision: str = "allow",
    extra: dict[str, str] | None = None,
    exchange: bool = True,
) -> Authorization:
    """Go through the consent screen as a browser would, then (optionally)
    exchange the code at the token endpoint."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .decode()
        .rstrip("=")
    )
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": "xyz-state",
        "access_type": "offline",
        "prompt": "consent",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **(extra or {}),
    }
    auth_url = sandbox.base_url + "/google/o/oauth2/v2/auth"
    page = requests.get(auth_url, params=params, timeout=10)
    assert page.status_code == 200, page.text

    granted = [scope for scope in _long_scopes(scopes) if scope not in untick]
    form = {
        **params,
        "account": address,
        "granted_scope": granted,
        "decision": decision,
    }
    answer = requests.post(auth_url, data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    redirect = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    result = Authorization(redirect=redirect, verifier=verifier)
    if exchange and "code" in redirect:
        result.tokens = exchange_code(sandbox, redirect["code"], verifier).json()
    return result


def exchange_code(sandbox: Sandbox, code: str, verifier: str) -> requests.Response:
    return requests.post(
        sandbox.base_url + "/google/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code_verifier": verifier,
        },
        timeout=10,
    )


def _long_scopes(scopes: list[str]) -> list[str]:
    short = {
        "email": USERINFO_EMAIL,
        "profile": "https://www.googleapis.com/auth/userinfo.profile",
    }
    return [short.get(scope, scope) for scope in scopes]
