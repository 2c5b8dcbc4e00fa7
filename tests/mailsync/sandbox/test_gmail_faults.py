"""Injected faults and quota, as google-api-python-client sees them."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import httplib2
import pytest
from googleapiclient.errors import HttpError

from mailsync.sandbox.google.control_client import GoogleSandboxControl

GET = "gmail.users.messages.get"
LIST = "gmail.users.messages.list"


@pytest.fixture(autouse=True)
def _no_backoff_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client's retries sleep up to seconds between attempts; the
    # attempts themselves are what these tests are about.
    # Its wait is random() * 2**attempt; random() is fixed at zero here.
    monkeypatch.setattr(
        "googleapiclient.http.random", SimpleNamespace(random=lambda: 0.0)
    )


def _list(gmail: Any, **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = (
        gmail.users().messages().list(userId="me").execute(**options)
    )
    return result


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("rate_limit", 429, "rateLimitExceeded"),
        ("server_error", 500, "backendError"),
        ("unavailable", 503, "backendError"),
    ],
)
def test_temporary_fault_is_the_real_error_and_num_retries_gets_through(
    gmail: Any,
    owner: str,
    google: GoogleSandboxControl,
    kind: str,
    status: int,
    reason: str,
) -> None:
    google.add_fault(kind, operation=LIST, remaining=2, retry_after=7)

    with pytest.raises(HttpError) as failed:
        _list(gmail)
    answer = _list(gmail, num_retries=3)

    assert failed.value.status_code == status
    assert failed.value.error_details[0]["reason"] == reason
    if kind != "server_error":
        assert failed.value.resp["retry-after"] == "7"
    assert answer["resultSizeEstimate"] == 0
    assert google.calls(LIST) == 3


def test_slow_fault_delays_the_real_answer(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    google.add_fault("slow", operation=LIST, remaining=1, delay=0.3)

    started = time.monotonic()
    answer = _list(gmail)

    assert time.monotonic() - started >= 0.3
    assert answer["resultSizeEstimate"] == 0


def test_dropped_connection_raises_a_transport_error(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    # httplib2 silently tries a dropped request once more.
    google.add_fault("drop", operation=LIST, remaining=2)

    with pytest.raises((httplib2.HttpLib2Error, ConnectionError, OSError)):
        _list(gmail)
    assert _list(gmail)["resultSizeEstimate"] == 0
    assert google.calls(LIST) == 3


def test_expired_token_fault_makes_the_client_refresh(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    google.add_fault("expire_token", operation=LIST, mailbox=owner, remaining=1)

    assert _list(gmail)["resultSizeEstimate"] == 0
    assert google.calls("oauth2.token") == 1
    assert google.calls(LIST) == 2


def test_expired_cursor_fault_answers_history_404(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    start = gmail.users().getProfile(userId="me").execute()["historyId"]
    google.add_fault("expire_cursor", remaining=1)

    with pytest.raises(HttpError) as expired:
        gmail.users().history().list(userId="me", startHistoryId=start).execute()

    assert expired.value.status_code == 404
    assert expired.value.error_details[0]["reason"] == "notFound"


def test_an_expire_cursor_fault_for_any_call_waits_for_a_history_list(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    google.add_fault("expire_cursor", remaining=1)

    start = gmail.users().getProfile(userId="me").execute()["historyId"]
    _list(gmail)
    batch = gmail.new_batch_http_request()
    batch.add(gmail.users().getProfile(userId="me"))
    batch.execute()
    with pytest.raises(HttpError) as expired:
        gmail.users().history().list(userId="me", startHistoryId=start).execute()
    again = gmail.users().history().list(userId="me", startHistoryId=start).execute()

    assert expired.value.status_code == 404
    assert again["historyId"] == start


def test_fault_inside_a_batch_hits_only_its_call(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    ids = [
        google.deliver(from_="a@x.test", to=owner, subject=str(i), text="t")[0]["id"]
        for i in range(2)
    ]
    google.add_fault("server_error", operation=GET, remaining=1)
    answers: dict[str, Any] = {}
    batch = gmail.new_batch_http_request(
        callback=lambda request_id, response, error: answers.update(
            {request_id: error or response}
        )
    )
    for message_id in ids:
        batch.add(gmail.users().messages().get(userId="me", id=message_id))

    batch.execute()

    assert isinstance(answers["1"], HttpError) and answers["1"].status_code == 500
    assert answers["2"]["id"] == ids[1]


def test_over_quota_answers_429_until_the_minute_passes(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    google.set_quota(limit_per_minute=12)
    _list(gmail)
    _list(gmail)

    with pytest.raises(HttpError) as limited:
        _list(gmail)

    assert limited.value.status_code == 429
    assert limited.value.error_details[0]["reason"] == "rateLimitExceeded"
    assert int(limited.value.resp["retry-after"]) >= 1
    google.advance_clock(61)
    assert _list(gmail)["resultSizeEstimate"] == 0
    units = sum(row["units"] for row in google.counters() if row["operation"] == LIST)
    assert units == 15


def test_quota_table_and_switch(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    [delivered] = google.deliver(from_="a@x.test", to=owner, subject="s", text="t")

    google.set_quota(table="older")
    gmail.users().messages().get(userId="me", id=delivered["id"]).execute()
    google.set_quota(table="2026", enabled=False, limit_per_minute=1)
    gmail.users().messages().get(userId="me", id=delivered["id"]).execute()

    [row] = [row for row in google.counters() if row["operation"] == GET]
    assert row["calls"] == 2 and row["units"] == 5 + 20
