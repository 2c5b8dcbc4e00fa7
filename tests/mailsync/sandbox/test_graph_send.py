"""Sending, drafts, replies and attachment uploads through msgraph-sdk."""

from __future__ import annotations

import base64
import time
from email import message_from_bytes
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from msgraph.generated.models.attachment_item import AttachmentItem
from msgraph.generated.models.attachment_type import AttachmentType
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.file_attachment import FileAttachment
from msgraph.generated.models.internet_message_header import InternetMessageHeader
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.message import Message
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.users.item.messages.item.attachments.create_upload_session.create_upload_session_post_request_body import (  # noqa: E501
    CreateUploadSessionPostRequestBody,
)
from msgraph.generated.users.item.messages.item.create_reply.create_reply_post_request_body import (  # noqa: E501
    CreateReplyPostRequestBody,
)
from msgraph.generated.users.item.messages.item.reply.reply_post_request_body import (
    ReplyPostRequestBody,
)
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)

from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.mailsync.sandbox.microsoft_fixtures import *  # noqa: F403
from tests.mailsync.sandbox.microsoft_fixtures import Mailbox


def _recipients(*addresses: str) -> list[Recipient]:
    return [
        Recipient(email_address=EmailAddress(address=address)) for address in addresses
    ]


def _message(*to: str, subject: str = "Proposal", **fields: Any) -> Message:
    return Message(
        subject=subject,
        body=ItemBody(content_type=BodyType.Html, content="<p>Our proposal.</p>"),
        to_recipients=_recipients(*to),
        **fields,
    )


