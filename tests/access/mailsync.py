"""The mailbox pages behind My Profile: Settings permission, own mailbox."""

from __future__ import annotations

import uuid
from typing import Any

from conversations.models import NeverLog
from mailsync.models import Mailbox
from tests.access import ADMIN, REDIRECT, WITH, Entry, World


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


def account_never_log_entry(world: World) -> dict[str, Any]:
    entry = NeverLog.objects.create(
        account=world.account, value=f"{uuid.uuid4().hex}.example"
    )
    return {"entry_id": entry.pk}


def own_never_log_entry_of_the_admin(world: World) -> dict[str, Any]:
    entry = NeverLog.objects.create(
        account=world.account, employee=world.admin, value=f"{uuid.uuid4().hex}.example"
    )
    return {"entry_id": entry.pk}


ENTRIES = [
    Entry("mailsync:email_settings", ADMIN),
    Entry(
        "mailsync:remove_account_never_log",
        ADMIN,
        kwargs=account_never_log_entry,
        method="post",
        status=302,
    ),
    Entry(
        "mailsync:add_own_never_log",
        "accounts.access_settings",
        method="post",
        data={"value": "example.com"},
        status=302,
    ),
    # An employee's own list is theirs alone: a teammate gets a 404.
    Entry(
        "mailsync:remove_own_never_log",
        "accounts.access_settings",
        kwargs=own_never_log_entry_of_the_admin,
        method="post",
        status=302,
        expect={WITH: 404},
    ),
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
