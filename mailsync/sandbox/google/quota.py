"""Gmail's per-user quota: units per minute, with Google's cost tables.

The window slides over the last 60 seconds of the sandbox clock, so a test
can move the clock forward instead of waiting for quota to come back.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque

from mailsync.sandbox.google.state import GoogleState

WINDOW_SECONDS = 60.0

# Costs of the older published table; methods it does not list cost 5.
OLDER_COSTS = {
    "gmail.users.getProfile": 1,
    "gmail.users.watch": 100,
    "gmail.users.stop": 50,
    "gmail.users.history.list": 2,
    "gmail.users.labels.list": 1,
    "gmail.users.labels.get": 1,
    "gmail.users.labels.create": 5,
    "gmail.users.messages.list": 5,
    "gmail.users.messages.get": 5,
    "gmail.users.messages.attachments.get": 5,
    "gmail.users.messages.insert": 25,
    "gmail.users.messages.import": 25,
    "gmail.users.messages.send": 100,
    "gmail.users.messages.modify": 5,
    "gmail.users.messages.trash": 5,
    "gmail.users.messages.untrash": 5,
    "gmail.users.messages.delete": 10,
    "gmail.users.messages.batchModify": 50,
    "gmail.users.threads.list": 10,
    "gmail.users.threads.get": 10,
    "gmail.users.settings.sendAs.list": 1,
}

# The 2026 table changes the read costs; the rest is as before.
COSTS_2026 = {
    **OLDER_COSTS,
    "gmail.users.messages.get": 20,
    "gmail.users.threads.get": 40,
}

DEFAULT_COST = 5

TABLES = {"2026": COSTS_2026, "older": OLDER_COSTS}


class QuotaMeter:
    """Units each mailbox spent in the last minute."""

    def __init__(self, state: GoogleState) -> None:
        self.state = state
        self._spent: defaultdict[str, deque[tuple[float, int]]] = defaultdict(deque)

    def cost(self, operation: str) -> int:
        return TABLES[self.state.quota.table].get(operation, DEFAULT_COST)

    def charge(
        self, mailbox: str, operation: str, now: float
    ) -> tuple[int, int | None]:
        """Spend the call's units; return (units, None) or (0, retry_after).

        A refused call spends nothing, so a client that waits as told gets
        through.
        """
        units = self.cost(operation)
        if not self.state.quota.enabled:
            return units, None

        spent = self._spent[mailbox]
        while spent and spent[0][0] <= now - WINDOW_SECONDS:
            spent.popleft()
        total = sum(amount for _, amount in spent)
        if total + units <= self.state.quota.limit_per_minute:
            spent.append((now, units))
            return units, None

        # Wait until enough of the window has slid out to make room.
        needed = total + units - self.state.quota.limit_per_minute
        for at, amount in spent:
            needed -= amount
            if needed <= 0:
                return 0, max(1, math.ceil(at + WINDOW_SECONDS - now))
        return 0, math.ceil(WINDOW_SECONDS)

    def reset(self) -> None:
        self._spent.clear()
