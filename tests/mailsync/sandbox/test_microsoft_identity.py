"""The identity platform stand-in: consent page, tokens, PKCE, revocation."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.message import Message
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)

from mailsync.sandbox import Sandbox
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.mailsync.sandbox.microsoft_fixtures import *  # noqa: F403
from tests.mailsync.sandbox.microsoft_fixtures import Mailbox, run_graph

CLIENT_ID = "revstackr-test"
REDIRECT_URI = "http://testserver/accounts/microsoft/login/callback/"
SCOPES = "openid profile email offline_access User.Read Mail.ReadWrite Mail.Send"


def _mail_to(address: str) -> SendMailPostRequestBody:
    return SendMailPostRequestBody(
        message=Message(
            subject="Hello",
            to_recipients=[Recipient(email_address=EmailAddress(address=address))],
        )
    )


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _authorize(
    http: httpx.Client,
    *,
    account: str,
    untick: tuple[str, ...] = (),
    action: str = "accept",
    challenge: str | None = None,
    client_id: str = CLIENT_ID,
) -> dict[str, list[str]]:
    """Go through the consent page; return the redirect's query."""
    params = {
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": SCOPES,
        "state": "xyz",
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    page = http.get("/microsoft/common/oauth2/v2.0/authorize", params=params)
    assert page.status_code == 200
    request_id = re.search(r'name="consent_request" value="([^"]+)"', page.text)
    assert request_id is not None

    ticked = [scope for scope in SCOPES.split() if scope not in untick]
    answer = http.post(
        "/microsoft/common/oauth2/v2.0/authorize",
        data={
            "consent_request": request_id.group(1),
            "account": account,
            "scope": ticked,
            "action": action,
        },
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return parse_qs(urlsplit(location).query)


def _redeem(
    http: httpx.Client, code: str, verifier: str | None = None
) -> httpx.Response:
    data = {
        "client_id": CLIENT_ID,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return http.post("/microsoft/common/oauth2/v2.0/token", data=data)


def _refresh(http: httpx.Client, refresh_token: str) -> httpx.Response:
    return http.post(
        "/microsoft/common/oauth2/v2.0/token",
        data={
            "client_id": CLIENT_ID,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        },
    )


@pytest.fixture
def http(sandbox: Sandbox) -> httpx.Client:
    return httpx.Client(base_url=sandbox.base_url, follow_redirects=False)


def _aadsts(response: httpx.Response) -> tuple[str, int]:
    body = response.json()
    assert {
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
    } <= set(body)
    assert "correlation_id" in body
    return body["error"], body["error_codes"][0]


def test_consent_page_lists_accounts_and_each_scope(
    http: httpx.Client, ann: Mailbox, ben: Mailbox
) -> None:
    page = http.get(
        "/microsoft/common/oauth2/v2.0/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": SCOPES,
        },
    )

    assert page.status_code == 200
    assert ann.address in page.text and ben.address in page.text
    for scope in SCOPES.split():
        assert f'name="scope" value="{scope}" checked' in page.text
    assert 'value="accept"' in page.text and 'value="cancel"' in page.text


def test_code_with_pkce_gives_tokens_for_the_ticked_scopes(
    http: httpx.Client, ann: Mailbox
) -> None:
    verifier, challenge = _pkce()
    redirect = _authorize(
        http, account=ann.address, untick=("Mail.Send",), challenge=challenge
    )
    assert redirect["state"] == ["xyz"]

    response = _redeem(http, redirect["code"][0], verifier)

    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3599 and tokens["ext_expires_in"] == 3599
    assert "Mail.Send" not in tokens["scope"].split()
    assert "Mail.ReadWrite" in tokens["scope"].split()
    assert tokens["refresh_token"]

    keys = http.get("/microsoft/common/discovery/v2.0/keys").json()["keys"]
    public_key = jwt.algorithms.RSAAlgorithm.from_jwk(keys[0])
    assert isinstance(public_key, RSAPublicKey)
    claims = jwt.decode(
        tokens["id_token"], public_key, algorithms=["RS256"], audience=CLIENT_ID
    )
    assert claims["oid"] == ann.id
    assert claims["preferred_username"] == claims["email"] == ann.address
    assert claims["name"] == "Ann Archer"
    base_url = str(http.base_url).rstrip("/")
    assert claims["iss"] == f"{base_url}/microsoft/{claims['tid']}/v2.0"
    assert claims["exp"] > claims["iat"]
    assert claims["sub"]

    async def read_then_send(client: Any) -> tuple[Any, Any, ODataError | None]:
        me = await client.me.get()
        messages = await client.me.messages.get()
        try:
            await client.me.send_mail.post(_mail_to("someone@outside.example"))
        except ODataError as error:
            return me, messages, error
        return me, messages, None

    me, messages, refused = run_graph(
        ann.base_url, tokens["access_token"], read_then_send
    )
    assert me.mail == ann.address
    assert messages.value == []
    assert refused is not None
    assert refused.response_status_code == 403
    assert refused.error.code == "ErrorAccessDenied"


def test_code_verifier_must_match_the_challenge(
    http: httpx.Client, ann: Mailbox
) -> None:
    _, challenge = _pkce()
    redirect = _authorize(http, account=ann.address, challenge=challenge)

    response = _redeem(http, redirect["code"][0], "not-the-verifier-" + "x" * 40)

    assert response.status_code == 400
    assert _aadsts(response) == ("invalid_grant", 501481)


def test_a_code_is_redeemed_once_and_expires(
    http: httpx.Client, ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    first = _authorize(http, account=ann.address)["code"][0]
    assert _redeem(http, first).status_code == 200
    assert _aadsts(_redeem(http, first)) == ("invalid_grant", 54005)

    second = _authorize(http, account=ann.address)["code"][0]
    microsoft.advance_clock(601)
    assert _aadsts(_redeem(http, second)) == ("invalid_grant", 70008)

    assert _aadsts(_redeem(http, "made-up")) == ("invalid_grant", 70000)


def test_cancel_redirects_with_access_denied(http: httpx.Client, ann: Mailbox) -> None:
    redirect = _authorize(http, account=ann.address, action="cancel")

    assert redirect["error"] == ["access_denied"]
    assert redirect["error_description"][0].startswith("AADSTS65004")
    assert redirect["state"] == ["xyz"]


def test_an_unknown_account_is_asked_again(http: httpx.Client, ann: Mailbox) -> None:
    page = http.get(
        "/microsoft/common/oauth2/v2.0/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": SCOPES,
        },
    )
    request_id = re.search(r'name="consent_request" value="([^"]+)"', page.text)
    assert request_id is not None

    answer = http.post(
        "/microsoft/common/oauth2/v2.0/authorize",
        data={
            "consent_request": request_id.group(1),
            "account_other": "nobody@contoso.example",
            "action": "accept",
        },
    )

    assert answer.status_code == 400
    assert "couldn&#x27;t find an account" in answer.text


def test_refresh_rotates_the_refresh_token_and_keeps_the_old_one(
    http: httpx.Client, ann: Mailbox
) -> None:
    tokens = _redeem(http, _authorize(http, account=ann.address)["code"][0]).json()

    refreshed = _refresh(http, tokens["refresh_token"]).json()

    assert refreshed["refresh_token"] != tokens["refresh_token"]
    assert refreshed["access_token"] != tokens["access_token"]
    assert refreshed["expires_in"] == 3599
    assert _refresh(http, tokens["refresh_token"]).status_code == 200


def test_a_revoked_grant_stops_refresh_and_graph(
    http: httpx.Client, ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    tokens = _redeem(http, _authorize(http, account=ann.address)["code"][0]).json()

    assert microsoft.revoke(ann.address) >= 1

    assert _aadsts(_refresh(http, tokens["refresh_token"])) == ("invalid_grant", 50173)

    async def profile(client: Any) -> Any:
        return await client.me.get()

    with pytest.raises(ODataError) as refused:
        run_graph(ann.base_url, tokens["access_token"], profile)
    assert refused.value.response_status_code == 401
    assert refused.value.error.code == "InvalidAuthenticationToken"


def test_access_tokens_expire_on_the_sandbox_clock(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.advance_clock(3600)

    async def profile(client: Any) -> Any:
        return await client.me.get()

    with pytest.raises(ODataError) as refused:
        ann.graph(profile)
    assert refused.value.response_status_code == 401
    assert refused.value.error.code == "InvalidAuthenticationToken"


def test_a_registered_client_has_its_secret_and_redirect_uri_checked(
    http: httpx.Client, ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.register_client(
        "registered-app", client_secret="s3cret", redirect_uris=[REDIRECT_URI]
    )
    wrong_redirect = http.get(
        "/microsoft/common/oauth2/v2.0/authorize",
        params={
            "client_id": "registered-app",
            "redirect_uri": "http://evil.example/callback",
            "response_type": "code",
            "scope": SCOPES,
        },
    )
    assert wrong_redirect.status_code == 400
    assert "AADSTS50011" in wrong_redirect.text

    code = _authorize(http, account=ann.address, client_id="registered-app")["code"][0]
    base = {
        "client_id": "registered-app",
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }
    bad = http.post(
        "/microsoft/common/oauth2/v2.0/token", data={**base, "client_secret": "no"}
    )
    assert bad.status_code == 401
    assert _aadsts(bad) == ("invalid_client", 7000215)
    good = http.post(
        "/microsoft/common/oauth2/v2.0/token", data={**base, "client_secret": "s3cret"}
    )
    assert good.status_code == 200


def test_me_answers_allauths_select_and_proxy_addresses_only_when_selected(
    http: httpx.Client, ann: Mailbox
) -> None:
    headers = {"Authorization": f"Bearer {ann.access_token}"}
    allauth_select = (
        "businessPhones,displayName,givenName,id,jobTitle,mail,mobilePhone,"
        "officeLocation,preferredLanguage,surname,userPrincipalName,mailNickname,"
        "companyName"
    )

    plain = http.get("/graph/v1.0/me", headers=headers).json()
    selected = http.get(
        "/graph/v1.0/me", params={"$select": allauth_select}, headers=headers
    ).json()
    proxies = http.get(
        "/graph/v1.0/me", params={"$select": "id,proxyAddresses"}, headers=headers
    ).json()

    assert plain["id"] == ann.id and plain["mail"] == ann.address
    assert "proxyAddresses" not in plain and "mailNickname" not in plain
    assert selected["mailNickname"] == "ann" and selected["givenName"] == "Ann"
    assert selected["surname"] == "Archer"
    assert "proxyAddresses" not in selected
    assert proxies["proxyAddresses"] == [
        f"SMTP:{ann.address}",
        "smtp:ann.alias@contoso.example",
    ]
