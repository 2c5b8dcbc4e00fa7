"""A typed client for the Google stand-in's control surface.

Tests, the demo and benchmarks use it to set the scene and look at the
result; the app itself never does.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 10


class ControlError(Exception):
    """The control surface refused a request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class GoogleSandboxControl:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    # Accounts, clients and grants --------------------------------------------

    def create_user(
        self, address: str, name: str = "", aliases: list[str] | None = None
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            "google/users",
            {"address": address, "name": name, "aliases": aliases or []},
        )

    def users(self) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = self._call("GET", "google/users")["users"]
        return users

    def register_client(
        self, client_id: str, client_secret: str, redirect_uris: list[str]
    ) -> None:
        self._call(
            "POST",
            "google/clients",
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uris": redirect_uris,
            },
        )

    def grant(
        self, address: str, scopes: list[str], client_id: str = "sandbox-client"
    ) -> dict[str, Any]:
        """Tokens for ``address`` without the consent screen: the token
        endpoint's answer (access_token, refresh_token, scope, ...)."""
        return self._call(
            "POST",
            "google/grants",
            {"address": address, "scopes": scopes, "client_id": client_id},
        )

    def revoke_grant(self, address: str, client_id: str | None = None) -> int:
        body = {"address": address, "client_id": client_id}
        revoked: int = self._call("POST", "google/revoke", body)["revoked"]
        return revoked

    # Mail --------------------------------------------------------------------

    def deliver(self, **message: Any) -> list[dict[str, Any]]:
        """Deliver mail from outside; see ``GoogleControl.deliver`` for the
        fields (from, to, cc, subject, text, html, attachments, in_reply_to,
        thread_id, labels, archived, raw, date, mailbox)."""
        if "from_" in message:
            message["from"] = message.pop("from_")
        delivered: list[dict[str, Any]] = self._call("POST", "google/deliver", message)[
            "delivered"
        ]
        return delivered

    def deliver_many(self, messages: list[dict[str, Any]]) -> int:
        """Deliver many messages in one request; each takes ``deliver``'s
        fields. Return how many copies were delivered."""
        items = [
            {("from" if key == "from_" else key): value for key, value in m.items()}
            for m in messages
        ]
        delivered: int = self._call(
            "POST", "google/deliver-many", {"messages": items}, timeout=600
        )["delivered"]
        return delivered

    def mailbox(self, address: str, label: str | None = None) -> dict[str, Any]:
        query = {"address": address, **({"label": label} if label else {})}
        return self._call("GET", "google/mailbox?" + urllib.parse.urlencode(query))

    def messages(self, address: str, label: str | None = None) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.mailbox(address, label)["messages"]
        return messages

    def create_label(self, address: str, name: str) -> str:
        label_id: str = self._call(
            "POST", "google/labels", {"address": address, "name": name}
        )["id"]
        return label_id

    def expire_history(self, address: str | None = None) -> None:
        self._call("POST", "google/history/expire", {"address": address})

    def outbound(self) -> list[dict[str, Any]]:
        outbound: list[dict[str, Any]] = self._call("GET", "google/outbound")[
            "outbound"
        ]
        return outbound

    # Quota, faults and the clock ---------------------------------------------

    def set_quota(
        self,
        *,
        enabled: bool | None = None,
        limit_per_minute: int | None = None,
        table: str | None = None,
        reset_usage: bool = False,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"reset_usage": reset_usage}
        if enabled is not None:
            body["enabled"] = enabled
        if limit_per_minute is not None:
            body["limit_per_minute"] = limit_per_minute
        if table is not None:
            body["table"] = table
        return self._call("POST", "google/quota", body)

    def quota(self) -> dict[str, Any]:
        return self._call("GET", "google/quota")

    def add_fault(self, kind: str, **options: Any) -> None:
        """Inject a fault on Google calls; ``options`` are ``Fault`` fields."""
        self._call("POST", "faults", {"kind": kind, "provider": "google", **options})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox clock; negative moves it back (tests only)."""
        self._call("POST", "clock", {"advance": seconds})

    def now(self) -> float:
        """The sandbox clock, in epoch seconds."""
        now: float = self._call("GET", "clock")["now"]
        return now

    def counters(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call("GET", "counters")
        return [row for row in rows if row["provider"] == "google"]

    def calls(self, operation: str) -> int:
        return sum(
            row["calls"] for row in self.counters() if row["operation"] == operation
        )

    # Transport ---------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        timeout: float = TIMEOUT_SECONDS,
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (the sandbox's own URL)
            f"{self.base_url}/_control/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            raise ControlError(error.code, detail) from error
