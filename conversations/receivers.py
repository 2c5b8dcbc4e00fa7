"""What conversations does when contacts change."""

from __future__ import annotations

from typing import Any

from conversations.services import delete_contact_mail


def delete_mail_of_deleted_contact(
    sender: Any,
    *,
    account_id: int,
    contact_id: int,
    delete_email: bool,
    **kwargs: Any,
) -> None:
    """A contact is being deleted: with "also delete their email", their
    threads go too; otherwise the threads stay, off any timeline of theirs."""
    if delete_email:
        delete_contact_mail(account_id=account_id, contact_id=contact_id)
