"""Seeding many messages in one control request, for benchmarks."""

from __future__ import annotations

import pytest

from mailsync.sandbox import Sandbox
from mailsync.sandbox.google.control_client import (
    ControlError,
    GoogleSandboxControl,
)
from mailsync.sandbox.microsoft.control_client import (
    ControlRequestError,
    MicrosoftSandboxControl,
)


def test_google_deliver_many_delivers_each_message(sandbox: Sandbox) -> None:
    google = GoogleSandboxControl(sandbox.base_url)
    google.create_user("ann@gmail.test")

    delivered = google.deliver_many(
        [
            {
                "from_": f"c{n}@client.example",
                "to": ["ann@gmail.test"],
                "subject": f"S{n}",
            }
            for n in range(3)
        ]
    )

    assert delivered == 3
    subjects = [m["headers"]["Subject"] for m in google.messages("ann@gmail.test")]
    assert sorted(subjects) == ["S0", "S1", "S2"]


def test_google_deliver_many_refuses_a_body_without_a_list(sandbox: Sandbox) -> None:
    google = GoogleSandboxControl(sandbox.base_url)

    with pytest.raises(ControlError) as refused:
        google._call("POST", "google/deliver-many", {"messages": "nope"})

    assert refused.value.status == 400


def test_microsoft_deliver_many_delivers_each_message(sandbox: Sandbox) -> None:
    microsoft = MicrosoftSandboxControl(sandbox.base_url)
    microsoft.create_user("ann@outlook.test")

    delivered = microsoft.deliver_many(
        [
            {
                "mailbox": "ann@outlook.test",
                "from": f"c{n}@client.example",
                "subject": f"S{n}",
            }
            for n in range(3)
        ]
        + [
            {
                "mailbox": "ann@outlook.test",
                "from": "c9@client.example",
                "subject": "Filed",
                "folder": "archive",
            }
        ]
    )

    assert delivered == 4
    inbox = microsoft.folder_messages("ann@outlook.test", "inbox")
    assert sorted(m["subject"] for m in inbox) == ["S0", "S1", "S2"]
    archive = microsoft.folder_messages("ann@outlook.test", "archive")
    assert [m["subject"] for m in archive] == ["Filed"]


def test_microsoft_deliver_many_refuses_a_body_without_a_list(sandbox: Sandbox) -> None:
    microsoft = MicrosoftSandboxControl(sandbox.base_url)

    with pytest.raises(ControlRequestError):
        microsoft._post("deliver-many", messages={"not": "a list"})
