"""Pulling Outlook mail through the sandbox: folders, delta, stale links."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from conversations.models import Message, MessageLink, NeverLog, Thread
from mailsync.models import Mailbox, SyncRun
from mailsync.providers.base import PullRequest, provider_for
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from mailsync.services.sync import sync_mailbox
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


DAN = "dan@newco.example"
ERIN = "erin@newco.example"
DELTA = "GET /me/mailFolders/{id}/messages/delta"
SOURCE = "GET /me/messages/{id}/$value"


def add_address(
    owen: User, address: str, django_capture_on_commit_callbacks: Any
) -> None:
    """Give a new contact ``address``, as a person would on its record."""
    from contacts.services import add_contact_addresses

    contact = ContactFactory(account=owen.account, addresses=[f"old.{address}"])
    with django_capture_on_commit_callbacks(execute=True):
        add_contact_addresses(contact=contact, addresses=[address])


def step(mailbox: Mailbox) -> bool:
    """Run one sync task that stops after its first step; return whether
    there is more to do."""
    return sync_mailbox(mailbox_id=mailbox.pk, budget_seconds=0).more


def test_an_address_added_during_the_first_import_gets_its_past_mail(
    mailbox: Mailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
    owen: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for number in range(3):
        microsoft_sandbox.deliver(OWEN, sender=CAROL, subject=f"Carol {number}")
    microsoft_sandbox.deliver(OWEN, sender=DAN, subject="From Dan", folder="archive")
    step(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.state == Mailbox.State.IMPORTING

    add_address(owen, DAN, django_capture_on_commit_callbacks)
    sync_until_idle(mailbox)

    assert subjects() == {"Carol 0", "Carol 1", "Carol 2", "From Dan"}
    assert MessageLink.objects.count() == 4
    assert mailbox.backfill_addresses == []


def test_an_address_added_during_a_backfill_gets_its_past_mail(
    mailbox: Mailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
    owen: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    microsoft_sandbox.deliver(OWEN, sender=CAROL, subject="From Carol")
    for number in range(3):
        microsoft_sandbox.deliver(OWEN, sender=DAN, subject=f"Dan {number}")
    microsoft_sandbox.deliver(OWEN, sender=ERIN, subject="From Erin", folder="archive")
    sync_until_idle(mailbox)
    add_address(owen, DAN, django_capture_on_commit_callbacks)
    step(mailbox)

    add_address(owen, ERIN, django_capture_on_commit_callbacks)
    sync_until_idle(mailbox)

    assert subjects() == {"From Carol", "Dan 0", "Dan 1", "Dan 2", "From Erin"}
    assert MessageLink.objects.count() == 5
    assert mailbox.backfill_addresses == []


def test_a_step_fetches_at_most_max_messages_and_the_next_step_goes_on(
    mailbox: Mailbox, microsoft_sandbox: MicrosoftSandboxControl
) -> None:
    for number in range(7):
        microsoft_sandbox.deliver(OWEN, sender=CAROL, subject=f"Mail {number}")
    provider = provider_for(mailbox.provider, mailbox.access_token)
    fetched: list[str] = []
    cursor: dict[str, Any] = {}

    def already_stored(ids: list[str]) -> set[str]:
        return set(ids) & set(fetched)

    for _ in range(20):
        page = provider.pull(
            PullRequest(
                cursor=cursor,
                window_start=timezone.now() - timedelta(days=30),
                contact_addresses=lambda: [CAROL],
                skip_reason=lambda people: None if CAROL in people else "no contact",
                already_stored=already_stored,
                max_messages=3,
            )
        )
        assert len(page.messages) <= 3
        fetched.extend(message.provider_message_id for message in page.messages)
        cursor = page.cursor
        if page.caught_up:
            break

    assert page.caught_up
    assert len(fetched) == len(set(fetched)) == 7


def test_a_step_out_of_time_leaves_the_rest_of_the_page_to_the_next_one(
    mailbox: Mailbox, microsoft_sandbox: MicrosoftSandboxControl
) -> None:
    for number in range(4):
        microsoft_sandbox.deliver(OWEN, sender=CAROL, subject=f"Mail {number}")

    for _ in range(30):
        if not step(mailbox):
            break

    runs = SyncRun.objects.filter(mailbox=mailbox)
    assert max(run.fetched for run in runs) == 1
    assert subjects() == {f"Mail {number}" for number in range(4)}
    assert MessageLink.objects.count() == 4
    assert microsoft_sandbox.calls(SOURCE, OWEN) == 4
    mailbox.refresh_from_db()
    assert mailbox.state == Mailbox.State.ACTIVE


def test_a_throttled_graph_call_reaches_the_sync_as_one_temporary_failure(
    mailbox: Mailbox, microsoft_sandbox: MicrosoftSandboxControl
) -> None:
    sync_until_idle(mailbox)
    before = microsoft_sandbox.calls(DELTA, OWEN)
    microsoft_sandbox.add_fault("rate_limit", operation=DELTA, retry_after=70)

    sync_mailbox(mailbox_id=mailbox.pk)

    mailbox.refresh_from_db()
    assert microsoft_sandbox.calls(DELTA, OWEN) - before == 1
    assert mailbox.state == Mailbox.State.BACKING_OFF
    assert mailbox.failure_count == 1
    assert mailbox.backoff_until is not None
    assert mailbox.backoff_until > timezone.now() + timedelta(seconds=65)


def test_mail_passed_over_before_fetching_is_counted_by_reason(
    mailbox: Mailbox, microsoft_sandbox: MicrosoftSandboxControl, owen: User
) -> None:
    ContactFactory(account=owen.account, addresses=["lawyer@firm.example"])
    NeverLog.objects.create(account=owen.employer, value="lawyer@firm.example")
    microsoft_sandbox.deliver(OWEN, sender="stranger@else.example", subject="Offer")
    microsoft_sandbox.deliver(OWEN, sender="lawyer@firm.example", subject="Private")
    microsoft_sandbox.deliver(OWEN, sender=CAROL, subject="Business")

    sync_until_idle(mailbox)

    skipped: Counter[str] = Counter()
    for run in SyncRun.objects.filter(mailbox=mailbox):
        skipped.update(run.skipped)
    assert skipped == {"no contact": 1, "never-log": 1}
    assert subjects() == {"Business"}
