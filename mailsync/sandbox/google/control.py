"""The Google stand-in's control surface, under ``/_control/google/``.

Tests, the demo and benchmarks set the scene here: accounts, OAuth clients
and grants, mail from outside, quota settings; and look at what the app
did: a mailbox's messages, mail sent outside the sandbox. Bodies are JSON
both ways; a bad request answers 400 with ``{"error": ...}``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from mailsync.sandbox.core import Sandbox, json_response
from mailsync.sandbox.google.errors import GoogleApiError
from mailsync.sandbox.google.mailbox import (
    create_label,
    expire_history,
    label_id_for,
)
from mailsync.sandbox.google.mime import addresses as recipients_of
from mailsync.sandbox.google.mime import (
    compose,
    decoded_header,
    message_ids,
    parse_mime,
    snippet_of,
)
from mailsync.sandbox.google.oauth import OAuthServer
from mailsync.sandbox.google.quota import TABLES, QuotaMeter
from mailsync.sandbox.google.sending import INBOUND_LABELS, deliver
from mailsync.sandbox.google.state import (
    GoogleState,
    Mailbox,
    OAuthClient,
    StoredMessage,
)

SHOWN_HEADERS = (
    "From",
    "To",
    "Cc",
    "Bcc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
)


class ControlError(Exception):
    """A control request that cannot be carried out."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


ControlHandler = Callable[[Request], Any]


