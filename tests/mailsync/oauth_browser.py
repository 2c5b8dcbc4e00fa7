"""Drive the sandbox's consent screens the way a person's browser would.

The Django test client plays the RevStackr side (start the flow, receive
the callback); ``requests`` plays the browser on the provider's pages. The
consent form is read from the HTML, so the same helper works for Google
and Microsoft.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.test import Client
from django.urls import reverse

ALLOW = {"allow", "accept", "yes"}
DENY = {"deny", "cancel", "no"}


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: list[tuple[str, str, str, bool]] = []  # type, name, value, on
        self.buttons: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form" and not self.action:
            self.action = found.get("action", "")
        elif tag == "input":
            kind = found.get("type", "text")
            on = "checked" in found or kind not in ("checkbox", "radio")
            self.fields.append(
                (kind, found.get("name", ""), found.get("value", ""), on)
            )
        elif tag == "button" and found.get("name"):
            self.buttons.append((found["name"], found.get("value", "")))


def consent(
    authorize_url: str,
    *,
    account: str,
    untick: tuple[str, ...] = (),
    allow: bool = True,
) -> str:
    """Choose ``account``, untick scopes containing any of ``untick``, then
    Allow (or Deny); return the URL the provider redirects back to."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    form = _Form()
    form.feed(page.text)

    data: list[tuple[str, str]] = []
    for kind, name, value, on in form.fields:
        if not name or kind in ("submit", "button"):
            continue
        if kind == "radio" or (kind in ("email", "text") and "account" in name):
            continue
        if kind == "checkbox" and any(part in value for part in untick):
            continue
        if on:
            data.append((name, value))
    account_fields = {name for kind, name, _, _ in form.fields if kind == "radio"}
    for name in account_fields or {"account"}:
        data.append((name, account))
    wanted = ALLOW if allow else DENY
    name, value = next((n, v) for n, v in form.buttons if v.lower() in wanted)
    data.append((name, value))

    answer = requests.post(
        urljoin(authorize_url, form.action or authorize_url),
        data=data,
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in (302, 303), answer.text
    return str(answer.headers["Location"])


def connect_through_consent(
    client: Client,
    social_app: str,
    *,
    account: str,
    untick: tuple[str, ...] = (),
    allow: bool = True,
    popup: bool = False,
) -> Any:
    """Run allauth's connect flow end to end; return RevStackr's answer to
    the callback."""
    next_url = (
        f"{reverse('mailsync:connect_done')}?popup=1" if popup else reverse("profile")
    )
    start = client.post(
        reverse(f"{social_app}_login") + "?process=connect", {"next": next_url}
    )
    assert start.status_code == 302, start.content
    callback = consent(start["Location"], account=account, untick=untick, allow=allow)
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")
