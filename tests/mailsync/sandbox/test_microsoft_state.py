"""The Microsoft stand-in's state survives dump() and load()."""

from __future__ import annotations

import json
from typing import Any

from mailsync.sandbox import Sandbox
from mailsync.sandbox.microsoft import MicrosoftProvider
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.mailsync.sandbox.microsoft_fixtures import *  # noqa: F403
from tests.mailsync.sandbox.microsoft_fixtures import Mailbox


def _provider(sandbox: Sandbox) -> MicrosoftProvider:
    return next(
        provider
        for provider in sandbox.providers
        if isinstance(provider, MicrosoftProvider)
    )


def test_a_dumped_state_loads_with_tokens_mail_and_delta_links_intact(
    sandbox: Sandbox, ann: Mailbox, microsoft: MicrosoftSandboxControl
) -> None:
    delivered = microsoft.deliver(
        ann.address,
        sender="carol@client.example",
        subject="Kept",
        attachments=[("a.txt", "text/plain", b"abc")],
    )

    async def first_round(client: Any) -> str:
        page = await client.me.mail_folders.by_mail_folder_id(
            "inbox"
        ).messages.delta.get()
        return str(page.odata_delta_link)

    delta_link = ann.graph(first_round)
    provider = _provider(sandbox)
    saved = json.loads(json.dumps(provider.dump()))

    provider.reset()
    provider.load(saved)

    async def after_load(client: Any) -> tuple[Any, Any]:
        message = await client.me.messages.by_message_id(delivered["id"]).get()
        changes = (
            await client.me.mail_folders.by_mail_folder_id("inbox")
            .messages.delta.with_url(delta_link)
            .get()
        )
        return message, changes

    message, changes = ann.graph(after_load)
    assert message.subject == "Kept"
    assert message.has_attachments is True
    assert changes.value == []
    assert microsoft.mailbox(ann.address)["id"] == ann.id
