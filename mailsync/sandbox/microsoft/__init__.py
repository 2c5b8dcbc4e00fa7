"""Placeholder until the microsoft stand-in lands: it serves nothing yet."""

from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

from mailsync.sandbox.core import Sandbox


class MicrosoftProvider:
    name = "microsoft"
    prefixes: tuple[str, ...] = ()

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def handle(self, request: Request) -> Response:
        raise NotFound()

    def dump(self) -> dict[str, Any]:
        return {}

    def load(self, state: dict[str, Any]) -> None:
        pass

    def reset(self) -> None:
        pass
