"""The small interface every mail provider implements.

Views, tasks and services reach Gmail and Outlook only through a
``MailProvider``; each implementation turns the provider's answers into the
typed objects here and its failures into ``ProviderError``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

from mailsync.errors import ProviderError

__all__ = [
    "CursorExpired",
    "FetchedMessage",
    "MailProvider",
    "MailboxIdentity",
    "OutgoingEmail",
    "ProviderError",
    "PullPage",
    "PullRequest",
    "SentEmail",
    "provider_for",
]


@dataclass(frozen=True)
class MailboxIdentity:
    """Who the mailbox is: its address and the other addresses it sends as."""

    address: str
    aliases: list[str] = field(default_factory=list)


class CursorExpired(Exception):
    """The provider no longer knows the cursor (Gmail 404, Graph 410)."""


@dataclass(frozen=True)
class FetchedMessage:
    provider_message_id: str
    provider_thread_id: str
    raw: bytes  # the full RFC 822 source
    folder: str = ""


@dataclass(frozen=True)
class PullRequest:
    """What one pull may do, and what it needs to know of the CRM."""

    cursor: dict[str, Any]
    window_start: datetime
    # Every contact address of the account (read only when a first import
    # or a re-list needs them; a backfill names its own in the cursor).
    contact_addresses: Callable[[], list[str]]
    # Why a message with these participants would not be stored ("no
    # contact", "never-log"), or None when it would be; for providers that
    # can tell before fetching the message.
    skip_reason: Callable[[set[str]], str | None]
    # Which of these provider ids this mailbox already stored.
    already_stored: Callable[[list[str]], set[str]]
    # At most this many sources are fetched in one step.
    max_messages: int = 100
    # A ``time.monotonic()`` reading after which a step that fetches sources
    # one by one fetches no further (beyond the first, so that every step
    # makes progress) and leaves the rest to the next step.
    deadline: float | None = None


@dataclass
class PullPage:
    """One step of a sync: messages to store, then where to continue."""

    messages: list[FetchedMessage] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)
    caught_up: bool = False
    # Messages looked at on the first import, for its progress.
    examined: int = 0
    total_estimate: int | None = None
    # Messages passed over without fetching them, by reason.
    skipped: dict[str, int] = field(default_factory=dict)
    # Addresses of the cursor's ``backfill`` whose past mail this step began
    # (or finished) listing; the others stay requested for a later step.
    backfill_taken: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OutgoingEmail:
    raw: bytes  # the RFC 822 source, with our own Message-ID
    message_id: str
    # The mailbox's provider thread to send into (replies), if known.
    provider_thread_id: str = ""
    # Attachments too large to travel inside the source (Graph over 3 MB).
    large_attachments: list[tuple[str, str, bytes]] = field(default_factory=list)


@dataclass(frozen=True)
class SentEmail:
    provider_message_id: str
    provider_thread_id: str


class MailProvider(abc.ABC):
    """One connected mailbox at one provider, reached with an access token."""

    def __init__(self, access_token: str) -> None:
        self.access_token = access_token

    @abc.abstractmethod
    def fetch_identity(self) -> MailboxIdentity:
        """The mailbox's own address and aliases."""

    @abc.abstractmethod
    def pull(self, request: PullRequest) -> PullPage:
        """Fetch the next step of changes; the first import when the cursor
        is empty. Raises ``CursorExpired`` when the cursor is stale."""

    @abc.abstractmethod
    def send(self, email: OutgoingEmail, *, attempt: int) -> SentEmail:
        """Send through the mailbox, so the mail is in its Sent folder.

        ``attempt`` counts earlier tries of the same email; from the second
        on, the provider first looks for a copy that an interrupted try
        already sent, and answers with it instead of sending twice.
        """

    @abc.abstractmethod
    def fetch_raw(self, provider_message_id: str) -> bytes:
        """The RFC 822 source of one message (for attachment downloads)."""


def provider_for(provider: str, access_token: str) -> MailProvider:
    """The implementation for a ``Mailbox.Provider`` value."""
    if provider == "gmail":
        from mailsync.providers.gmail import GmailProvider

        return GmailProvider(
            access_token, root_url=settings.GOOGLE_ENDPOINTS["api_root"]
        )
    if provider == "outlook":
        from mailsync.providers.outlook import OutlookProvider

        return OutlookProvider(
            access_token, base_url=f"{settings.MICROSOFT_ENDPOINTS['graph']}/v1.0"
        )
    raise ValueError(f"unknown provider {provider!r}")
