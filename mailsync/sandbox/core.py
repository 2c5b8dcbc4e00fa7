"""Shared machinery of the provider sandbox.

One threaded HTTP server on loopback serves every stand-in: Google's OAuth
and Gmail API, Microsoft's identity platform and Graph mail. Each provider
is a ``Provider`` mounted under its own path prefixes; this module owns what
they share: the server, the clock, injected faults and the call counters.
Nothing here knows any provider's wire format.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

logger = logging.getLogger(__name__)

FAULT_KINDS = (
    "rate_limit",  # 429 with Retry-After
    "server_error",  # 500
    "unavailable",  # 503 with Retry-After
    "slow",  # answer after `delay` seconds
    "drop",  # close the connection without an answer
    "expire_token",  # the access token presented is treated as expired
    "expire_cursor",  # Gmail history id / Graph delta link treated as stale
)


class DropConnection(Exception):
    """Raised by a handler to close the client's connection unanswered."""


@dataclass
class Fault:
    """A failure the sandbox answers with instead of the real result.

    ``provider``, ``operation`` and ``mailbox`` narrow which calls it hits;
    ``None`` matches any. ``rate`` is the chance per matching call and
    ``remaining`` caps how many calls it hits (``None``: no cap). An
    ``expire_cursor`` fault hits only calls that take a cursor (a Gmail
    history id, a Graph delta or skip token), so other calls neither suffer
    nor use it up.
    """

    kind: str
    provider: str | None = None
    operation: str | None = None
    mailbox: str | None = None
    rate: float = 1.0
    remaining: int | None = None
    retry_after: int = 1
    delay: float = 2.0

    def matches(
        self,
        provider: str,
        operation: str,
        mailbox: str | None,
        *,
        takes_cursor: bool = False,
    ) -> bool:
        return (
            (self.provider is None or self.provider == provider)
            and (self.operation is None or self.operation == operation)
            and (self.mailbox is None or self.mailbox == mailbox)
            and (self.remaining is None or self.remaining > 0)
            and (self.kind != "expire_cursor" or takes_cursor)
        )


class FaultPlan:
    """The faults in force, and how often each kind has fired."""

    def __init__(self, seed: int | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.fired: Counter[str] = Counter()

    def add(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pick(
        self,
        provider: str,
        operation: str,
        mailbox: str | None,
        *,
        takes_cursor: bool = False,
    ) -> Fault | None:
        """Return the fault this call suffers, if any, and count it.

        ``takes_cursor`` says whether the call continues from a cursor the
        provider issued, which only such calls can find stale.
        """
        with self._lock:
            for fault in self._faults:
                if not fault.matches(
                    provider, operation, mailbox, takes_cursor=takes_cursor
                ):
                    continue
                if self._random.random() >= fault.rate:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                self.fired[fault.kind] += 1
                return fault
        return None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "faults": [asdict(fault) for fault in self._faults],
                "fired": dict(self.fired),
            }


@dataclass
class CallCounters:
    """Calls and quota units per provider, mailbox and operation."""

    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    units: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(
        self, provider: str, mailbox: str | None, operation: str, units: int = 0
    ) -> None:
        key = (provider, mailbox or "", operation)
        with self._lock:
            self.calls[key] += 1
            self.units[key] += units

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.units.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "provider": provider,
                    "mailbox": mailbox,
                    "operation": operation,
                    "calls": count,
                    "units": self.units[(provider, mailbox, operation)],
                }
                for (provider, mailbox, operation), count in sorted(self.calls.items())
            ]


class Clock:
    """Wall time that tests can move forward, for token and history expiry."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Provider(Protocol):
    """A stand-in mounted on the sandbox under one or more path prefixes."""

    name: str
    prefixes: tuple[str, ...]

    def handle(self, request: Request) -> Response: ...

    def dump(self) -> dict[str, Any]: ...

    def load(self, state: dict[str, Any]) -> None: ...

    def reset(self) -> None:
        """Forget every user, mailbox, grant and message."""


class Sandbox:
    """The server, and what every provider stand-in shares."""

    def __init__(self, state_file: Path | None = None, seed: int | None = None):
        self.state_file = state_file
        self.lock = threading.RLock()
        self.clock = Clock()
        self.faults = FaultPlan(seed)
        self.counters = CallCounters()
        self.providers: list[Provider] = []
        self.control_routes: dict[str, Callable[[Request], Response]] = {}
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self._add_shared_control_routes()

    # Mounting

    def mount(self, provider: Provider) -> None:
        self.providers.append(provider)

    def add_control_route(
        self, path: str, handler: Callable[[Request], Response]
    ) -> None:
        """Serve ``/_control/<path>`` with ``handler`` (tests and the demo)."""
        self.control_routes[path.strip("/")] = handler

    def reset(self) -> None:
        """Back to an empty sandbox: no faults, counts, users or mail."""
        with self.lock:
            self.faults.clear()
            self.faults.fired.clear()
            self.counters.reset()
            self.clock.offset = 0.0
            for provider in self.providers:
                provider.reset()

    # Serving

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except DropConnection:
            _drop(environ)
            response = Response(b"", status=500)
        except HTTPException as error:
            response = error.get_response()
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_control/"):
            handler = self.control_routes.get(path[len("/_control/") :].strip("/"))
            if handler is None:
                raise NotFound()
            return handler(request)
        for provider in self.providers:
            if any(path.startswith(prefix) for prefix in provider.prefixes):
                return provider.handle(request)
        raise NotFound()

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; return the base URL, without a slash."""
        self._server = make_server(host, port, self, threaded=True)
        self.base_url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sandbox", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.save()

    # State

    def save(self) -> None:
        if self.state_file is None:
            return
        with self.lock:
            state = {provider.name: provider.dump() for provider in self.providers}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state_file)

    def restore(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        state = json.loads(self.state_file.read_text())
        with self.lock:
            for provider in self.providers:
                if provider.name in state:
                    provider.load(state[provider.name])

    # Control routes every provider shares

    def _add_shared_control_routes(self) -> None:
        self.add_control_route("faults", self._control_faults)
        self.add_control_route("counters", self._control_counters)
        self.add_control_route("clock", self._control_clock)
        self.add_control_route("save", self._control_save)
        self.add_control_route("reset", self._control_reset)

    def _control_faults(self, request: Request) -> Response:
        if request.method == "POST":
            self.faults.add(Fault(**request.get_json()))
        elif request.method == "DELETE":
            self.faults.clear()
        return json_response(self.faults.snapshot())

    def _control_counters(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.counters.reset()
        return json_response(self.counters.snapshot())

    def _control_clock(self, request: Request) -> Response:
        if request.method == "POST":
            self.clock.advance(float(request.get_json()["advance"]))
        return json_response({"now": self.clock.now(), "offset": self.clock.offset})

    def _control_reset(self, request: Request) -> Response:
        self.reset()
        return json_response({"reset": True})

    def _control_save(self, request: Request) -> Response:
        self.save()
        return json_response({"saved": str(self.state_file or "")})


def json_response(body: Any, status: int = 200, **headers: str) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def apply_delay(fault: Fault) -> None:
    """Sleep for a ``slow`` fault; other kinds are answered by the provider."""
    if fault.kind == "slow":
        time.sleep(fault.delay)


def _drop(environ: dict[str, Any]) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        logger.debug("socket already closed while dropping a connection")
