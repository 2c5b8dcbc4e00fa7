"""Fixtures for the Microsoft stand-in's conformance tests.

Test modules import them with ``from ...microsoft_fixtures import *``.
Graph is driven through the real msgraph-sdk, built afresh inside each
``asyncio.run`` because its httpx client is bound to one event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from msgraph import GraphServiceClient

from mailsync.providers.graph_api import build_graph_client
from mailsync.sandbox import Sandbox
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl

__all__ = ["Mailbox", "ann", "ben", "microsoft", "run_graph"]

T = TypeVar("T")
Scenario = Callable[[GraphServiceClient], Awaitable[T]]


@dataclass
class Mailbox:
    """A sandbox Microsoft user with a token for every scope RevStackr asks."""

    address: str
    id: str
    access_token: str
    refresh_token: str
    folders: dict[str, str]
    base_url: str

    def graph(self, scenario: Scenario[T], *, retry: bool = False) -> T:
        return run_graph(self.base_url, self.access_token, scenario, retry=retry)


def run_graph(
    base_url: str, access_token: str, scenario: Scenario[T], *, retry: bool = False
) -> T:
    """Run ``scenario`` with a fresh Graph client for ``access_token``.

    The SDK's RetryHandler is off unless ``retry`` is set, so each test sees
    the sandbox's first answer.
    """

    async def main() -> T:
        client = build_graph_client(f"{base_url}/graph/v1.0", access_token, retry=retry)
        return await scenario(client)

    return asyncio.run(main())


@pytest.fixture
def microsoft(sandbox: Sandbox) -> Iterator[MicrosoftSandboxControl]:
    """The control client, with sent copies filed at once."""
    with MicrosoftSandboxControl(sandbox.base_url) as control:
        control.settings(sent_copy_delay=0)
        yield control


def _mailbox(control: MicrosoftSandboxControl, address: str, name: str) -> Mailbox:
    user: dict[str, Any] = control.create_user(
        address, name, proxy_addresses=[address.replace("@", ".alias@")]
    )
    tokens = control.issue_token(address)
    return Mailbox(
        address=address,
        id=user["id"],
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        folders=user["well_known_folders"],
        base_url=control.base_url,
    )


@pytest.fixture
def ann(microsoft: MicrosoftSandboxControl) -> Mailbox:
    return _mailbox(microsoft, "ann@contoso.example", "Ann Archer")


@pytest.fixture
def ben(microsoft: MicrosoftSandboxControl) -> Mailbox:
    return _mailbox(microsoft, "ben@contoso.example", "Ben Baker")
