"""OAuth token endpoints of Google and Microsoft: refresh and revoke.

allauth runs the consent and the first code exchange; everything after it
(refreshing ahead of expiry, learning the granted scopes, revoking on
disconnect) goes through here, over one HTTP session with a timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone

from mailsync.errors import ProviderError

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 15

# What each scope the app needs is called on the consent screen, for the
# message an employee reads when they unticked it.
REQUIRED_SCOPES = {
    "gmail": {
        "https://www.googleapis.com/auth/gmail.readonly": "Read your email",
        "https://www.googleapis.com/auth/gmail.send": "Send email on your behalf",
    },
    "outlook": {
        "mail.readwrite": "Read and write access to your mail",
        "mail.send": "Send mail as you",
    },
}


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_at: datetime
    refresh_token: str | None
    scopes: list[str]


def _app_credentials(provider: str) -> tuple[str, str]:
    key = "google" if provider == "gmail" else "microsoft"
    providers: dict[str, Any] = settings.SOCIALACCOUNT_PROVIDERS
    app = providers[key]["APPS"][0]
    return str(app["client_id"]), str(app["secret"])


def token_url(provider: str) -> str:
    if provider == "gmail":
        return settings.GOOGLE_ENDPOINTS["token"]
    login = settings.MICROSOFT_ENDPOINTS["login"]
    return f"{login}/{settings.MICROSOFT_TENANT}/oauth2/v2.0/token"


# AADSTS65001: the grant lacks scopes the request asked for, which is how
# Microsoft answers a consent with a permission unticked.
CONSENT_MISSING = 65001


class ConsentMissing(ProviderError):
    """The grant does not cover every scope RevStackr asks for."""


def refresh_access_token(*, provider: str, refresh_token: str) -> TokenGrant:
    """Trade a refresh token for a new access token.

    Raises ``ProviderError``: permanent when the provider refuses the grant
    (revoked, expired, consent withdrawn), temporary otherwise.
    """
    client_id, secret = _app_credentials(provider)
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": secret,
    }
    if provider == "outlook":
        data["scope"] = " ".join(settings.MICROSOFT_SCOPES)

    try:
        response = requests.post(
            token_url(provider), data=data, timeout=HTTP_TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        raise ProviderError(f"Could not reach the provider: {error}") from error

    if response.status_code >= 500 or response.status_code == 429:
        raise ProviderError(
            f"The provider answered {response.status_code} to a token refresh."
        )
    try:
        body = response.json()
    except ValueError as error:
        raise ProviderError("The provider's token answer was not JSON.") from error
    if response.status_code != 200:
        if provider == "outlook" and CONSENT_MISSING in body.get("error_codes", []):
            raise ConsentMissing(
                "Microsoft has not been allowed to let RevStackr read and send "
                "your email.",
                permanent=True,
            )
        raise ProviderError(_describe_refusal(provider, body), permanent=True)

    return TokenGrant(
        access_token=body["access_token"],
        expires_at=timezone.now() + timedelta(seconds=int(body.get("expires_in", 0))),
        refresh_token=body.get("refresh_token"),
        scopes=body.get("scope", "").split(),
    )


def _describe_refusal(provider: str, body: dict[str, object]) -> str:
    error = str(body.get("error", "unknown_error"))
    name = "Google" if provider == "gmail" else "Microsoft"
    if error == "invalid_grant":
        return (
            f"{name} no longer accepts RevStackr's access (it was revoked or expired)."
        )
    return f"{name} refused to renew access ({error})."


def missing_scopes(provider: str, granted: list[str]) -> list[str]:
    """Consent-screen names of the required scopes that were not granted."""
    have = {
        scope.lower().rsplit("/", 1)[-1] if provider == "outlook" else scope
        for scope in granted
    }
    return [
        label for scope, label in REQUIRED_SCOPES[provider].items() if scope not in have
    ]


def revoke_grant(*, provider: str, refresh_token: str) -> None:
    """Withdraw the grant at the provider, where the provider allows it.

    Google revokes a refresh token and its access tokens. Microsoft has no
    per-application revocation endpoint; forgetting the tokens is all an
    application can do, and the employee can remove the app from their
    Microsoft account page.
    """
    if provider != "gmail" or not refresh_token:
        return
    try:
        response = requests.post(
            settings.GOOGLE_ENDPOINTS["revoke"],
            data={"token": refresh_token},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except requests.RequestException:
        logger.warning("could not reach Google to revoke a grant", exc_info=True)
        return
    # 400 means the token was no longer valid: nothing is left to revoke.
    if response.status_code not in (200, 400):
        logger.warning("Google answered %s to a revocation", response.status_code)
