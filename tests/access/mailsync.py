"""The mailbox pages behind My Profile: Settings permission, own mailbox."""

from __future__ import annotations

from typing import Any

from mailsync.models import Mailbox
from tests.access import REDIRECT, WITH, Entry, World


def pending_mailbox_of_the_admin(world: World) -> dict[str, Any]:
    mailbox = Mailbox.objects.create(
        account=world.account,
        employee=world.admin,
        is_current=False,
        provider=Mailbox.Provider.GMAIL,
        address="admin.other@gmail.test",
        state=Mailbox.State.PENDING,
    )
    return {"mailbox_id": mailbox.pk}


ENTRIES = [
    Entry("mailsync:connect_done", "accounts.access_settings", status=REDIRECT),
    # A pending mailbox is its owner's alone: a teammate with the same
    # permission gets a 404, as for another account's row.
    Entry(
        "mailsync:confirm_replacement",
        "accounts.access_settings",
        kwargs=pending_mailbox_of_the_admin,
        expect={WITH: 404},
    ),
    Entry(
        "mailsync:disconnect",
        "accounts.access_settings",
        method="post",
        status=302,
    ),
]