class GoogleControl:
    def __init__(
        self,
        sandbox: Sandbox,
        state: GoogleState,
        oauth: OAuthServer,
        quota: QuotaMeter,
    ) -> None:
        self.sandbox = sandbox
        self.state = state
        self.oauth = oauth
        self.quota = quota

    def register(self) -> None:
        routes: dict[str, ControlHandler] = {
            "google/users": self.users,
            "google/clients": self.clients,
            "google/grants": self.grants,
            "google/revoke": self.revoke,
            "google/deliver": self.deliver,
            "google/deliver-many": self.deliver_many,
            "google/mailbox": self.mailbox,
            "google/labels": self.labels,
            "google/history/expire": self.expire_history,
            "google/quota": self.quota_settings,
            "google/outbound": self.outbound,
        }
        for path, handler in routes.items():
            self.sandbox.add_control_route(path, _as_json_view(handler))

    # Accounts and OAuth clients ----------------------------------------------

    def users(self, request: Request) -> Any:
        if request.method == "POST":
            body = _body(request)
            address = _required(body, "address").strip().lower()
            with self.sandbox.lock:
                if self.state.mailbox_for(address) is not None:
                    raise ControlError(f"{address} already exists", 409)
                mailbox = Mailbox(
                    address=address,
                    name=str(body.get("name") or address.split("@")[0]),
                    sub=_subject_id(address),
                    aliases=[str(a).lower() for a in body.get("aliases", [])],
                )
                self.state.mailboxes[address] = mailbox
                return _account(mailbox)
        with self.sandbox.lock:
            return {"users": [_account(m) for m in self.state.mailboxes.values()]}

    def clients(self, request: Request) -> Any:
        with self.sandbox.lock:
            if request.method == "POST":
                body = _body(request)
                client = OAuthClient(
                    client_id=_required(body, "client_id"),
                    client_secret=str(body.get("client_secret", "")),
                    redirect_uris=[str(uri) for uri in body.get("redirect_uris", [])],
                )
                self.state.clients[client.client_id] = client
            elif request.method == "DELETE":
                self.state.clients.clear()
            return {
                "clients": [
                    {"client_id": c.client_id, "redirect_uris": c.redirect_uris}
                    for c in self.state.clients.values()
                ]
            }

    def grants(self, request: Request) -> Any:
        """POST mints tokens without the consent screen; GET lists grants."""
        if request.method == "POST":
            body = _body(request)
            mailbox = self._mailbox(_required(body, "address"))
            scopes = body.get("scopes") or []
            if isinstance(scopes, str):
                scopes = scopes.split()
            client_id = str(body.get("client_id") or "sandbox-client")
            return self.oauth.issue_grant(mailbox, client_id, list(scopes))
        with self.sandbox.lock:
            return {
                "grants": [
                    {
                        "address": grant.address,
                        "client_id": grant.client_id,
                        "scopes": grant.scopes,
                        "refresh_tokens": len(grant.refresh_tokens),
                    }
                    for grant in self.state.grants.values()
                ]
            }

    def revoke(self, request: Request) -> Any:
        body = _body(request)
        address = _required(body, "address").strip().lower()
        revoked = self.oauth.revoke_grants_of(address, body.get("client_id"))
        return {"revoked": revoked}

    # Mail --------------------------------------------------------------------

    def deliver(self, request: Request) -> Any:
        """Deliver mail from outside, as if a contact had sent it."""
        return self._deliver(_body(request))

    def deliver_many(self, request: Request) -> Any:
        """Deliver a list of messages in one request (seeding benchmarks).

        Each item takes the fields of ``deliver``; the answer only counts
        them, since a large seed has no use for every summary.
        """
        items = _body(request).get("messages")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ControlError("messages must be a list of JSON objects")
        delivered = 0
        for item in items:
            delivered += len(self._deliver(item)["delivered"])
        return {"delivered": delivered}

    def _deliver(self, body: dict[str, Any]) -> dict[str, Any]:
        now = self.sandbox.clock.now()
        date = float(body["date"]) if body.get("date") is not None else None

        with self.sandbox.lock:
            targets = self._delivery_targets(body)
            raw = self._raw_of(body, targets, date)
            delivered: list[tuple[Mailbox, StoredMessage]] = []
            for mailbox in targets:
                labels = self._inbound_labels(mailbox, body)
                delivered += deliver(
                    self.state,
                    raw,
                    now=now,
                    labels=labels,
                    only_to=[mailbox.address],
                    thread_ids=self._thread_ids(mailbox, body),
                )
            if date is not None:
                for _, message in delivered:
                    message.internal_date = int(date * 1000)
            return {
                "delivered": [
                    {"address": mailbox.address, **_summary(message)}
                    for mailbox, message in delivered
                ]
            }

    def _delivery_targets(self, body: dict[str, Any]) -> list[Mailbox]:
        if body.get("mailbox"):
            return [self._mailbox(str(body["mailbox"]))]
        addresses = (
            _list(body.get("to")) + _list(body.get("cc")) + _list(body.get("bcc"))
        )
        if not addresses and (body.get("raw") or body.get("raw_base64")):
            raw = self._raw_of(body, [], None)
            addresses = recipients_of(
                parse_mime(raw), "To", "Cc", "Bcc", "Delivered-To"
            )
        targets: list[Mailbox] = []
        for address in addresses:
            mailbox = self.state.mailbox_for(address)
            if mailbox is not None and mailbox not in targets:
                targets.append(mailbox)
        if not targets:
            raise ControlError("no recipient is a sandbox Google account")
        return targets

    def _raw_of(
        self, body: dict[str, Any], targets: list[Mailbox], date: float | None
    ) -> bytes:
        if body.get("raw_base64"):
            return base64.b64decode(str(body["raw_base64"]))
        if body.get("raw"):
            return str(body["raw"]).encode()

        subject = str(body.get("subject", ""))
        in_reply_to, references = "", ""
        if body.get("in_reply_to"):
            original = self._original(str(body["in_reply_to"]), targets)
            if original is None:
                in_reply_to = references = str(body["in_reply_to"])
            else:
                in_reply_to = original.header("Message-ID").strip()
                references = " ".join(
                    [*message_ids(original.header("References")), in_reply_to]
                )
                if "subject" not in body:
                    subject = "Re: " + decoded_header(original.mime, "Subject")
        return compose(
            sender=_required(body, "from"),
            to=_list(body.get("to")),
            cc=_list(body.get("cc")),
            subject=subject,
            text=body.get("text"),
            html_body=body.get("html"),
            attachments=list(body.get("attachments", [])),
            in_reply_to=in_reply_to,
            references=references,
            date=date if date is not None else self.sandbox.clock.now(),
        )

    def _original(self, reference: str, targets: list[Mailbox]) -> StoredMessage | None:
        """The message a delivery replies to, by Gmail id or Message-ID."""
        for mailbox in targets or list(self.state.mailboxes.values()):
            for message in mailbox.messages.values():
                if (
                    message.id == reference
                    or message.header("Message-ID").strip() == reference
                ):
                    return message
        return None

    def _thread_ids(self, mailbox: Mailbox, body: dict[str, Any]) -> dict[str, str]:
        thread_id = body.get("thread_id")
        if not thread_id:
            return {}
        return {mailbox.address: str(thread_id)}

    def _inbound_labels(self, mailbox: Mailbox, body: dict[str, Any]) -> list[str]:
        labels = list(INBOUND_LABELS)
        for name in _list(body.get("labels")):
            label_id = label_id_for(mailbox, name) or create_label(mailbox, name).id
            if label_id in ("SPAM", "TRASH"):
                # Spam and trash are never in the inbox.
                labels = [label for label in labels if label != "INBOX"]
            if label_id not in labels:
                labels.append(label_id)
        if body.get("archived"):
            labels = [label for label in labels if label != "INBOX"]
        return labels

    def mailbox(self, request: Request) -> Any:
        """A mailbox's messages, oldest first, with their main headers."""
        mailbox = self._mailbox(request.args.get("address", ""))
        label = request.args.get("label")
        with self.sandbox.lock:
            messages = sorted(
                mailbox.messages.values(), key=lambda m: (m.internal_date, m.id)
            )
            return {
                "address": mailbox.address,
                "historyId": str(mailbox.history_id),
                "messages": [
                    _summary(message)
                    for message in messages
                    if label is None or label in message.label_ids
                ],
            }

    def labels(self, request: Request) -> Any:
        body = _body(request)
        mailbox = self._mailbox(_required(body, "address"))
        with self.sandbox.lock:
            label = create_label(mailbox, _required(body, "name"))
        return {"id": label.id, "name": label.name}

    def expire_history(self, request: Request) -> Any:
        """Forget every change so far: an old startHistoryId now 404s."""
        body = _body(request) if request.get_data() else {}
        with self.sandbox.lock:
            if body.get("address"):
                mailboxes = [self._mailbox(str(body["address"]))]
            else:
                mailboxes = list(self.state.mailboxes.values())
            for mailbox in mailboxes:
                expire_history(mailbox, before=float("inf"))
            return {"expired": {m.address: str(m.history_id) for m in mailboxes}}

    def outbound(self, request: Request) -> Any:
        with self.sandbox.lock:
            if request.method == "DELETE":
                self.state.outbound.clear()
            return {
                "outbound": [
                    {
                        "sender": message.sender,
                        "recipients": message.recipients,
                        "id": message.message_id,
                        "rfc822MessageId": message.rfc822_message_id,
                        "subject": message.subject,
                        "at": message.at,
                    }
                    for message in self.state.outbound
                ]
            }

    # Quota -------------------------------------------------------------------

    def quota_settings(self, request: Request) -> Any:
        with self.sandbox.lock:
            settings = self.state.quota
            if request.method == "POST":
                body = _body(request)
                if "enabled" in body:
                    settings.enabled = bool(body["enabled"])
                if "limit_per_minute" in body:
                    settings.limit_per_minute = int(body["limit_per_minute"])
                if "table" in body:
                    if body["table"] not in TABLES:
                        raise ControlError(f"table is one of {sorted(TABLES)}")
                    settings.table = str(body["table"])
                if body.get("reset_usage"):
                    self.quota.reset()
            return {
                "enabled": settings.enabled,
                "limit_per_minute": settings.limit_per_minute,
                "table": settings.table,
                "costs": TABLES[settings.table],
            }

    def _mailbox(self, address: str) -> Mailbox:
        with self.sandbox.lock:
            mailbox = self.state.mailbox_for(address)
        if mailbox is None:
            raise ControlError(f"no sandbox Google account {address!r}", 404)
        return mailbox


