"""Pulling Outlook mail through the sandbox: folders, delta, stale links."""

from __future__ import annotations

import pytest

from accounts.models import User
from conversations.models import Message, MessageLink, Thread
from mailsync.models import Mailbox
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory
from tests.mailsync.conftest import ConnectMailbox, sync_until_idle

pytestmark = pytest.mark.django_db

OWEN = "owen@outlook.test"
CAROL = "carol@client.example"


@pytest.fixture
def owen(db: None) -> User:
    return EmployeeFactory(email="owen@northwind.test")


@pytest.fixture
def mailbox(owen: User, connect_mailbox: ConnectMailbox) -> Mailbox:
    ContactFactory(account=owen.account, addresses=[CAROL])
    return connect_mailbox(owen, Mailbox.Provider.OUTLOOK, OWEN)


def subjects() -> set[str]:
    return set(Message.objects.values_list("subject", flat=True))


def folder_calls(microsoft_sandbox: MicrosoftSandboxControl) -> dict[str, int]:
    return {
        row["operation"]: row["calls"]
        for row in microsoft_sandbox.counters()
        if row["mailbox"] == OWEN
    }


def test_first_import_covers_folders_and_subfolders_but_not_junk(
    mailbox: Mailbox, microsoft_sandbox: MicrosoftSandboxControl
) -> None:
    projects = microsoft_sandbox.create_folder(OWEN, "Projects", parent="inbox")
    microsoft_sandbox.deliver(OWEN, sender=CAROL, subject="In the inbox", text="a")
    microsoft_sandbox.deliver(
        OWEN, sender=CAROL, subject="Filed", text="b", folder=projects["id"]
    )
    microsoft_sandbox.deliver(OWEN, sender=CAROL, subject="Archived", folder="archive")
    microsoft_sandbox.deliver(OWEN, sender=CAROL, subject="Junk", folder="junkemail")
    microsoft_sandbox.deliver(OWEN, sender="stranger@else.example", subject="Other")
    microsoft_sandbox.deliver(
        OWEN, sender=OWEN, to=[CAROL], subject="Sent from Outlook", folder="sentitems"
    )

    sync_until_idle(mailbox)

    assert subjects() == {"In the inbox", "Filed", "Archived", "Sent from Outlook"}
    assert mailbox.state == Mailbox.State.ACTIVE
    sent = Message.objects.get(subject="Sent from Outlook")
    assert sent.direction == Message.Direction.OUTBOUND
    assert MessageLink.objects.get(message__subject="Filed").folder == "Inbox/Projects"


def test_mail_from_a_contact_who_never_got_crm_mail_appears(
    mailbox: Mailbox, microsoft_sandbox: MicrosoftSandboxControl
) -> None:
    sync_until_idle(mailbox)
    microsoft_sandbox.deliver(OWEN, sender=CAROL, subject="Out of the blue")

    sync_until_idle(mailbox)

    assert subjects() == {"Out of the blue"}


def test_a_reply_joins_the_thread_and_an_idle_poll_costs_one_call_per_folder(
    mailbox: Mailbox, microsoft_sandbox: MicrosoftSandboxControl
) -> None:
    first = microsoft_sandbox.deliver(OWEN, sender=CAROL, subject="Pricing")
    sync_until_idle(mailbox)
    microsoft_sandbox.deliver(
        OWEN,
        sender=CAROL,
        subject="RE: Pricing",
        reply_to_internet_message_id=first["internet_message_id"],
    )
    sync_until_idle(mailbox)
    folders = len(Mailbox.objects.get().cursor["folders"])

    before = folder_calls(microsoft_sandbox)
    sync_until_idle(mailbox)
    after = folder_calls(microsoft_sandbox)

    assert Thread.objects.get().message_count == 2
    spent = {
        op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op)
    }
    assert spent == {"GET /me/mailFolders/{id}/messages/delta": folders}


def test_a_stale_delta_link_re_lists_without_duplicates(
    mailbox: Mailbox, microsoft_sandbox: MicrosoftSandboxControl
) -> None:
    microsoft_sandbox.deliver(OWEN, sender=CAROL, subject="One")
    sync_until_idle(mailbox)
    microsoft_sandbox.deliver(OWEN, sender=CAROL, subject="Two")
    microsoft_sandbox.expire_delta(OWEN)

    sync_until_idle(mailbox)

    assert sorted(subjects()) == ["One", "Two"]
    assert MessageLink.objects.count() == 2


def test_a_message_deleted_in_outlook_stays_marked_deleted(
    mailbox: Mailbox, microsoft_sandbox: MicrosoftSandboxControl
) -> None:
    delivered = microsoft_sandbox.deliver(OWEN, sender=CAROL, subject="Bye")
    sync_until_idle(mailbox)

    microsoft_sandbox.delete(OWEN, delivered["id"])
    sync_until_idle(mailbox)

    link = MessageLink.objects.get()
    assert link.deleted_in_provider_at is not None
    assert Message.objects.filter(subject="Bye").exists()
