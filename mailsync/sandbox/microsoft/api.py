"""What every Graph handler gets: the call, and helpers to answer it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from mailsync.sandbox.microsoft.errors import bad_request, graph_json, not_found
from mailsync.sandbox.microsoft.odata import Preferences
from mailsync.sandbox.microsoft.state import (
    AccessToken,
    EmailAddress,
    Folder,
    Message,
    User,
)

if TYPE_CHECKING:
    from mailsync.sandbox.microsoft import MicrosoftProvider


@dataclass
class Call:
    """One authenticated Graph request, on the mailbox it addresses."""

    provider: MicrosoftProvider
    request: Request
    token: AccessToken
    user: User
    params: dict[str, str]
    preferences: Preferences
    service_root: str
    user_path: str
    operation: str
    cursor_expired: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> MultiDict[str, str]:
        return self.request.args

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` under this call's user."""
        return f"{self.service_root}{self.user_path}{path}"

    def context(self, fragment: str) -> str:
        return f"{self.service_root}/$metadata#{fragment}"

    def folder(self, reference: str | None = None) -> Folder:
        found = self.provider.exchange.folder(
            self.user, reference or self.params["folder"]
        )
        if found is None:
            raise not_found("The specified folder could not be found in the store.")
        return found

    def message(self) -> Message:
        message = self.provider.exchange.find_message(self.user, self.params["message"])
        if message is None:
            raise not_found()
        if "folder" in self.params and message.folder_id != self.folder().id:
            raise not_found()
        return message

    def json_body(self) -> dict[str, Any]:
        if not self.request.get_data():
            return {}
        try:
            body = json.loads(self.request.get_data())
        except ValueError as error:
            raise bad_request(
                "Unable to read JSON request payload. Please ensure Content-Type "
                "header is set and payload is of valid JSON format.",
                code="BadRequest",
            ) from error
        if not isinstance(body, dict):
            raise bad_request(
                "The request body must be a JSON object.", code="BadRequest"
            )
        return body

    def answer(self, body: Any, status: int = 200) -> Response:
        response = graph_json(body, status=status)
        if self.preferences.applied:
            response.headers["Preference-Applied"] = ", ".join(self.preferences.applied)
        response.headers.update(self.extra_headers)
        return response


Handler = Callable[[Call], Response]


def field_of(body: dict[str, Any], name: str, default: Any = None) -> Any:
    """Read a property without regard to case, as Graph does.

    msgraph-sdk writes some request bodies in PascalCase (``Message``,
    ``SaveToSentItems``) and resources in camelCase.
    """
    lowered = name.lower()
    for key, value in body.items():
        if key.lower() == lowered:
            return value
    return default


def recipients_of(body: dict[str, Any], name: str) -> list[EmailAddress] | None:
    """Read a recipient list such as ``toRecipients``; None when absent."""
    raw = field_of(body, name)
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise bad_request(f"The property '{name}' must be a collection.")
    return [recipient_of(item, name) for item in raw]


def recipient_of(item: Any, name: str) -> EmailAddress:
    address = field_of(item, "emailAddress") if isinstance(item, dict) else None
    if not isinstance(address, dict):
        address = {}
    value = field_of(address, "address")
    if not isinstance(value, str) or "@" not in value.strip("@"):
        raise bad_request(
            f"At least one recipient in '{name}' is not valid.",
            code="ErrorInvalidRecipients",
        )
    return EmailAddress(
        address=value.strip(), name=str(field_of(address, "name") or "")
    )
