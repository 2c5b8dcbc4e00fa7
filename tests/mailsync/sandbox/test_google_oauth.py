"""The Google stand-in's OAuth 2.0: consent, code + PKCE, refresh, revoke."""

from __future__ import annotations

import jwt
import pytest
import requests
from cryptography import x509
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from mailsync.providers.gmail_api import build_gmail_service
from mailsync.sandbox import Sandbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from tests.mailsync.sandbox.google_fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    CRM_SCOPES,
    GMAIL_READONLY,
    GMAIL_SEND,
    REDIRECT_URI,
    USERINFO_EMAIL,
    authorize,
    credentials_from,
    exchange_code,
)


def test_consent_page_lists_accounts_and_untickable_scopes(
    sandbox: Sandbox, owner: str
) -> None:
    page = requests.get(
        sandbox.base_url + "/google/o/oauth2/v2/auth",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": " ".join(CRM_SCOPES),
        },
        timeout=10,
    )

    assert page.status_code == 200
    assert owner in page.text
    assert f'name="granted_scope" value="{GMAIL_SEND}" checked' in page.text
    assert 'value="deny"' in page.text and 'value="allow"' in page.text


def test_code_exchange_with_pkce_answers_tokens_and_a_verifiable_id_token(
    sandbox: Sandbox, owner: str
) -> None:
    result = authorize(sandbox, owner)

    assert result.redirect["state"] == "xyz-state"
    tokens = result.tokens
    assert tokens is not None
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3599
    assert tokens["refresh_token"]
    assert set(tokens["scope"].split()) == {
        "openid",
        USERINFO_EMAIL,
        "https://www.googleapis.com/auth/userinfo.profile",
        GMAIL_READONLY,
        GMAIL_SEND,
    }

    # Verified the way allauth does: PEM certificates keyed by kid.
    certs = requests.get(
        sandbox.base_url + "/google/oauth2/v1/certs", timeout=10
    ).json()
    kid = jwt.get_unverified_header(tokens["id_token"])["kid"]
    key = x509.load_pem_x509_certificate(certs[kid].encode()).public_key()
    claims = jwt.decode(
        tokens["id_token"],
        key=key,  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=sandbox.base_url + "/google",
    )
    assert claims["email"] == owner
    assert claims["email_verified"] is True
    assert claims["name"] == "Sam Seller"
    assert claims["sub"].isdigit()


def test_unticked_scope_is_not_granted_and_its_method_is_refused(
    sandbox: Sandbox, owner: str, google: GoogleSandboxControl
) -> None:
    result = authorize(sandbox, owner, untick=(GMAIL_SEND,))

    assert result.tokens is not None
    assert GMAIL_SEND not in result.tokens["scope"].split()
    gmail = build_gmail_service(
        credentials_from(sandbox, result.tokens), sandbox.base_url + "/"
    )
    assert gmail.users().getProfile(userId="me").execute()["emailAddress"] == owner
    with pytest.raises(HttpError) as refused:
        gmail.users().messages().send(userId="me", body={"raw": "eA"}).execute()
    assert refused.value.status_code == 403
    assert refused.value.error_details[0]["reason"] == "insufficientPermissions"


def test_deny_redirects_with_access_denied(sandbox: Sandbox, owner: str) -> None:
    result = authorize(sandbox, owner, decision="deny")

    assert result.redirect == {"error": "access_denied", "state": "xyz-state"}


def test_wrong_code_verifier_and_reused_code_are_invalid_grant(
    sandbox: Sandbox, owner: str
) -> None:
    result = authorize(sandbox, owner, exchange=False)
    code = result.redirect["code"]

    wrong = exchange_code(sandbox, code, "not-the-verifier" * 4)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"

    fresh = authorize(sandbox, owner, exchange=False)
    assert exchange_code(sandbox, fresh.redirect["code"], fresh.verifier).ok
    reused = exchange_code(sandbox, fresh.redirect["code"], fresh.verifier)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_new_refresh_token_only_when_consent_is_prompted(
    sandbox: Sandbox, owner: str
) -> None:
    first = authorize(sandbox, owner)
    again = authorize(sandbox, owner, extra={"prompt": "select_account"})
    prompted = authorize(sandbox, owner, extra={"prompt": "consent"})

    assert first.tokens and "refresh_token" in first.tokens
    assert again.tokens and "refresh_token" not in again.tokens
    assert (
        prompted.tokens
        and prompted.tokens["refresh_token"] != first.tokens["refresh_token"]
    )


