"""What the Microsoft stand-in remembers: directory, grants, mailboxes.

Everything here is plain data made of JSON-friendly fields, so ``dump()``
and ``load()`` are a walk over the dataclasses. Binary content (attachments,
raw MIME) is kept base64-encoded for the same reason. Logic lives in
``exchange`` (mail) and ``identity`` (sign-in and tokens).
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
import types
import typing
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

WELL_KNOWN_FOLDERS = {
    # well-known name: display name, as a new Exchange Online mailbox has them
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
    "junkemail": "Junk Email",
    "outbox": "Outbox",
    "archive": "Archive",
    "conversationhistory": "Conversation History",
}
ROOT_FOLDER = "msgfolderroot"


@dataclass
class EmailAddress:
    address: str
    name: str = ""


@dataclass
class Attachment:
    id: str
    name: str
    content_type: str
    content_b64: str
    last_modified: float
    is_inline: bool = False
    content_id: str | None = None

    @property
    def content(self) -> bytes:
        return base64.b64decode(self.content_b64)

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class Message:
    """One item in a mailbox, with the fields Graph exposes on a message.

    ``rest_id`` is the default Graph id, which changes when the item moves
    to another folder; ``immutable_id`` never changes (``Prefer:
    IdType="ImmutableId"``). ``seq`` orders changes for delta queries.
    """

    immutable_id: str
    rest_id: str
    folder_id: str
    internet_message_id: str
    conversation_id: str
    conversation_index: str
    created: float
    modified: float
    received: float
    change_key: str
    seq: int = 0
    subject: str = ""
    body_type: str = "text"
    body: str = ""
    text_body: str = ""
    sender: EmailAddress | None = None
    from_: EmailAddress | None = None
    to: list[EmailAddress] = field(default_factory=list)
    cc: list[EmailAddress] = field(default_factory=list)
    bcc: list[EmailAddress] = field(default_factory=list)
    reply_to: list[EmailAddress] = field(default_factory=list)
    sent: float | None = None
    is_read: bool = False
    is_draft: bool = False
    importance: str = "normal"
    categories: list[str] = field(default_factory=list)
    custom_headers: list[dict[str, str]] = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    mime_b64: str | None = None
    save_to_sent_items: bool = True


@dataclass
class Removal:
    """A message that left a folder, remembered for delta queries."""

    seq: int
    rest_id: str
    immutable_id: str
    reason: str


@dataclass
class Folder:
    id: str
    display_name: str
    parent_id: str
    well_known_name: str | None = None
    is_hidden: bool = False
    sync_epoch: int = 0
    removals: list[Removal] = field(default_factory=list)


@dataclass
class User:
    """A directory user and the Exchange mailbox that belongs to them."""

    id: str
    address: str
    display_name: str
    given_name: str
    surname: str
    tenant_id: str
    mail_nickname: str
    proxy_addresses: list[str] = field(default_factory=list)
    folders: dict[str, Folder] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    seq: int = 0

    def owns_address(self, address: str) -> bool:
        wanted = address.strip().lower()
        aliases = {proxy.split(":", 1)[-1].lower() for proxy in self.proxy_addresses}
        return wanted == self.address.lower() or wanted in aliases


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str | None = None
    redirect_uris: list[str] = field(default_factory=list)
    name: str = "RevStackr"


@dataclass
class Grant:
    """One user's consent to one client, revoked as a whole."""

    id: str
    client_id: str
    user_id: str
    scopes: list[str]
    created: float
    revoked: bool = False


@dataclass
class AuthorizationCode:
    code: str
    grant_id: str
    scopes: list[str]
    redirect_uri: str
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    nonce: str | None = None
    redeemed: bool = False


@dataclass
class AccessToken:
    token: str
    grant_id: str
    user_id: str
    scopes: list[str]
    expires_at: float


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    scopes: list[str]
    expires_at: float


@dataclass
class ConsentRequest:
    """An authorize request waiting for the person's answer on the page."""

    id: str
    params: dict[str, str]
    created: float


@dataclass
class Settings:
    """Knobs tests and the demo turn through the control surface."""

    throttling_enabled: bool = True
    max_concurrent_requests: int = 4
    request_budget: int = 10_000
    budget_window_seconds: float = 600.0
    sent_copy_delay: float = 0.5
    access_token_lifetime: int = 3599
    refresh_token_lifetime: int = 90 * 24 * 3600
    code_lifetime: int = 600


@dataclass
class MicrosoftState:
    users: dict[str, User] = field(default_factory=dict)
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    consent_requests: dict[str, ConsentRequest] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)

    def user_by_address(self, address: str) -> User | None:
        for user in self.users.values():
            if user.owns_address(address):
                return user
        return None

    def user_by_reference(self, reference: str) -> User | None:
        """Find a user as Graph's ``/users/{id | userPrincipalName}`` does."""
        return self.users.get(reference) or self.user_by_address(reference)

    def dump(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def load(cls, data: dict[str, Any]) -> MicrosoftState:
        return _build(cls, data)


# Identifiers -----------------------------------------------------------------


def opaque_id(prefix: str, size: int = 48) -> str:
    """Return an id shaped like Exchange's: a prefix and URL-safe base64."""
    raw = base64.urlsafe_b64encode(secrets.token_bytes(size)).decode()
    return prefix + raw.rstrip("=")


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(48)


def tenant_id_for(address: str) -> str:
    """Give every mail domain its own stable tenant, as an organisation."""
    domain = address.rsplit("@", 1)[-1].lower()
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, domain))


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# Loading ---------------------------------------------------------------------


def _build(cls: type[Any], data: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    values = {
        item.name: _convert(hints[item.name], data[item.name])
        for item in dataclasses.fields(cls)
        if item.name in data
    }
    return cls(**values)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _convert(inner[0], value)
    if origin is list:
        (item_hint,) = typing.get_args(hint)
        return [_convert(item_hint, item) for item in value]
    if origin is dict:
        _, item_hint = typing.get_args(hint)
        return {key: _convert(item_hint, item) for key, item in value.items()}
    if dataclasses.is_dataclass(hint):
        return _build(hint, value)  # type: ignore[arg-type]
    return value