def _as_json_view(handler: ControlHandler) -> Callable[[Request], Response]:
    def view(request: Request) -> Response:
        try:
            return json_response(handler(request))
        except ControlError as error:
            return json_response({"error": str(error)}, status=error.status)
        except GoogleApiError as error:
            return json_response({"error": error.message}, status=error.code)
        except (KeyError, TypeError, ValueError) as error:
            return json_response({"error": f"bad request: {error}"}, status=400)

    return view


def _body(request: Request) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ControlError("expected a JSON object")
    return body


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not value:
        raise ControlError(f"{name} is required")
    return str(value)


def _list(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def _subject_id(address: str) -> str:
    # Google's subject ids are 21 digits, stable per account.
    digest = hashlib.sha256(address.encode()).hexdigest()
    return "1" + str(int(digest, 16))[:20]


def _account(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "address": mailbox.address,
        "name": mailbox.name,
        "aliases": mailbox.aliases,
        "sub": mailbox.sub,
    }


def _summary(message: StoredMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "threadId": message.thread_id,
        "labelIds": list(message.label_ids),
        "internalDate": str(message.internal_date),
        "snippet": snippet_of(message.mime),
        "rfc822MessageId": message.header("Message-ID").strip(),
        "headers": {
            name: decoded_header(message.mime, name)
            for name in SHOWN_HEADERS
            if message.mime.get(name) is not None
        },
    }
