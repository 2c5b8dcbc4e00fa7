"""A typed client for the Microsoft stand-in's control surface.

For tests, the demo and benchmarks: add mailboxes, deliver mail as an
outside contact, look inside a mailbox, revoke grants, expire delta tokens,
tune limits, inject faults.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import httpx

JSON = dict[str, Any]

DEFAULT_SCOPES = (
    "openid profile email offline_access User.Read Mail.ReadWrite Mail.Send"
)


class MicrosoftSandboxControl:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MicrosoftSandboxControl:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # URLs the app is configured with -----------------------------------------

    @property
    def login_url(self) -> str:
        """allauth's ``login_url`` for the Microsoft provider."""
        return f"{self.base_url}/microsoft"

    @property
    def graph_url(self) -> str:
        """allauth's ``graph_url``; msgraph-sdk's base URL adds ``/v1.0``."""
        return f"{self.base_url}/graph"

    # Directory and OAuth -----------------------------------------------------

    def create_user(
        self,
        address: str,
        name: str = "",
        *,
        proxy_addresses: Iterable[str] = (),
        given_name: str = "",
        surname: str = "",
    ) -> JSON:
        """Create a user and mailbox with the well-known folders."""
        return self._post(
            "users",
            address=address,
            name=name or address,
            proxy_addresses=list(proxy_addresses),
            given_name=given_name,
            surname=surname,
        )

    def users(self) -> list[JSON]:
        return list(self._get("users"))

    def create_folder(
        self,
        mailbox: str,
        name: str,
        *,
        parent: str = "msgfolderroot",
        hidden: bool = False,
    ) -> JSON:
        return self._post(
            "folders", mailbox=mailbox, name=name, parent=parent, hidden=hidden
        )

    def register_client(
        self,
        client_id: str,
        *,
        client_secret: str | None = None,
        redirect_uris: Iterable[str] = (),
        name: str = "RevStackr",
    ) -> JSON:
        return self._post(
            "clients",
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=list(redirect_uris),
            name=name,
        )

    def issue_token(
        self,
        address: str,
        *,
        scopes: str = DEFAULT_SCOPES,
        client_id: str = "sandbox-client",
    ) -> JSON:
        """Grant ``scopes`` without the consent page; answer like /token."""
        return self._post("tokens", address=address, scopes=scopes, client_id=client_id)

    def revoke(self, address: str, *, client_id: str | None = None) -> int:
        body: JSON = {"address": address}
        if client_id is not None:
            body["client_id"] = client_id
        return int(self._post("revoke", **body)["revoked"])

    # Mail --------------------------------------------------------------------

    def deliver(
        self,
        mailbox: str,
        *,
        sender: str,
        subject: str = "",
        text: str | None = None,
        html: str | None = None,
        to: Iterable[str] | None = None,
        cc: Iterable[str] = (),
        folder: str = "inbox",
        reply_to_internet_message_id: str | None = None,
        attachments: Iterable[tuple[str, str, bytes]] = (),
        headers: dict[str, str] | None = None,
        message_id: str | None = None,
        received_at: str | None = None,
    ) -> JSON:
        """Deliver a message from an outside ``sender`` into ``mailbox``.

        ``attachments`` are ``(name, content type, content)``.
        """
        body: JSON = {
            "mailbox": mailbox,
            "from": sender,
            "subject": subject,
            "cc": list(cc),
            "folder": folder,
            "headers": headers or {},
            "attachments": [
                {
                    "name": name,
                    "content_type": content_type,
                    "content_b64": base64.b64encode(content).decode(),
                }
                for name, content_type, content in attachments
            ],
        }
        optional = {
            "text": text,
            "html": html,
            "to": list(to) if to is not None else None,
            "reply_to_internet_message_id": reply_to_internet_message_id,
            "message_id": message_id,
            "received_at": received_at,
        }
        body.update(
            {key: value for key, value in optional.items() if value is not None}
        )
        return self._post("deliver", **body)

    def deliver_many(self, messages: Iterable[JSON]) -> int:
        """Deliver many messages in one request; return how many.

        Each item is ``deliver``'s request body: ``mailbox``, ``from``,
        ``subject``, ``text``, ``to``, ``folder``, ``received_at``, ...
        """
        response = self._http.post(
            "/_control/microsoft/deliver-many",
            json={"messages": list(messages)},
            timeout=600,
        )
        return int(_checked(response)["delivered"])

    def deliver_mime(self, mailbox: str, raw: bytes, *, folder: str = "inbox") -> JSON:
        return self._post(
            "deliver",
            mailbox=mailbox,
            folder=folder,
            raw_b64=base64.b64encode(raw).decode(),
        )

    def mailbox(self, address: str) -> JSON:
        """Every folder of a mailbox, each with its messages."""
        return dict(self._get("mailbox", address=address))

    def folder_messages(self, address: str, folder: str) -> list[JSON]:
        """The messages of one folder, named by well-known or display name."""
        for item in self.mailbox(address)["folders"]:
            if folder.lower() in (
                str(item["well_known_name"]).lower(),
                item["name"].lower(),
            ):
                return list(item["messages"])
        raise KeyError(folder)

    def move(self, mailbox: str, message: str, folder: str) -> JSON:
        return self._post("move", mailbox=mailbox, message=message, folder=folder)

    def delete(self, mailbox: str, message: str) -> None:
        self._post("delete", mailbox=mailbox, message=message)

    def expire_delta(self, mailbox: str | None = None) -> None:
        self._post("expire-delta", **({"mailbox": mailbox} if mailbox else {}))

    def settings(self, **changes: Any) -> JSON:
        """Show or change limits, lifetimes and ``sent_copy_delay``."""
        if changes:
            return self._post("settings", **changes)
        return dict(self._get("settings"))

    # Shared sandbox controls -------------------------------------------------

    def add_fault(self, kind: str, **narrowing: Any) -> None:
        """Inject a fault into Microsoft calls (see ``core.Fault``)."""
        response = self._http.post(
            "/_control/faults",
            json={"kind": kind, "provider": "microsoft", **narrowing},
        )
        response.raise_for_status()

    def clear_faults(self) -> None:
        self._http.delete("/_control/faults").raise_for_status()

    def counters(self) -> list[JSON]:
        response = self._http.get("/_control/counters")
        response.raise_for_status()
        return [item for item in response.json() if item["provider"] == "microsoft"]

    def calls(self, operation: str, mailbox: str | None = None) -> int:
        return sum(
            item["calls"]
            for item in self.counters()
            if item["operation"] == operation
            and (mailbox is None or item["mailbox"] == mailbox.lower())
        )

    def advance_clock(self, seconds: float) -> None:
        self._http.post("/_control/clock", json={"advance": seconds}).raise_for_status()

    # Transport ---------------------------------------------------------------

    def _get(self, route: str, **params: Any) -> Any:
        response = self._http.get(f"/_control/microsoft/{route}", params=params)
        return _checked(response)

    def _post(self, route: str, **body: Any) -> JSON:
        response = self._http.post(f"/_control/microsoft/{route}", json=body)
        return dict(_checked(response))


class ControlRequestError(Exception):
    """The control surface refused a request."""


def _checked(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise ControlRequestError(f"{response.status_code}: {response.text}")
    return response.json()
