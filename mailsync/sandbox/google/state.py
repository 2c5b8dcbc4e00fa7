"""What the Google stand-in remembers: accounts, mail, grants and tokens.

Everything here is plain data that ``dump()``/``load()`` turn into JSON for
the demo's state file. Behaviour lives in ``mailbox`` (mail, threads and
history) and ``oauth`` (grants and tokens); callers hold the sandbox lock.
"""

from __future__ import annotations

import base64
import itertools
import secrets
import threading
from dataclasses import asdict, dataclass, field, fields
from email.message import Message as MimeMessage
from typing import Any

from mailsync.sandbox.google.mime import decoded_header, parse_mime, unfold

SYSTEM_LABELS = (
    "INBOX",
    "SENT",
    "DRAFT",
    "SPAM",
    "TRASH",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "CHAT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
)

# Gmail history ids are large and grow with every change of a mailbox; a
# start far from 1 catches code that assumes small numbers.
FIRST_HISTORY_ID = 1_000_000

_id_counter = itertools.count()
_id_lock = threading.Lock()


def new_message_id(now: float) -> str:
    """Return a 16-hex-digit id that sorts by creation time, like Gmail's."""
    with _id_lock:
        sequence = next(_id_counter) % 0x100000
    return f"{int(now * 1000) % 0x100000000000:011x}{sequence:05x}"


