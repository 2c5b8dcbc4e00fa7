"""The one error type for provider failures."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider call failed.

    ``permanent`` failures (a revoked grant, a missing scope) make the mailbox
    Disconnected with ``reason``, which the employee reads; temporary ones
    (throttling, outages, network) back off and retry, keeping the cursor.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        auth_expired: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        # The access token was refused (401): refresh it and try again.
        self.auth_expired = auth_expired
