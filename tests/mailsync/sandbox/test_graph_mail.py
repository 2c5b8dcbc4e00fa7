"""Reading mail through msgraph-sdk: folders, messages, MIME, attachments."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.item.mail_folders.item.messages.messages_request_builder import (  # noqa: E501
    MessagesRequestBuilder as FolderMessages,
)
from msgraph.generated.users.item.messages.item.move.move_post_request_body import (
    MovePostRequestBody,
)
from msgraph.generated.users.item.messages.messages_request_builder import (
    MessagesRequestBuilder,
)

from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.mailsync.sandbox.microsoft_fixtures import *  # noqa: F403
from tests.mailsync.sandbox.microsoft_fixtures import Mailbox, run_graph

SYNC_FIELDS = [
    "id",
    "conversationId",
    "internetMessageId",
    "subject",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "receivedDateTime",
    "sentDateTime",
    "body",
    "hasAttachments",
    "parentFolderId",
    "internetMessageHeaders",
]


def _folder_query(**query: Any) -> RequestConfiguration[Any]:
    return RequestConfiguration(
        query_parameters=FolderMessages.MessagesRequestBuilderGetQueryParameters(
            **query
        )
    )


def _mailbox_query(**query: Any) -> RequestConfiguration[Any]:
    return RequestConfiguration(
        query_parameters=MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters(
            **query
        )
    )


def _graph_error(ann: Mailbox, scenario: Any) -> ODataError:
    with pytest.raises(ODataError) as raised:
        ann.graph(scenario)
    return raised.value


def test_well_known_folders_and_child_folders(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    child = microsoft.create_folder(ann.address, "Clients", parent="inbox")

    async def folders(client: Any) -> Any:
        top = await client.me.mail_folders.get()
        inbox = await client.me.mail_folders.by_mail_folder_id("inbox").get()
        children = await client.me.mail_folders.by_mail_folder_id(
            inbox.id
        ).child_folders.get()
        return top, inbox, children

    top, inbox, children = ann.graph(folders)

    names = {folder.display_name for folder in top.value}
    assert names == {
        "Archive",
        "Conversation History",
        "Deleted Items",
        "Drafts",
        "Inbox",
        "Junk Email",
        "Outbox",
        "Sent Items",
    }
    assert inbox.id == ann.folders["inbox"]
    assert inbox.child_folder_count == 1
    assert [folder.id for folder in children.value] == [child["id"]]
    assert children.value[0].parent_folder_id == inbox.id


def test_messages_carry_every_field_the_sync_reads(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    delivered = microsoft.deliver(
        ann.address,
        sender="Carol Client <carol@client.example>",
        cc=["dave@client.example"],
        subject="Quote for Q3",
        html="<p>Here is the <b>quote</b>.</p>",
        text="Here is the quote.",
        attachments=[("quote.pdf", "application/pdf", b"%PDF-1.4 quote")],
        headers={"X-Mailer": "ClientMail 1.0"},
    )

    async def read(client: Any) -> Any:
        page = await client.me.mail_folders.by_mail_folder_id("inbox").messages.get(
            request_configuration=_folder_query(select=SYNC_FIELDS)
        )
        return page.value[0]

    message = ann.graph(read)

    assert message.id == delivered["id"]
    assert message.conversation_id == delivered["conversation_id"]
    assert message.internet_message_id == delivered["internet_message_id"]
    assert message.internet_message_id.startswith("<")
    assert message.subject == "Quote for Q3"
    assert message.from_.email_address.address == "carol@client.example"
    assert message.from_.email_address.name == "Carol Client"
    assert [item.email_address.address for item in message.to_recipients] == [
        ann.address
    ]
    assert [item.email_address.address for item in message.cc_recipients] == [
        "dave@client.example"
    ]
    assert message.bcc_recipients == []
    assert isinstance(message.received_date_time, datetime)
    assert isinstance(message.sent_date_time, datetime)
    assert message.body.content_type.value == "html"
    assert "<b>quote</b>" in message.body.content
    assert message.has_attachments is True
    assert message.parent_folder_id == ann.folders["inbox"]
    headers = {header.name: header.value for header in message.internet_message_headers}
    assert headers["Message-ID"] == message.internet_message_id
    assert headers["X-Mailer"] == "ClientMail 1.0"


def test_internet_message_headers_come_only_when_selected(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.deliver(ann.address, sender="carol@client.example", text="hi")

    async def read(client: Any) -> Any:
        page = await client.me.messages.get()
        return page.value[0]

    message = ann.graph(read)

    assert message.internet_message_headers is None
    assert message.body_preview == "hi"
    assert message.is_read is False


def test_pages_follow_the_next_link(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    for number in range(5):
        microsoft.deliver(
            ann.address, sender="carol@client.example", subject=f"n{number}"
        )

    async def all_pages(client: Any) -> list[list[str]]:
        builder = client.me.mail_folders.by_mail_folder_id("inbox").messages
        page = await builder.get(
            request_configuration=_folder_query(top=2, select=["subject"])
        )
        pages = [[message.subject for message in page.value]]
        while page.odata_next_link:
            page = await builder.with_url(page.odata_next_link).get()
            pages.append([message.subject for message in page.value])
        return pages

    pages = ann.graph(all_pages)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(subject for page in pages for subject in page) == [
        "n0",
        "n1",
        "n2",
        "n3",
        "n4",
    ]


def test_filter_and_orderby_on_received_date_time(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    for day in (1, 2, 3, 4):
        microsoft.deliver(
            ann.address,
            sender="carol@client.example",
            subject=f"day {day}",
            received_at=f"2026-03-0{day}T09:00:00Z",
        )

    async def query(client: Any) -> tuple[list[str], list[str]]:
        newest_first = await client.me.messages.get(
            request_configuration=_mailbox_query(
                filter="receivedDateTime ge 2026-03-02T00:00:00Z "
                "and receivedDateTime lt 2026-03-04T00:00:00Z",
                orderby=["receivedDateTime desc"],
            )
        )
        oldest_first = await client.me.messages.get(
            request_configuration=_mailbox_query(
                filter="receivedDateTime gt 2026-03-01T09:00:00Z",
                orderby=["receivedDateTime asc"],
            )
        )
        return (
            [message.subject for message in newest_first.value],
            [message.subject for message in oldest_first.value],
        )

    newest_first, oldest_first = ann.graph(query)

    assert newest_first == ["day 3", "day 2"]
    assert oldest_first == ["day 2", "day 3", "day 4"]


def test_filter_by_conversation_and_internet_message_id(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    first = microsoft.deliver(
        ann.address, sender="carol@client.example", subject="Hello"
    )
    reply = microsoft.deliver(
        ann.address,
        sender="carol@client.example",
        subject="RE: Hello",
        reply_to_internet_message_id=first["internet_message_id"],
    )
    microsoft.deliver(ann.address, sender="erin@client.example", subject="Other")

    async def query(client: Any) -> tuple[Any, Any]:
        thread = await client.me.messages.get(
            request_configuration=_mailbox_query(
                filter=f"conversationId eq '{first['conversation_id']}'"
            )
        )
        exact = await client.me.messages.get(
            request_configuration=_mailbox_query(
                filter=f"internetMessageId eq '{reply['internet_message_id']}'"
            )
        )
        return thread, exact

    thread, exact = ann.graph(query)

    assert reply["conversation_id"] == first["conversation_id"]
    assert {message.subject for message in thread.value} == {"Hello", "RE: Hello"}
    assert [message.id for message in exact.value] == [reply["id"]]


def test_sorting_on_a_property_not_filtered_first_is_refused(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    async def query(client: Any) -> Any:
        return await client.me.messages.get(
            request_configuration=_mailbox_query(
                filter="conversationId eq 'x'", orderby=["receivedDateTime desc"]
            )
        )

    error = _graph_error(ann, query)

    assert error.response_status_code == 400
    assert error.error.code == "InefficientFilter"


def test_mime_value_and_attachments(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    delivered = microsoft.deliver(
        ann.address,
        sender="carol@client.example",
        subject="Contract",
        text="See attached.",
        attachments=[("contract.txt", "text/plain", b"terms and conditions")],
    )

    async def read(client: Any) -> tuple[bytes, Any, Any]:
        item = client.me.messages.by_message_id(delivered["id"])
        mime = await item.content.get()
        listed = await item.attachments.get()
        single = await item.attachments.by_attachment_id(listed.value[0].id).get()
        return mime, listed, single

    mime, listed, single = ann.graph(read)

    parsed = message_from_bytes(mime)
    assert parsed["Message-ID"] == delivered["internet_message_id"]
    assert parsed["Subject"] == "Contract"
    assert [attachment.name for attachment in listed.value] == ["contract.txt"]
    assert single.odata_type == "#microsoft.graph.fileAttachment"
    assert single.content_bytes == b"terms and conditions"
    assert single.size == len(b"terms and conditions")


def test_users_path_reaches_the_same_mailbox_by_id_or_address(
    ann: Mailbox, ben: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.deliver(ann.address, sender="carol@client.example", subject="Hi")

    async def read(client: Any) -> tuple[Any, Any, ODataError]:
        by_id = await client.users.by_user_id(ann.id).messages.get()
        by_alias = await client.users.by_user_id(
            "ann.alias@contoso.example"
        ).mail_folders.get()
        try:
            await client.users.by_user_id(ben.address).messages.get()
        except ODataError as error:
            return by_id, by_alias, error
        raise AssertionError("another user's mailbox was readable")

    by_id, by_alias, refused = ann.graph(read)

    assert [message.subject for message in by_id.value] == ["Hi"]
    assert len(by_alias.value) == 8
    assert refused.response_status_code == 403
    assert refused.error.code == "ErrorAccessDenied"


def test_a_move_changes_the_default_id_but_not_the_immutable_id(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    delivered = microsoft.deliver(ann.address, sender="carol@client.example")

    async def move(client: Any) -> tuple[Any, Any, Any]:
        immutable = RequestConfiguration[Any]()
        immutable.headers.add("Prefer", 'IdType="ImmutableId"')
        before = await client.me.messages.by_message_id(delivered["id"]).get(
            request_configuration=immutable
        )
        moved = await client.me.messages.by_message_id(delivered["id"]).move.post(
            MovePostRequestBody(destination_id="archive")
        )
        after = await client.me.messages.by_message_id(before.id).get(
            request_configuration=immutable
        )
        return before, moved, after

    before, moved, after = ann.graph(move)

    assert before.id == delivered["immutable_id"]
    assert moved.id != delivered["id"]
    assert moved.parent_folder_id == ann.folders["archive"]
    assert after.id == before.id
    assert after.parent_folder_id == ann.folders["archive"]


def test_missing_messages_and_unknown_segments(ann: Mailbox) -> None:
    async def missing(client: Any) -> Any:
        return await client.me.messages.by_message_id("AAMkAGI2-nothing").get()

    error = _graph_error(ann, missing)

    assert error.response_status_code == 404
    assert error.error.code == "ErrorItemNotFound"


def test_reading_mail_needs_a_mail_scope(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    token = microsoft.issue_token(ann.address, scopes="openid User.Read")[
        "access_token"
    ]

    async def read(client: Any) -> Any:
        await client.me.get()
        return await client.me.messages.get(
            request_configuration=RequestConfiguration[Any]()
        )

    with pytest.raises(ODataError) as raised:
        run_graph(ann.base_url, token, read)

    assert raised.value.response_status_code == 403
    assert raised.value.error.code == "ErrorAccessDenied"
    assert raised.value.error.inner_error is not None


def test_message_item_by_folder_must_be_in_that_folder(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    delivered = microsoft.deliver(ann.address, sender="carol@client.example")

    async def read(client: Any) -> Any:
        folder = client.me.mail_folders.by_mail_folder_id("inbox")
        found = await folder.messages.by_message_id(delivered["id"]).get()
        try:
            await (
                client.me.mail_folders.by_mail_folder_id("archive")
                .messages.by_message_id(delivered["id"])
                .get()
            )
        except ODataError as error:
            return found, error
        raise AssertionError("found in the wrong folder")

    found, error = ann.graph(read)

    assert found.id == delivered["id"]
    assert error.response_status_code == 404
    assert len(found.conversation_index) == 22  # a Thread-Index header block
