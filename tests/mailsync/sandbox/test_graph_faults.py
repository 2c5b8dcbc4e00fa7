"""Faults, throttling, call counters and ``$batch`` on the Graph stand-in."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.mailsync.sandbox.microsoft_fixtures import *  # noqa: F403
from tests.mailsync.sandbox.microsoft_fixtures import Mailbox

LIST_MESSAGES = "GET /me/messages"


async def _list_messages(client: Any) -> Any:
    return await client.me.messages.get()


def _headers(mailbox: Mailbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {mailbox.access_token}"}


@pytest.mark.parametrize(
    ("kind", "status", "code", "retry_after"),
    [
        ("rate_limit", 429, "TooManyRequests", "3"),
        ("server_error", 500, "generalException", None),
        ("unavailable", 503, "serviceNotAvailable", "3"),
        ("expire_token", 401, "InvalidAuthenticationToken", None),
    ],
)
def test_each_fault_arrives_as_graphs_error(
    ann: Mailbox,
    microsoft: MicrosoftSandboxControl,
    kind: str,
    status: int,
    code: str,
    retry_after: str | None,
) -> None:
    microsoft.add_fault(kind, operation=LIST_MESSAGES, remaining=1, retry_after=3)

    with pytest.raises(ODataError) as raised:
        ann.graph(_list_messages)

    assert raised.value.response_status_code == status
    assert raised.value.error.code == code
    headers = raised.value.response_headers
    assert headers is not None
    assert (headers.get("retry-after") or [None])[0] == retry_after


def test_an_expired_token_stays_expired(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.add_fault("expire_token", operation=LIST_MESSAGES, remaining=1)

    for _ in range(2):
        with pytest.raises(ODataError) as raised:
            ann.graph(_list_messages)
        assert raised.value.response_status_code == 401


def test_the_sdks_retry_handler_rides_out_a_429(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.add_fault(
        "rate_limit", operation=LIST_MESSAGES, remaining=1, retry_after=1
    )

    page = ann.graph(_list_messages, retry=True)

    assert page.value == []
    assert microsoft.calls(LIST_MESSAGES, ann.address) == 2


def test_a_dropped_connection_reaches_the_client_as_a_transport_error(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.add_fault("drop", operation=LIST_MESSAGES, remaining=1)

    with pytest.raises(httpx.TransportError):
        ann.graph(_list_messages)

    assert ann.graph(_list_messages).value == []


def test_a_slow_fault_delays_the_answer(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.add_fault("slow", operation=LIST_MESSAGES, remaining=1, delay=0.3)

    started = time.monotonic()
    page = ann.graph(_list_messages)

    assert page.value == []
    assert time.monotonic() - started >= 0.3


def test_a_fifth_concurrent_request_on_a_mailbox_is_throttled(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.add_fault("slow", operation=LIST_MESSAGES, delay=0.6)
    url = f"{ann.base_url}/graph/v1.0/me/messages"

    def call(index: int) -> httpx.Response:
        time.sleep(0.05 * (index == 4))  # let the first four take their slots
        return httpx.get(url, headers=_headers(ann), timeout=5)

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(call, range(5)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 200, 200, 200, 429]
    throttled = next(item for item in responses if item.status_code == 429)
    assert throttled.json()["error"]["code"] == "ApplicationThrottled"
    assert "MailboxConcurrency" in throttled.json()["error"]["message"]
    assert throttled.headers["Retry-After"]


def test_the_request_budget_refills_as_the_window_slides(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.settings(request_budget=3)
    url = f"{ann.base_url}/graph/v1.0/me/messages"

    answers = [httpx.get(url, headers=_headers(ann)).status_code for _ in range(4)]
    refused = httpx.get(url, headers=_headers(ann))
    microsoft.advance_clock(601)
    after_window = httpx.get(url, headers=_headers(ann))

    assert answers == [200, 200, 200, 429]
    assert int(refused.headers["Retry-After"]) > 0
    assert after_window.status_code == 200

    microsoft.settings(throttling_enabled=False)
    assert all(
        httpx.get(url, headers=_headers(ann)).status_code == 200 for _ in range(4)
    )


def test_operations_are_counted_with_ids_normalised(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    folder_id = ann.folders["inbox"]
    base = f"{ann.base_url}/graph/v1.0"

    httpx.get(f"{base}/me/mailFolders/inbox/messages/delta()", headers=_headers(ann))
    httpx.get(
        f"{base}/users/{ann.id}/mailFolders/{folder_id}/messages/delta",
        headers=_headers(ann),
    )

    assert microsoft.calls("GET /me/mailFolders/{id}/messages/delta", ann.address) == 2


def test_a_json_batch_answers_each_request_and_counts_them(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    delivered = microsoft.deliver(ann.address, sender="carol@client.example", text="hi")
    requests = [
        {"id": "1", "method": "GET", "url": "/me/mailFolders/inbox"},
        {"id": "2", "method": "GET", "url": f"/me/messages/{delivered['id']}/$value"},
        {
            "id": "3",
            "method": "PATCH",
            "url": f"me/messages/{delivered['id']}",
            "headers": {"Content-Type": "application/json"},
            "body": {"isRead": True},
            "dependsOn": ["1"],
        },
        {"id": "4", "method": "GET", "url": "/me/messages/nothing-here"},
        {"id": "5", "method": "GET", "url": "/me/messages", "dependsOn": ["4"]},
    ]

    response = httpx.post(
        f"{ann.base_url}/graph/v1.0/$batch",
        json={"requests": requests},
        headers=_headers(ann),
    )

    assert response.status_code == 200
    answers = {item["id"]: item for item in response.json()["responses"]}
    assert answers["1"]["status"] == 200
    assert answers["1"]["body"]["id"] == ann.folders["inbox"]
    assert answers["2"]["status"] == 200 and isinstance(answers["2"]["body"], str)
    assert answers["3"]["body"]["isRead"] is True
    assert answers["4"]["status"] == 404
    assert answers["4"]["body"]["error"]["code"] == "ErrorItemNotFound"
    assert answers["5"]["status"] == 424
    assert microsoft.calls("POST /$batch", ann.address) == 1
    assert microsoft.calls("GET /me/mailFolders/{id}", ann.address) == 1
    assert microsoft.calls("PATCH /me/messages/{id}", ann.address) == 1


def test_a_batch_of_more_than_twenty_is_refused(ann: Mailbox) -> None:
    requests = [{"id": str(n), "method": "GET", "url": "/me"} for n in range(21)]

    response = httpx.post(
        f"{ann.base_url}/graph/v1.0/$batch",
        json={"requests": requests},
        headers=_headers(ann),
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