def new_token(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


@dataclass
class StoredMessage:
    """One message of one mailbox, kept as the RFC 822 bytes it arrived as."""

    id: str
    thread_id: str
    raw: bytes
    label_ids: list[str]
    internal_date: int  # epoch milliseconds
    history_id: int
    _mime: MimeMessage | None = field(default=None, repr=False, compare=False)
    _searchable: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def mime(self) -> MimeMessage:
        if self._mime is None:
            self._mime = parse_mime(self.raw)
        return self._mime

    def searchable(self, name: str) -> str:
        """A header decoded and lower-cased, kept for the next search (a
        first import runs long searches over every message, page by page)."""
        value = self._searchable.get(name)
        if value is None:
            value = self._searchable[name] = decoded_header(self.mime, name).lower()
        return value

    def header(self, name: str) -> str:
        """A header's raw value, unfolded ("" when absent)."""
        return unfold(str(self.mime.get(name, "")))

    def stub(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "threadId": self.thread_id,
            "labelIds": list(self.label_ids),
        }

    def dump(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "thread_id": self.thread_id,
            "raw": base64.b64encode(self.raw).decode("ascii"),
            "label_ids": self.label_ids,
            "internal_date": self.internal_date,
            "history_id": self.history_id,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> StoredMessage:
        return cls(
            id=data["id"],
            thread_id=data["thread_id"],
            raw=base64.b64decode(data["raw"]),
            label_ids=list(data["label_ids"]),
            internal_date=int(data["internal_date"]),
            history_id=int(data["history_id"]),
        )


@dataclass
class HistoryRecord:
    """One change of a mailbox, in the shape ``history.list`` answers with.

    ``kind`` is messageAdded, messageDeleted, labelAdded or labelRemoved;
    ``label_ids`` are the labels added or removed.
    """

    id: int
    kind: str
    message: dict[str, Any]
    label_ids: list[str] = field(default_factory=list)
    at: float = 0.0


@dataclass
class UserLabel:
    id: str
    name: str


@dataclass
class Mailbox:
    """One Google account: its profile and its Gmail mailbox."""

    address: str
    name: str
    sub: str
    aliases: list[str] = field(default_factory=list)
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    user_labels: dict[str, UserLabel] = field(default_factory=dict)
    history: list[HistoryRecord] = field(default_factory=list)
    history_id: int = FIRST_HISTORY_ID
    # A startHistoryId below this answers 404: the changes after it are
    # forgotten.
    oldest_valid_start: int = FIRST_HISTORY_ID
    watch_expiration: int | None = None
    watch_topic: str | None = None

    def addresses(self) -> set[str]:
        return {self.address, *self.aliases}

    def dump(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "name": self.name,
            "sub": self.sub,
            "aliases": self.aliases,
            "messages": [message.dump() for message in self.messages.values()],
            "user_labels": [asdict(label) for label in self.user_labels.values()],
            "history": [asdict(record) for record in self.history],
            "history_id": self.history_id,
            "oldest_valid_start": self.oldest_valid_start,
            "watch_expiration": self.watch_expiration,
            "watch_topic": self.watch_topic,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Mailbox:
        messages = [StoredMessage.load(item) for item in data["messages"]]
        labels = [UserLabel(**item) for item in data["user_labels"]]
        return cls(
            address=data["address"],
            name=data["name"],
            sub=data["sub"],
            aliases=list(data["aliases"]),
            messages={message.id: message for message in messages},
            user_labels={label.id: label for label in labels},
            history=[HistoryRecord(**item) for item in data["history"]],
            history_id=int(data["history_id"]),
            oldest_valid_start=int(data["oldest_valid_start"]),
            watch_expiration=data.get("watch_expiration"),
            watch_topic=data.get("watch_topic"),
        )


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)


@dataclass
class Grant:
    """What one account allowed one client, until revoked."""

    id: str
    address: str
    client_id: str
    scopes: list[str]
    refresh_tokens: list[str] = field(default_factory=list)


@dataclass
class AccessToken:
    token: str
    grant_id: str
    scopes: list[str]
    expires_at: float  # on the sandbox clock


@dataclass
class AuthorizationCode:
    """A code handed to the redirect URI, exchanged once at the token URL."""

    code: str
    client_id: str
    redirect_uri: str
    address: str
    scopes: list[str]
    expires_at: float
    access_type: str = "online"
    prompt: str = ""
    include_granted_scopes: bool = False
    code_challenge: str = ""
    code_challenge_method: str = ""
    nonce: str = ""


@dataclass
class QuotaSettings:
    enabled: bool = True
    limit_per_minute: int = 6000
    table: str = "2026"  # or "older"


@dataclass
class OutboundMessage:
    """A message sent to an address no sandbox mailbox holds."""

    sender: str
    recipients: list[str]
    message_id: str
    rfc822_message_id: str
    subject: str
    at: float


@dataclass
class GoogleState:
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    quota: QuotaSettings = field(default_factory=QuotaSettings)
    outbound: list[OutboundMessage] = field(default_factory=list)

    def replace_with(self, other: GoogleState) -> None:
        """Take ``other``'s contents, keeping this object (others hold it)."""
        for item in fields(self):
            setattr(self, item.name, getattr(other, item.name))

    def mailbox_for(self, address: str) -> Mailbox | None:
        """Find the mailbox an address (primary or alias) belongs to."""
        address = address.strip().lower()
        mailbox = self.mailboxes.get(address)
        if mailbox is not None:
            return mailbox
        for candidate in self.mailboxes.values():
            if address in candidate.aliases:
                return candidate
        return None

    def dump(self) -> dict[str, Any]:
        # Authorization codes live ten minutes and are not worth keeping.
        return {
            "mailboxes": [mailbox.dump() for mailbox in self.mailboxes.values()],
            "clients": [asdict(client) for client in self.clients.values()],
            "grants": [asdict(grant) for grant in self.grants.values()],
            "access_tokens": [asdict(token) for token in self.access_tokens.values()],
            "quota": asdict(self.quota),
            "outbound": [asdict(message) for message in self.outbound],
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> GoogleState:
        mailboxes = [Mailbox.load(item) for item in data.get("mailboxes", [])]
        clients = [OAuthClient(**item) for item in data.get("clients", [])]
        grants = [Grant(**item) for item in data.get("grants", [])]
        tokens = [AccessToken(**item) for item in data.get("access_tokens", [])]
        return cls(
            mailboxes={mailbox.address: mailbox for mailbox in mailboxes},
            clients={client.client_id: client for client in clients},
            grants={grant.id: grant for grant in grants},
            access_tokens={token.token: token for token in tokens},
            quota=QuotaSettings(**data.get("quota", {})),
            outbound=[OutboundMessage(**item) for item in data.get("outbound", [])],
        )
