"""Exchange Online's per-mailbox limits on Graph mail requests.

Two limits, both per mailbox: at most ``max_concurrent_requests`` in flight
(the next one is refused at once), and at most ``request_budget`` requests
in a sliding ``budget_window_seconds`` window measured on the sandbox clock.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mailsync.sandbox.core import Clock
from mailsync.sandbox.microsoft.errors import GraphError
from mailsync.sandbox.microsoft.state import Settings


class MailboxLimiter:
    def __init__(self, settings: Callable[[], Settings], clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight: defaultdict[str, int] = defaultdict(int)
        self._admitted: defaultdict[str, deque[float]] = defaultdict(deque)

    def reset(self) -> None:
        with self._lock:
            self._admitted.clear()

    @contextmanager
    def admit(self, mailbox: str, *, concurrent: bool = True) -> Iterator[None]:
        """Hold one of the mailbox's request slots while a call runs.

        ``concurrent=False`` counts the call against the budget only: the
        requests inside a ``$batch`` run one after another within the
        batch's own slot.
        """
        settings = self._settings()
        if not settings.throttling_enabled:
            yield
            return

        with self._lock:
            if (
                concurrent
                and self._in_flight[mailbox] >= settings.max_concurrent_requests
            ):
                raise GraphError(
                    429,
                    "ApplicationThrottled",
                    "Application is over its MailboxConcurrency limit.",
                    retry_after=1,
                )
            self._spend_budget(mailbox, settings)
            if concurrent:
                self._in_flight[mailbox] += 1

        try:
            yield
        finally:
            if concurrent:
                with self._lock:
                    self._in_flight[mailbox] = max(0, self._in_flight[mailbox] - 1)

    def _spend_budget(self, mailbox: str, settings: Settings) -> None:
        now = self._clock.now()
        admitted = self._admitted[mailbox]
        while admitted and admitted[0] <= now - settings.budget_window_seconds:
            admitted.popleft()
        if len(admitted) >= settings.request_budget:
            wait = admitted[0] + settings.budget_window_seconds - now
            raise GraphError(
                429,
                "ApplicationThrottled",
                "Application is over its MailboxRequestRate limit.",
                retry_after=max(1, math.ceil(wait)),
            )
        admitted.append(now)
