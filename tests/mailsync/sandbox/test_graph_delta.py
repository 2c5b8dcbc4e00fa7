"""Per-folder message delta through msgraph-sdk."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.message import Message
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.users.item.mail_folders.item.messages.delta.delta_request_builder import (  # noqa: E501
    DeltaRequestBuilder,
)

from mailsync.providers.outlook import DELTA_FIELDS
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.mailsync.sandbox.microsoft_fixtures import *  # noqa: F403
from tests.mailsync.sandbox.microsoft_fixtures import Mailbox

SELECT = [
    "subject",
    "from",
    "toRecipients",
    "receivedDateTime",
    "conversationId",
    "internetMessageId",
    "parentFolderId",
    "isRead",
]


def _config(
    page_size: int = 2, immutable: bool = False, **query: Any
) -> RequestConfiguration[Any]:
    config = RequestConfiguration[Any](
        query_parameters=DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
            **query
        )
    )
    config.headers.add("Prefer", f"odata.maxpagesize={page_size}")
    if immutable:
        config.headers.add("Prefer", 'IdType="ImmutableId"')
    return config


def _round(
    ann: Mailbox,
    folder: str,
    delta_link: str | None = None,
    *,
    immutable: bool = False,
    **query: Any,
) -> tuple[list[Any], str, int]:
    """Run one delta round; return its items, its delta link and page count."""

    async def run(client: Any) -> tuple[list[Any], str, int]:
        builder = client.me.mail_folders.by_mail_folder_id(folder).messages.delta
        config = _config(immutable=immutable, **query)
        if delta_link is None:
            page = await builder.get(request_configuration=config)
        else:
            page = await builder.with_url(delta_link).get(request_configuration=config)
        items, pages = list(page.value), 1
        while page.odata_next_link:
            assert page.odata_delta_link is None
            page = await builder.with_url(page.odata_next_link).get(
                request_configuration=_config(immutable=immutable)
            )
            items += page.value
            pages += 1
        assert page.odata_delta_link
        return items, page.odata_delta_link, pages

    return ann.graph(run)


def _removed(item: Any) -> Any:
    return (item.additional_data or {}).get("@removed")


def test_first_round_pages_through_the_folder_to_a_delta_link(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    for number in range(5):
        microsoft.deliver(
            ann.address, sender="carol@client.example", subject=f"n{number}"
        )
    microsoft.deliver(ann.address, sender="carol@client.example", folder="archive")

    items, delta_link, pages = _round(ann, "inbox", select=SELECT)

    assert pages == 3
    assert sorted(item.subject for item in items) == ["n0", "n1", "n2", "n3", "n4"]
    for item in items:
        assert item.id and item.conversation_id and item.internet_message_id
        assert item.from_.email_address.address == "carol@client.example"
        assert item.parent_folder_id == ann.folders["inbox"]
        assert item.received_date_time is not None
        assert _removed(item) is None
    assert "$deltatoken=" in delta_link


def test_revstackrs_select_list_returns_sender_and_is_draft(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.deliver(
        ann.address, sender="Carol Client <carol@client.example>", subject="Quote"
    )

    async def write_draft(client: Any) -> None:
        await client.me.messages.post(
            Message(
                subject="Reply later",
                to_recipients=[
                    Recipient(
                        email_address=EmailAddress(address="carol@client.example")
                    )
                ],
            )
        )

    ann.graph(write_draft)
    [received], _, _ = _round(ann, "inbox", immutable=True, select=DELTA_FIELDS)
    [draft], _, _ = _round(ann, "drafts", immutable=True, select=DELTA_FIELDS)

    assert isinstance(received.sender, Recipient)
    assert isinstance(received.sender.email_address, EmailAddress)
    assert received.sender.email_address.address == "carol@client.example"
    assert received.sender.email_address.name == "Carol Client"
    assert received.is_draft is False
    assert draft.is_draft is True
    assert received.subject is None and draft.subject is None


def test_next_round_reports_new_changed_moved_and_deleted_messages(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    kept = microsoft.deliver(ann.address, sender="carol@client.example", subject="kept")
    moved = microsoft.deliver(
        ann.address, sender="carol@client.example", subject="moved"
    )
    deleted = microsoft.deliver(
        ann.address, sender="carol@client.example", subject="gone"
    )
    _, delta_link, _ = _round(ann, "inbox", select=SELECT)

    microsoft.move(ann.address, moved["id"], "archive")
    microsoft.delete(ann.address, deleted["id"])
    new = microsoft.deliver(ann.address, sender="carol@client.example", subject="new")
    items, next_link, _ = _round(ann, "inbox", delta_link)

    by_id = {item.id: item for item in items}
    assert set(by_id) == {moved["id"], deleted["id"], new["id"]}
    assert _removed(by_id[moved["id"]]) == {"reason": "deleted"}
    assert _removed(by_id[deleted["id"]]) == {"reason": "deleted"}
    assert by_id[new["id"]].subject == "new"
    assert kept["id"] not in by_id

    quiet, _, _ = _round(ann, "inbox", next_link)
    assert quiet == []


def test_a_message_moved_to_deleted_items_is_removed_as_changed(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    message = microsoft.deliver(ann.address, sender="carol@client.example")
    _, delta_link, _ = _round(ann, "inbox")

    microsoft.move(ann.address, message["id"], "deleteditems")
    items, _, _ = _round(ann, "inbox", delta_link)

    assert [(item.id, _removed(item)) for item in items] == [
        (message["id"], {"reason": "changed"})
    ]


def test_immutable_ids_survive_a_move_between_synced_folders(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    message = microsoft.deliver(ann.address, sender="carol@client.example")
    inbox_items, inbox_link, _ = _round(ann, "inbox", immutable=True)
    _, archive_link, _ = _round(ann, "archive", immutable=True)

    microsoft.move(ann.address, message["id"], "archive")
    inbox_changes, _, _ = _round(ann, "inbox", inbox_link, immutable=True)
    archive_changes, _, _ = _round(ann, "archive", archive_link, immutable=True)

    assert [item.id for item in inbox_items] == [message["immutable_id"]]
    assert [item.id for item in inbox_changes] == [message["immutable_id"]]
    assert _removed(inbox_changes[0]) is not None
    assert [item.id for item in archive_changes] == [message["immutable_id"]]
    assert archive_changes[0].parent_folder_id == ann.folders["archive"]


def test_delta_filters_on_received_date_time_only(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.deliver(
        ann.address, sender="carol@client.example", received_at="2026-01-01T00:00:00Z"
    )
    recent = microsoft.deliver(
        ann.address, sender="carol@client.example", received_at="2026-06-01T00:00:00Z"
    )

    items, _, _ = _round(
        ann, "inbox", filter="receivedDateTime ge 2026-03-01T00:00:00Z"
    )
    assert [item.id for item in items] == [recent["id"]]

    with pytest.raises(ODataError) as refused:
        _round(ann, "inbox", filter="subject eq 'x'")
    assert refused.value.response_status_code == 400


def test_an_expired_delta_token_answers_410(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.deliver(ann.address, sender="carol@client.example")
    _, delta_link, _ = _round(ann, "inbox")

    microsoft.expire_delta(ann.address)

    with pytest.raises(ODataError) as gone:
        _round(ann, "inbox", delta_link)
    assert gone.value.response_status_code == 410
    assert gone.value.error.code == "SyncStateNotFound"
    items, fresh_link, _ = _round(ann, "inbox")
    assert len(items) == 1
    assert _round(ann, "inbox", fresh_link)[0] == []


def test_the_expire_cursor_fault_hits_only_requests_with_a_token(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    _, delta_link, _ = _round(ann, "inbox")
    microsoft.add_fault(
        "expire_cursor",
        operation="GET /me/mailFolders/{id}/messages/delta",
        remaining=1,
    )

    with pytest.raises(ODataError) as gone:
        _round(ann, "inbox", delta_link)

    assert gone.value.response_status_code == 410
    assert _round(ann, "inbox", delta_link)[0] == []


def test_an_expire_cursor_fault_for_any_call_waits_for_a_token(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    for number in range(3):
        microsoft.deliver(
            ann.address, sender="carol@client.example", subject=f"n{number}"
        )
    microsoft.add_fault("expire_cursor", remaining=1)

    async def calls_without_a_token(client: Any) -> None:
        await client.me.get()
        await client.me.mail_folders.get()
        await client.me.messages.get()

    ann.graph(calls_without_a_token)
    # The round's first page has no token; its second (a skip token) has.
    with pytest.raises(ODataError) as gone:
        _round(ann, "inbox")
    items, _, pages = _round(ann, "inbox")

    assert gone.value.response_status_code == 410
    assert len(items) == 3 and pages == 2


def test_delta_path_works_with_and_without_parentheses(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.deliver(ann.address, sender="carol@client.example")
    headers = {"Authorization": f"Bearer {ann.access_token}"}
    base = f"{ann.base_url}/graph/v1.0/me/mailFolders/inbox/messages"

    plain = httpx.get(f"{base}/delta", headers=headers)
    called = httpx.get(f"{base}/delta()", headers=headers)
    keyed = httpx.get(
        f"{ann.base_url}/graph/v1.0/me/mailFolders('inbox')/messages/delta()",
        headers=headers,
    )

    for response in (plain, called, keyed):
        assert response.status_code == 200
        body = response.json()
        assert len(body["value"]) == 1
        assert body["@odata.context"].endswith("$metadata#Collection(message)")
        assert "@odata.deltaLink" in body
