"""What the sync stores and how it copes: teammates, never-log, failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from conversations.models import Message, MessageLink, NeverLog
from mailsync.models import Mailbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from mailsync.services.sync import claim_mailbox, due_mailbox_ids, sync_mailbox
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory
from tests.mailsync.conftest import ConnectMailbox, sync_until_idle

pytestmark = pytest.mark.django_db

CAROL = "carol@client.example"


@pytest.fixture
def gina(db: None) -> User:
    employee = EmployeeFactory(email="gina@northwind.test")
    ContactFactory(account=employee.account, addresses=[CAROL])
    return employee


def test_the_same_email_in_two_teammates_mailboxes_is_one_message(
    gina: User,
    connect_mailbox: ConnectMailbox,
    google_sandbox: GoogleSandboxControl,
    microsoft_sandbox: MicrosoftSandboxControl,
) -> None:
    owen = EmployeeFactory(email="owen@northwind.test", account=gina.account)
    gmail = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    outlook = connect_mailbox(owen, Mailbox.Provider.OUTLOOK, "owen@outlook.test")
    raw = (
        b"From: Carol <carol@client.example>\r\n"
        b"To: gina@gmail.test, owen@outlook.test\r\n"
        b"Subject: Both of you\r\n"
        b"Message-ID: <shared-1@client.example>\r\n"
        b"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nHello both.\r\n"
    )
    google_sandbox.deliver(mailbox="gina@gmail.test", raw=raw.decode())
    microsoft_sandbox.deliver_mime("owen@outlook.test", raw)

    sync_until_idle(gmail)
    sync_until_idle(outlook)

    message = Message.objects.get()
    assert message.rfc_message_id == "<shared-1@client.example>"
    assert set(message.links.values_list("mailbox", flat=True)) == {
        gmail.pk,
        outlook.pk,
    }


def test_never_logged_addresses_and_domains_are_not_stored(
    gina: User, connect_mailbox: ConnectMailbox, google_sandbox: GoogleSandboxControl
) -> None:
    ContactFactory(account=gina.account, addresses=["hr@private.example"])
    ContactFactory(account=gina.account, addresses=["lawyer@firm.example"])
    NeverLog.objects.create(account=gina.employer, value="private.example")
    NeverLog.objects.create(
        account=gina.employer, employee=gina, value="lawyer@firm.example"
    )
    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    for sender, subject in [
        ("hr@private.example", "Salary"),
        ("lawyer@firm.example", "Confidential"),
        (CAROL, "Business"),
    ]:
        google_sandbox.deliver(
            from_=sender,
            mailbox="gina@gmail.test",
            to=["gina@gmail.test"],
            subject=subject,
        )

    sync_until_idle(mailbox)

    assert list(Message.objects.values_list("subject", flat=True)) == ["Business"]


def test_mail_among_colleagues_only_is_not_stored(
    gina: User, connect_mailbox: ConnectMailbox, google_sandbox: GoogleSandboxControl
) -> None:
    # A contact at the account's own domain is a colleague: never logged.
    ContactFactory(account=gina.account, addresses=["boss@northwind.test"])
    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    google_sandbox.deliver(
        from_="boss@northwind.test",
        mailbox="gina@gmail.test",
        to=["gina@gmail.test"],
        subject="Lunch?",
    )

    sync_until_idle(mailbox)

    assert not Message.objects.exists()


def test_a_malformed_message_does_not_stop_the_batch(
    gina: User, connect_mailbox: ConnectMailbox, google_sandbox: GoogleSandboxControl
) -> None:
    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    broken = (
        "From: carol@client.example\r\nTo: gina@gmail.test\r\n"
        "Subject: =?x-unknown?B?////?=\r\nDate: not a date\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=bogus\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n"
    )
    google_sandbox.deliver(mailbox="gina@gmail.test", raw=broken)
    google_sandbox.deliver(
        from_=CAROL, mailbox="gina@gmail.test", to=["gina@gmail.test"], subject="Fine"
    )

    sync_until_idle(mailbox)

    assert Message.objects.count() == 2
    assert Message.objects.exclude(parse_problems=[]).count() == 1


def test_a_temporary_failure_backs_off_and_keeps_the_cursor(
    gina: User, connect_mailbox: ConnectMailbox, google_sandbox: GoogleSandboxControl
) -> None:
    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    sync_until_idle(mailbox)
    cursor = mailbox.cursor
    google_sandbox.add_fault("unavailable", retry_after=30)

    sync_mailbox(mailbox_id=mailbox.pk)

    mailbox.refresh_from_db()
    assert mailbox.state == Mailbox.State.BACKING_OFF
    assert mailbox.cursor == cursor
    assert mailbox.backoff_until is not None
    assert mailbox.backoff_until > timezone.now() + timedelta(seconds=25)
    assert mailbox.pk not in due_mailbox_ids()

    google_sandbox.clear_faults()
    Mailbox.objects.filter(pk=mailbox.pk).update(backoff_until=timezone.now())
    sync_until_idle(mailbox)

    assert mailbox.state == Mailbox.State.ACTIVE
    assert mailbox.failure_count == 0


def test_a_grant_revoked_during_sync_disconnects_the_mailbox(
    gina: User, connect_mailbox: ConnectMailbox, google_sandbox: GoogleSandboxControl
) -> None:
    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    google_sandbox.revoke_grant("gina@gmail.test")

    sync_mailbox(mailbox_id=mailbox.pk)

    mailbox.refresh_from_db()
    assert mailbox.state == Mailbox.State.DISCONNECTED
    assert mailbox.state_reason
    assert mailbox.pk not in due_mailbox_ids()


def test_deactivated_employees_mailboxes_are_not_synced(
    gina: User, connect_mailbox: ConnectMailbox
) -> None:
    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    assert mailbox.pk in due_mailbox_ids()

    User.objects.filter(pk=gina.pk).update(is_active=False)

    assert mailbox.pk not in due_mailbox_ids()
    assert not sync_mailbox(mailbox_id=mailbox.pk).ran


def test_a_crashed_workers_mailbox_is_taken_up_after_its_lease_runs_out(
    gina: User, connect_mailbox: ConnectMailbox
) -> None:
    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    assert claim_mailbox(mailbox.pk, "crashed-worker")
    assert mailbox.pk not in due_mailbox_ids()
    assert not claim_mailbox(mailbox.pk, "second-worker")

    Mailbox.objects.filter(pk=mailbox.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert mailbox.pk in due_mailbox_ids()
    assert sync_mailbox(mailbox_id=mailbox.pk).ran


def test_a_long_import_continues_in_further_tasks(
    gina: User, connect_mailbox: ConnectMailbox, google_sandbox: GoogleSandboxControl
) -> None:
    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    for number in range(5):
        google_sandbox.deliver(
            from_=CAROL,
            mailbox="gina@gmail.test",
            to=["gina@gmail.test"],
            subject=f"Mail {number}",
        )

    first = sync_mailbox(mailbox_id=mailbox.pk, budget_seconds=0)

    assert first.more
    mailbox.refresh_from_db()
    assert mailbox.state == Mailbox.State.IMPORTING
    assert mailbox.import_done > 0
    sync_until_idle(mailbox)
    assert Message.objects.count() == 5
    assert MessageLink.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_sync_under_way_does_not_undo_a_full_resync(
    gina: User,
    connect_mailbox: ConnectMailbox,
    google_sandbox: GoogleSandboxControl,
    client: Client,
) -> None:
    import threading

    from django.db import connections

    from mailsync.sandbox.google.api import HISTORY_LIST
    from tests.factories import SupportUserFactory

    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    sync_until_idle(mailbox)
    google_sandbox.deliver(
        from_=CAROL, mailbox="gina@gmail.test", to=["gina@gmail.test"], subject="New"
    )
    # The next incremental poll hangs in Gmail while support resyncs.
    google_sandbox.add_fault("slow", operation=HISTORY_LIST, remaining=1, delay=1.5)

    def worker() -> None:
        try:
            sync_mailbox(mailbox_id=mailbox.pk)
        finally:
            connections.close_all()

    poll = threading.Thread(target=worker)
    poll.start()
    for _ in range(100):
        if Mailbox.objects.filter(pk=mailbox.pk).exclude(lease_owner="").exists():
            break
        threading.Event().wait(0.02)
    client.force_login(SupportUserFactory())
    client.post(
        reverse("admin:mailsync_mailbox_changelist"),
        {"action": "full_resync", "_selected_action": [mailbox.pk]},
    )
    poll.join(timeout=30)

    mailbox.refresh_from_db()
    assert mailbox.cursor == {}
    assert mailbox.state == Mailbox.State.IMPORTING
    stopped = mailbox.runs.first()
    assert stopped is not None and stopped.error.startswith("Stopped")


@pytest.mark.django_db(transaction=True)
def test_two_workers_started_together_sync_a_mailbox_once(
    gina: User, connect_mailbox: ConnectMailbox, google_sandbox: GoogleSandboxControl
) -> None:
    import threading

    from django.db import connections

    from mailsync.sandbox.google.api import HISTORY_LIST

    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    sync_until_idle(mailbox)
    google_sandbox.deliver(
        from_=CAROL, mailbox="gina@gmail.test", to=["gina@gmail.test"], subject="New"
    )
    # The first to reach Gmail is held there long enough for the other to
    # try the mailbox too.
    google_sandbox.add_fault("slow", operation=HISTORY_LIST, remaining=1, delay=1.0)
    start = threading.Barrier(2)
    ran: list[bool] = []

    def worker() -> None:
        try:
            start.wait()
            ran.append(sync_mailbox(mailbox_id=mailbox.pk).ran)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=30)

    assert sorted(ran) == [False, True]
    assert Message.objects.filter(subject="New").count() == 1


def test_throttling_waits_as_long_as_retry_after_says_however_often_it_came(
    gina: User, connect_mailbox: ConnectMailbox, google_sandbox: GoogleSandboxControl
) -> None:
    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    sync_until_idle(mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(failure_count=4)
    google_sandbox.add_fault("rate_limit", retry_after=40)

    sync_mailbox(mailbox_id=mailbox.pk)

    mailbox.refresh_from_db()
    assert mailbox.failure_count == 5
    assert mailbox.backoff_until is not None
    waits = mailbox.backoff_until - timezone.now()
    # Doubling from a minute would wait 16 minutes after five failures.
    assert timedelta(seconds=30) < waits <= timedelta(seconds=40)


def test_an_import_stopped_by_the_quota_after_some_mail_does_not_double_its_wait(
    gina: User, connect_mailbox: ConnectMailbox, google_sandbox: GoogleSandboxControl
) -> None:
    mailbox = connect_mailbox(gina, Mailbox.Provider.GMAIL, "gina@gmail.test")
    google_sandbox.deliver_many(
        [
            {"from_": CAROL, "mailbox": "gina@gmail.test", "subject": f"N{number}"}
            for number in range(150)
        ]
    )
    # Room for the first page of the import (about 2,000 units), not the
    # second; earlier failures would have doubled the wait to 16 minutes.
    google_sandbox.set_quota(enabled=True, limit_per_minute=2100, reset_usage=True)
    Mailbox.objects.filter(pk=mailbox.pk).update(failure_count=4)

    try:
        sync_mailbox(mailbox_id=mailbox.pk)
    finally:
        google_sandbox.set_quota(enabled=False, reset_usage=True)

    mailbox.refresh_from_db()
    assert Message.objects.count() == 100
    assert mailbox.state == Mailbox.State.BACKING_OFF
    assert mailbox.failure_count == 1
    assert mailbox.backoff_until is not None
    assert mailbox.backoff_until <= timezone.now() + timedelta(minutes=1)
