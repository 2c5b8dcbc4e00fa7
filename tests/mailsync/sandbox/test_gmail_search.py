"""Gmail's ``q`` search language in messages.list."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from mailsync.sandbox.google.control_client import GoogleSandboxControl

# 2024-03-10 12:00 UTC, a Sunday; Pacific midnight of 2024-03-10 is 08:00 UTC.
NOON = 1_710_072_000
DAY = 86_400


@pytest.fixture
def mail(owner: str, google: GoogleSandboxControl) -> dict[str, str]:
    """A small mailbox; each message named by what it is."""
    google.advance_clock(NOON + 3 * DAY - 3600 - google.now())
    specs = {
        "amy_quote": dict(
            from_="Amy Buyer <amy@contoso.test>",
            to=owner,
            subject="Quote for widgets",
            text="Please find the quote",
            date=NOON,
        ),
        "bob_invoice": dict(
            from_="bob@fabrikam.test",
            to=owner,
            cc="carol@contoso.test",
            subject="Invoice 42",
            text="Invoice attached",
            attachments=[{"filename": "inv.pdf", "text": "pdf"}],
            date=NOON + DAY,
        ),
        "newsletter": dict(
            from_="news@promo.test",
            to="list@promo.test",
            mailbox=owner,
            subject="Weekly deals",
            text="Cheap widgets",
            date=NOON + 2 * DAY,
        ),
    }
    return {name: google.deliver(**spec)[0]["id"] for name, spec in specs.items()}


def _search(gmail: Any, q: str) -> set[str]:
    page = gmail.users().messages().list(userId="me", q=q).execute()
    return {message["id"] for message in page.get("messages", [])}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("from:amy@contoso.test", {"amy_quote"}),
        ("from:amy", {"amy_quote"}),
        ("from:(amy OR bob)", {"amy_quote", "bob_invoice"}),
        ("from:{amy@contoso.test bob@fabrikam.test}", {"amy_quote", "bob_invoice"}),
        ("{from:amy@contoso.test cc:carol@contoso.test}", {"amy_quote", "bob_invoice"}),
        ("to:sam@revstackr.test", {"amy_quote", "bob_invoice"}),
        ("to:carol@contoso.test", {"bob_invoice"}),
        ("cc:carol@contoso.test", {"bob_invoice"}),
        ("from:amy OR from:news", {"amy_quote", "newsletter"}),
        ("widgets -from:news", {"amy_quote"}),
        ('"find the quote"', {"amy_quote"}),
        ("subject:invoice", {"bob_invoice"}),
        ("has:attachment", {"bob_invoice"}),
        ("after:2024/03/11", {"bob_invoice", "newsletter"}),
        ("before:2024/03/11", {"amy_quote"}),
        (f"after:{NOON} before:{NOON + DAY}", {"amy_quote"}),
        ("newer_than:2d", {"bob_invoice", "newsletter"}),
        ("older_than:2d", {"amy_quote"}),
        ("is:unread in:inbox", {"amy_quote", "bob_invoice", "newsletter"}),
        ("from:nobody@nowhere.test", set()),
    ],
)
def test_query(gmail: Any, mail: dict[str, str], q: str, expected: set[str]) -> None:
    assert _search(gmail, q) == {mail[name] for name in expected}


def test_rfc822msgid_finds_the_message_with_or_without_brackets(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    [delivered] = google.deliver(from_="a@x.test", to=owner, subject="s", text="t")
    message_id = delivered["rfc822MessageId"]

    assert _search(gmail, f"rfc822msgid:{message_id}") == {delivered["id"]}
    assert _search(gmail, f"rfc822msgid:{message_id.strip('<>')}") == {delivered["id"]}


def test_spam_is_found_only_when_asked_for(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    [spam] = google.deliver(
        from_="x@spam.test", to=owner, subject="win", text="t", labels=["SPAM"]
    )

    assert _search(gmail, "from:x@spam.test") == set()
    assert _search(gmail, "in:spam") == {spam["id"]}
    assert _search(gmail, "in:anywhere from:x@spam.test") == {spam["id"]}


def test_bad_query_is_a_400(gmail: Any, owner: str) -> None:
    with pytest.raises(HttpError) as refused:
        _search(gmail, "from:(amy")

    assert refused.value.status_code == 400