def test_send_mail_files_one_copy_in_sent_items_and_delivers_to_sandbox_users(
    ann: Mailbox, ben: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    message = _message(
        ben.address,
        "carol@client.example",
        internet_message_headers=[
            InternetMessageHeader(name="X-RevStackr-Id", value="42")
        ],
        attachments=[
            FileAttachment(
                name="terms.txt", content_type="text/plain", content_bytes=b"T&C"
            )
        ],
    )

    async def send(client: Any) -> None:
        await client.me.send_mail.post(
            SendMailPostRequestBody(message=message, save_to_sent_items=True)
        )

    ann.graph(send)

    sent = microsoft.folder_messages(ann.address, "sentitems")
    assert len(sent) == 1
    assert sent[0]["subject"] == "Proposal" and sent[0]["from"] == ann.address
    assert sent[0]["to"] == [ben.address, "carol@client.example"]
    assert sent[0]["attachments"] == ["terms.txt"]
    assert sent[0]["headers"] == [{"name": "X-RevStackr-Id", "value": "42"}]
    assert microsoft.folder_messages(ann.address, "outbox") == []
    received = microsoft.folder_messages(ben.address, "inbox")
    assert [item["internet_message_id"] for item in received] == [
        sent[0]["internet_message_id"]
    ]
    assert received[0]["is_read"] is False


def test_the_sent_copy_appears_after_the_configured_delay(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    microsoft.settings(sent_copy_delay=0.3)

    async def send(client: Any) -> None:
        await client.me.send_mail.post(
            SendMailPostRequestBody(
                message=_message("carol@client.example"), save_to_sent_items=True
            )
        )

    ann.graph(send)

    assert microsoft.folder_messages(ann.address, "sentitems") == []
    assert len(microsoft.folder_messages(ann.address, "outbox")) == 1
    time.sleep(0.6)
    assert len(microsoft.folder_messages(ann.address, "sentitems")) == 1


def test_the_sdks_default_save_to_sent_items_false_keeps_no_copy(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    async def send(client: Any) -> None:
        await client.me.send_mail.post(
            SendMailPostRequestBody(message=_message("carol@client.example"))
        )

    ann.graph(send)

    assert microsoft.folder_messages(ann.address, "sentitems") == []


def test_send_mail_answers_202_with_no_body(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    # The SDK's send_mail.post returns None whatever the status, so the
    # status is read from a plain request.
    response = httpx.post(
        f"{ann.base_url}/graph/v1.0/me/sendMail",
        json={
            "message": {
                "subject": "Proposal",
                "body": {"contentType": "Text", "content": "Our proposal."},
                "toRecipients": [{"emailAddress": {"address": "carol@client.example"}}],
            },
            "saveToSentItems": True,
        },
        headers={"Authorization": f"Bearer {ann.access_token}"},
    )

    assert response.status_code == 202
    assert response.content == b""
    sent = microsoft.folder_messages(ann.address, "sentitems")
    assert [item["subject"] for item in sent] == ["Proposal"]


def test_send_mail_takes_base64_mime(
    ann: Mailbox, ben: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    mime = EmailMessage()
    mime["From"] = ann.address
    mime["To"] = ben.address
    mime["Subject"] = "Sent as MIME"
    mime["Message-ID"] = "<mime-1@revstackr.example>"
    mime.set_content("Plain body.")

    response = httpx.post(
        f"{ann.base_url}/graph/v1.0/me/sendMail",
        content=base64.b64encode(bytes(mime)),
        headers={
            "Authorization": f"Bearer {ann.access_token}",
            "Content-Type": "text/plain",
        },
    )

    assert response.status_code == 202
    assert response.content == b""
    sent = microsoft.folder_messages(ann.address, "sentitems")
    assert [item["internet_message_id"] for item in sent] == [
        "<mime-1@revstackr.example>"
    ]
    inbox = microsoft.folder_messages(ben.address, "inbox")
    assert [item["subject"] for item in inbox] == ["Sent as MIME"]


def test_a_sent_draft_keeps_its_internet_message_id_and_headers(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    async def draft_then_send(client: Any) -> tuple[Any, Any]:
        draft = await client.me.messages.post(
            _message(
                "carol@client.example",
                internet_message_headers=[
                    InternetMessageHeader(name="X-RevStackr-Outbound", value="7")
                ],
            )
        )
        await client.me.messages.by_message_id(draft.id).send.post()
        return draft, None

    draft, _ = ann.graph(draft_then_send)

    assert draft.is_draft is True
    assert draft.internet_message_id.startswith("<")
    assert draft.parent_folder_id == ann.folders["drafts"]
    assert microsoft.folder_messages(ann.address, "drafts") == []
    sent = microsoft.folder_messages(ann.address, "sentitems")
    assert len(sent) == 1
    assert sent[0]["internet_message_id"] == draft.internet_message_id
    assert sent[0]["is_draft"] is False
    assert sent[0]["headers"] == [{"name": "X-RevStackr-Outbound", "value": "7"}]


def test_create_reply_joins_the_conversation_with_threading_headers(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    original = microsoft.deliver(
        ann.address,
        sender="Carol <carol@client.example>",
        subject="Pricing",
        text="What does it cost?",
    )

    async def reply(client: Any) -> tuple[Any, bytes]:
        item = client.me.messages.by_message_id(original["id"])
        draft = await item.create_reply.post(
            CreateReplyPostRequestBody(comment="It costs little.")
        )
        mime = await client.me.messages.by_message_id(draft.id).content.get()
        await client.me.messages.by_message_id(draft.id).send.post()
        return draft, mime

    draft, mime = ann.graph(reply)

    assert draft.conversation_id == original["conversation_id"]
    assert draft.subject == "RE: Pricing"
    assert [item.email_address.address for item in draft.to_recipients] == [
        "carol@client.example"
    ]
    headers = message_from_bytes(mime)
    assert headers["In-Reply-To"] == original["internet_message_id"]
    assert original["internet_message_id"] in headers["References"]
    sent = microsoft.folder_messages(ann.address, "sentitems")
    assert [item["conversation_id"] for item in sent] == [original["conversation_id"]]
    assert sent[0]["in_reply_to"] == original["internet_message_id"]


def test_reply_sends_at_once_and_threads_in_the_recipients_mailbox(
    ann: Mailbox, ben: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    first = microsoft.deliver(
        ann.address, sender=ben.address, subject="Lunch?", to=[ann.address]
    )
    ben_copy = microsoft.deliver(
        ben.address,
        sender=ben.address,
        subject="Lunch?",
        folder="sentitems",
        message_id=first["internet_message_id"],
    )

    async def reply(client: Any) -> None:
        await client.me.messages.by_message_id(first["id"]).reply.post(
            ReplyPostRequestBody(comment="Yes!")
        )

    ann.graph(reply)

    answer = microsoft.folder_messages(ben.address, "inbox")
    assert [item["subject"] for item in answer] == ["RE: Lunch?"]
    assert answer[0]["conversation_id"] == ben_copy["conversation_id"]


def test_sending_without_recipients_is_refused(ann: Mailbox) -> None:
    async def send(client: Any) -> None:
        await client.me.send_mail.post(SendMailPostRequestBody(message=_message()))

    with pytest.raises(ODataError) as refused:
        ann.graph(send)

    assert refused.value.response_status_code == 400
    assert refused.value.error.code == "ErrorInvalidRecipients"


def test_only_drafts_accept_content_changes(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    received = microsoft.deliver(ann.address, sender="carol@client.example")

    async def edit(client: Any) -> tuple[Any, Any, ODataError]:
        draft = await client.me.messages.post(_message("carol@client.example"))
        changed = await client.me.messages.by_message_id(draft.id).patch(
            Message(subject="Revised proposal")
        )
        read = await client.me.messages.by_message_id(received["id"]).patch(
            Message(is_read=True)
        )
        try:
            await client.me.messages.by_message_id(received["id"]).patch(
                Message(subject="Rewritten")
            )
        except ODataError as error:
            return changed, read, error
        raise AssertionError("a received message's subject changed")

    changed, read, refused = ann.graph(edit)

    assert changed.subject == "Revised proposal"
    assert read.is_read is True
    assert refused.error.code == "ErrorInvalidPropertyUpdateSentMessage"


def test_a_large_attachment_is_uploaded_in_chunks(
    ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    content = bytes(range(256)) * (5 * 4096)  # 5 MiB

    async def upload_session(client: Any) -> tuple[Any, Any]:
        draft = await client.me.messages.post(_message("carol@client.example"))
        session = await client.me.messages.by_message_id(
            draft.id
        ).attachments.create_upload_session.post(
            CreateUploadSessionPostRequestBody(
                attachment_item=AttachmentItem(
                    attachment_type=AttachmentType.File,
                    name="deck.pdf",
                    size=len(content),
                    content_type="application/pdf",
                )
            )
        )
        return draft, session

    draft, session = ann.graph(upload_session)
    assert session.next_expected_ranges == ["0-"]

    too_big = httpx.put(
        session.upload_url,
        content=content[: 4 * 1024 * 1024 + 1],
        headers={"Content-Range": f"bytes 0-{4 * 1024 * 1024}/{len(content)}"},
    )
    assert too_big.status_code == 413
    chunk = 4 * 1024 * 1024
    first = httpx.put(
        session.upload_url,
        content=content[:chunk],
        headers={"Content-Range": f"bytes 0-{chunk - 1}/{len(content)}"},
    )
    assert first.status_code == 200
    assert first.json()["nextExpectedRanges"] == [f"{chunk}-"]
    last = httpx.put(
        session.upload_url,
        content=content[chunk:],
        headers={"Content-Range": f"bytes {chunk}-{len(content) - 1}/{len(content)}"},
    )
    assert last.status_code == 201
    assert "attachments(" in last.headers["Location"]

    async def attachments(client: Any) -> Any:
        return await client.me.messages.by_message_id(draft.id).attachments.get()

    listed = ann.graph(attachments)
    assert [(item.name, item.size) for item in listed.value] == [
        ("deck.pdf", len(content))
    ]
    assert listed.value[0].content_bytes == content
