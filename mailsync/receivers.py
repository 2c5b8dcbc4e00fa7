"""What mailsync does when contacts change."""

from __future__ import annotations

from typing import Any

from mailsync.services.sync import request_backfill


def fetch_past_mail_of_new_addresses(
    sender: Any, *, account_id: int, addresses: list[str], **kwargs: Any
) -> None:
    """A contact got new addresses: each connected mailbox of the account
    fetches their past mail (within the import window) on its next sync."""
    request_backfill(account_id=account_id, addresses=addresses)