def test_registered_client_refuses_unknown_client_and_redirect_uri(
    sandbox: Sandbox, owner: str, google: GoogleSandboxControl
) -> None:
    google.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    auth_url = sandbox.base_url + "/google/o/oauth2/v2/auth"
    base = {"response_type": "code", "scope": "openid"}

    unknown_client = requests.get(
        auth_url,
        params={**base, "client_id": "other", "redirect_uri": REDIRECT_URI},
        timeout=10,
    )
    wrong_redirect = requests.get(
        auth_url,
        params={**base, "client_id": CLIENT_ID, "redirect_uri": "http://evil.test/cb"},
        timeout=10,
    )

    assert unknown_client.status_code == 401
    assert "invalid_client" in unknown_client.text
    assert wrong_redirect.status_code == 400
    assert "redirect_uri_mismatch" in wrong_redirect.text
    assert authorize(sandbox, owner).tokens is not None


def test_expired_access_token_is_refreshed_by_google_auth(
    sandbox: Sandbox, owner: str, google: GoogleSandboxControl
) -> None:
    result = authorize(sandbox, owner)
    assert result.tokens is not None
    credentials = credentials_from(sandbox, result.tokens)
    gmail = build_gmail_service(credentials, sandbox.base_url + "/")
    gmail.users().getProfile(userId="me").execute()

    google.advance_clock(3600)
    gmail.users().getProfile(userId="me").execute()

    assert credentials.token != result.tokens["access_token"]
    assert google.calls("gmail.users.getProfile") == 3  # ok, 401, ok


def test_revoked_grant_fails_refresh_with_invalid_grant(
    sandbox: Sandbox, owner: str, google: GoogleSandboxControl
) -> None:
    result = authorize(sandbox, owner)
    assert result.tokens is not None
    credentials = credentials_from(sandbox, result.tokens)
    gmail = build_gmail_service(credentials, sandbox.base_url + "/")

    revoked = requests.post(
        sandbox.base_url + "/google/revoke",
        data={"token": result.tokens["refresh_token"]},
        timeout=10,
    )

    assert revoked.status_code == 200
    with pytest.raises(RefreshError, match="invalid_grant"):
        gmail.users().getProfile(userId="me").execute()


def test_control_revoke_by_address_ends_every_token(
    sandbox: Sandbox, owner: str, google: GoogleSandboxControl
) -> None:
    result = authorize(sandbox, owner)
    assert result.tokens is not None

    assert google.revoke_grant(owner) == 1

    bearer = {"Authorization": "Bearer " + result.tokens["access_token"]}
    profile = requests.get(
        sandbox.base_url + "/gmail/v1/users/me/profile", headers=bearer, timeout=10
    )
    assert profile.status_code == 401
    assert profile.json()["error"]["status"] == "UNAUTHENTICATED"
    refresh = requests.post(
        sandbox.base_url + "/google/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": result.tokens["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        timeout=10,
    )
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"


def test_userinfo_answers_in_both_versions(sandbox: Sandbox, owner: str) -> None:
    result = authorize(sandbox, owner)
    assert result.tokens is not None
    bearer = {"Authorization": "Bearer " + result.tokens["access_token"]}

    v2 = requests.get(
        sandbox.base_url + "/google/oauth2/v2/userinfo", headers=bearer, timeout=10
    )
    v3 = requests.get(
        sandbox.base_url + "/google/oauth2/v3/userinfo", headers=bearer, timeout=10
    )

    assert v2.json()["email"] == owner and v2.json()["verified_email"] is True
    assert v3.json()["email"] == owner and v3.json()["email_verified"] is True
    assert v2.json()["id"] == v3.json()["sub"]
