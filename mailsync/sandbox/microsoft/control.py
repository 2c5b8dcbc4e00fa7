"""Control routes under ``/_control/microsoft/``, for tests and the demo.

Every route takes and answers JSON. Mailboxes are named by address;
messages by either Graph id or by ``internetMessageId``; folders by id,
well-known name (``inbox``) or display name.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from mailsync.sandbox.core import json_response
from mailsync.sandbox.microsoft.exchange import MailboxError
from mailsync.sandbox.microsoft.identity import split_scopes
from mailsync.sandbox.microsoft.mime import message_ids, parse_mime
from mailsync.sandbox.microsoft.state import (
    AccessToken,
    EmailAddress,
    Folder,
    Grant,
    Message,
    OAuthClient,
    RefreshToken,
    Settings,
    User,
    iso,
    new_token,
    parse_iso,
)

if TYPE_CHECKING:
    from mailsync.sandbox.microsoft import MicrosoftProvider


DEFAULT_SCOPES = (
    "openid profile email offline_access User.Read Mail.ReadWrite Mail.Send"
)


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def add_control_routes(provider: MicrosoftProvider) -> None:
    control = Control(provider)
    routes: dict[str, Callable[[dict[str, Any]], Any]] = {
        "users": control.users,
        "folders": control.create_folder,
        "clients": control.register_client,
        "tokens": control.issue_token,
        "deliver": control.deliver,
        "deliver-many": control.deliver_many,
        "mailbox": control.mailbox,
        "move": control.move,
        "delete": control.delete,
        "revoke": control.revoke,
        "expire-delta": control.expire_delta,
        "settings": control.settings,
    }
    for name, action in routes.items():
        provider.sandbox.add_control_route(f"microsoft/{name}", _json_route(action))


def _json_route(
    action: Callable[[dict[str, Any]], Any],
) -> Callable[[Request], Response]:
    def route(request: Request) -> Response:
        arguments: dict[str, Any] = dict(request.args.items())
        if request.method in ("POST", "PUT", "PATCH") and request.get_data():
            try:
                arguments.update(json.loads(request.get_data()))
            except ValueError:
                return json_response(
                    {"error": "the body is not valid JSON"}, status=400
                )
        arguments["_method"] = request.method
        try:
            return json_response(action(arguments))
        except ControlError as error:
            return json_response({"error": str(error)}, status=error.status)
        except MailboxError as error:
            return json_response({"error": error.message}, status=error.status)

    return route


class Control:
    def __init__(self, provider: MicrosoftProvider) -> None:
        self.provider = provider

    # Directory and OAuth -----------------------------------------------------

    def users(self, arguments: dict[str, Any]) -> Any:
        with self.provider.sandbox.lock:
            if arguments["_method"] == "POST":
                user = self.provider.exchange.create_mailbox(
                    address=_required(arguments, "address"),
                    display_name=arguments.get("name")
                    or _required(arguments, "address"),
                    given_name=arguments.get("given_name", ""),
                    surname=arguments.get("surname", ""),
                    proxy_addresses=arguments.get("proxy_addresses", []),
                )
                return self._user_json(user)
            return [
                self._user_json(user) for user in self.provider.state.users.values()
            ]

    def create_folder(self, arguments: dict[str, Any]) -> Any:
        with self.provider.sandbox.lock:
            user = self._user(arguments, "mailbox")
            parent = self._folder(user, arguments.get("parent", "msgfolderroot"))
            folder = self.provider.exchange.create_folder(
                user,
                parent,
                _required(arguments, "name"),
                bool(arguments.get("hidden")),
            )
            return _folder_json(folder)

    def register_client(self, arguments: dict[str, Any]) -> Any:
        client = OAuthClient(
            client_id=_required(arguments, "client_id"),
            client_secret=arguments.get("client_secret"),
            redirect_uris=list(arguments.get("redirect_uris", [])),
            name=arguments.get("name", "RevStackr"),
        )
        with self.provider.sandbox.lock:
            self.provider.state.clients[client.client_id] = client
        return dataclasses.asdict(client)

    def issue_token(self, arguments: dict[str, Any]) -> Any:
        """Grant scopes to a client without the consent page, for tests.

        Answers what the token endpoint would: access and refresh tokens.
        """
        state = self.provider.state
        scopes = split_scopes(arguments.get("scopes", DEFAULT_SCOPES))
        with self.provider.sandbox.lock:
            user = self._user(arguments, "address")
            now = self.provider.sandbox.clock.now()
            grant = Grant(
                id=new_token(),
                client_id=arguments.get("client_id", "sandbox-client"),
                user_id=user.id,
                scopes=scopes,
                created=now,
            )
            state.grants[grant.id] = grant
            access = AccessToken(
                token=new_token("EwB"),
                grant_id=grant.id,
                user_id=user.id,
                scopes=scopes,
                expires_at=now + state.settings.access_token_lifetime,
            )
            refresh = RefreshToken(
                token=new_token("M.R3_"),
                grant_id=grant.id,
                scopes=scopes,
                expires_at=now + state.settings.refresh_token_lifetime,
            )
            state.access_tokens[access.token] = access
            state.refresh_tokens[refresh.token] = refresh
        return {
            "token_type": "Bearer",
            "scope": " ".join(scopes),
            "expires_in": state.settings.access_token_lifetime,
            "access_token": access.token,
            "refresh_token": refresh.token,
        }

    def revoke(self, arguments: dict[str, Any]) -> Any:
        """Revoke every grant of a user, as removing the app's consent does."""
        with self.provider.sandbox.lock:
            user = self._user(arguments, "address")
            revoked = 0
            client_id = arguments.get("client_id")
            for grant in self.provider.state.grants.values():
                if grant.user_id != user.id or grant.revoked:
                    continue
                if client_id in (None, grant.client_id):
                    grant.revoked = True
                    revoked += 1
        return {"revoked": revoked}

    # Mail --------------------------------------------------------------------

    def deliver(self, arguments: dict[str, Any]) -> Any:
        """Put a message in a mailbox as if an outside contact had sent it."""
        exchange = self.provider.exchange
        with self.provider.sandbox.lock:
            user = self._user(arguments, "mailbox")
            folder = self._folder(user, arguments.get("folder", "inbox"))
            received = (
                parse_iso(arguments["received_at"])
                if arguments.get("received_at")
                else None
            )

            if arguments.get("raw") is not None or arguments.get("raw_b64") is not None:
                raw = (
                    base64.b64decode(arguments["raw_b64"])
                    if arguments.get("raw_b64") is not None
                    else str(arguments["raw"]).encode()
                )
                message = exchange.message_from_mime(
                    user, folder, parse_mime(raw), raw, received=received
                )
                return self._message_json(message)

            in_reply_to = arguments.get("reply_to_internet_message_id")
            references = list(arguments.get("references", []))
            if in_reply_to:
                parents = exchange.find_by_internet_message_id(user, in_reply_to)
                inherited = parents[0].references if parents else []
                references = [*inherited, *references, in_reply_to]
            text = arguments.get("text")
            markup = arguments.get("html")
            message = exchange.new_message(
                user,
                folder,
                subject=arguments.get("subject", ""),
                body_type="html" if markup is not None else "text",
                body=markup if markup is not None else (text or ""),
                text_body=text,
                from_=_address(_required(arguments, "from")),
                to=[_address(item) for item in arguments.get("to", [user.address])],
                cc=[_address(item) for item in arguments.get("cc", [])],
                reply_to=[_address(item) for item in arguments.get("reply_to", [])],
                internet_message_id=arguments.get("message_id"),
                in_reply_to=in_reply_to,
                references=references,
                custom_headers=[
                    {"name": name, "value": str(value)}
                    for name, value in arguments.get("headers", {}).items()
                ],
                is_read=bool(arguments.get("is_read", False)),
                received=received,
                sent=received
                if received is not None
                else self.provider.sandbox.clock.now(),
            )
            for attachment in arguments.get("attachments", []):
                content = (
                    base64.b64decode(attachment["content_b64"])
                    if "content_b64" in attachment
                    else str(attachment.get("content", "")).encode()
                )
                exchange.add_attachment(
                    message,
                    name=attachment.get("name", "attachment"),
                    content_type=attachment.get(
                        "content_type", "application/octet-stream"
                    ),
                    content=content,
                    is_inline=bool(attachment.get("inline", False)),
                    content_id=attachment.get("content_id"),
                )
            return self._message_json(message)

    def deliver_many(self, arguments: dict[str, Any]) -> Any:
        """Deliver a list of messages in one request (seeding benchmarks).

        Each item takes the arguments of ``deliver``; the answer counts them.
        """
        items = arguments.get("messages")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ControlError("'messages' must be a list of JSON objects")
        for item in items:
            self.deliver(item)
        return {"delivered": len(items)}

    def mailbox(self, arguments: dict[str, Any]) -> Any:
        """Show a mailbox: each folder with the messages in it."""
        exchange = self.provider.exchange
        with self.provider.sandbox.lock:
            user = self._user(arguments, "address")
            folders = []
            for folder in sorted(
                user.folders.values(), key=lambda item: item.display_name
            ):
                messages = sorted(
                    exchange.messages_in(user, folder), key=lambda item: item.received
                )
                folders.append(
                    {
                        **_folder_json(folder),
                        "messages": [self._message_json(item) for item in messages],
                    }
                )
            return {**self._user_json(user), "folders": folders}

    def move(self, arguments: dict[str, Any]) -> Any:
        with self.provider.sandbox.lock:
            user = self._user(arguments, "mailbox")
            message = self._message(user, _required(arguments, "message"))
            folder = self._folder(user, _required(arguments, "folder"))
            self.provider.exchange.move(user, message, folder)
            return self._message_json(message)

    def delete(self, arguments: dict[str, Any]) -> Any:
        with self.provider.sandbox.lock:
            user = self._user(arguments, "mailbox")
            message = self._message(user, _required(arguments, "message"))
            self.provider.exchange.delete(user, message)
            return {"deleted": message.immutable_id}

    def expire_delta(self, arguments: dict[str, Any]) -> Any:
        with self.provider.sandbox.lock:
            if arguments.get("mailbox"):
                users = [self._user(arguments, "mailbox")]
            else:
                users = list(self.provider.state.users.values())
            self.provider.exchange.expire_sync_state(users)
            return {"expired": [user.address for user in users]}

    def settings(self, arguments: dict[str, Any]) -> Any:
        """Show or change limits, token lifetimes and the sent-copy delay."""
        names = {item.name: item for item in dataclasses.fields(Settings)}
        with self.provider.sandbox.lock:
            current = self.provider.state.settings
            for key, value in arguments.items():
                if key.startswith("_"):
                    continue
                if key not in names:
                    raise ControlError(f"unknown setting {key!r}")
                setattr(current, key, type(getattr(current, key))(value))
            return dataclasses.asdict(current)

    # Lookups -----------------------------------------------------------------

    def _user(self, arguments: dict[str, Any], key: str) -> User:
        address = _required(arguments, key)
        user = self.provider.state.user_by_address(address)
        if user is None:
            raise ControlError(f"no Microsoft mailbox {address!r}", status=404)
        return user

    def _folder(self, user: User, reference: str) -> Folder:
        folder = self.provider.exchange.folder(user, reference)
        if folder is None:
            folder = next(
                (
                    item
                    for item in user.folders.values()
                    if item.display_name.lower() == reference.lower()
                ),
                None,
            )
        if folder is None:
            raise ControlError(f"no folder {reference!r} in {user.address}", status=404)
        return folder

    def _message(self, user: User, reference: str) -> Message:
        exchange = self.provider.exchange
        message = exchange.find_message(user, reference)
        if message is None:
            matches = exchange.find_by_internet_message_id(user, reference)
            if len(matches) > 1:
                raise ControlError(f"{reference!r} names {len(matches)} messages", 409)
            message = matches[0] if matches else None
        if message is None:
            raise ControlError(
                f"no message {reference!r} in {user.address}", status=404
            )
        return message

    def _user_json(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "address": user.address,
            "name": user.display_name,
            "tenant_id": user.tenant_id,
            "proxy_addresses": list(user.proxy_addresses),
            "well_known_folders": {
                folder.well_known_name: folder.id
                for folder in user.folders.values()
                if folder.well_known_name
            },
        }

    def _message_json(self, message: Message) -> dict[str, Any]:
        return {
            "id": message.rest_id,
            "immutable_id": message.immutable_id,
            "folder_id": message.folder_id,
            "conversation_id": message.conversation_id,
            "internet_message_id": message.internet_message_id,
            "in_reply_to": message.in_reply_to,
            "references": list(message.references),
            "subject": message.subject,
            "from": message.from_.address if message.from_ else None,
            "to": [item.address for item in message.to],
            "cc": [item.address for item in message.cc],
            "bcc": [item.address for item in message.bcc],
            "is_draft": message.is_draft,
            "is_read": message.is_read,
            "received_at": iso(message.received),
            "sent_at": iso(message.sent) if message.sent is not None else None,
            "attachments": [item.name for item in message.attachments],
            "headers": list(message.custom_headers),
        }


def _folder_json(folder: Folder) -> dict[str, Any]:
    return {
        "id": folder.id,
        "name": folder.display_name,
        "well_known_name": folder.well_known_name,
        "parent_id": folder.parent_id,
        "hidden": folder.is_hidden,
    }


def _address(value: Any) -> EmailAddress:
    """Read ``"a@b"``, ``"Name <a@b>"`` or ``{"name", "address"}``."""
    if isinstance(value, dict):
        return EmailAddress(address=value["address"], name=value.get("name", ""))
    text = str(value)
    found = message_ids(text)
    if found:
        return EmailAddress(
            address=found[0].strip("<>"), name=text.split("<")[0].strip(' "')
        )
    return EmailAddress(address=text.strip())


def _required(arguments: dict[str, Any], key: str) -> Any:
    value = arguments.get(key)
    if value in (None, ""):
        raise ControlError(f"{key!r} is required")
    return value
