"""Pulling Gmail through the sandbox: first import, incremental, cursors."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from conversations.models import Message, MessageLink, Thread
from mailsync.models import Mailbox, SyncRun
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.services.sync import claim_mailbox, sync_mailbox
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory
from tests.mailsync.conftest import ConnectMailbox, sync_until_idle

pytestmark = pytest.mark.django_db

GINA = "gina@gmail.test"
CAROL = "carol@client.example"


@pytest.fixture
def gina(db: None) -> User:
    return EmployeeFactory(email="gina@northwind.test")


@pytest.fixture
def mailbox(gina: User, connect_mailbox: ConnectMailbox) -> Mailbox:
    ContactFactory(account=gina.account, addresses=[CAROL])
    return connect_mailbox(gina, Mailbox.Provider.GMAIL, GINA)


def subjects() -> set[str]:
    return set(Message.objects.values_list("subject", flat=True))


def test_first_import_stores_mail_with_contacts_only(
    mailbox: Mailbox, google_sandbox: GoogleSandboxControl
) -> None:
    google_sandbox.deliver(
        from_="someone@else.example", mailbox=GINA, to=[GINA], subject="Quote"
    )
    google_sandbox.deliver(
        from_=CAROL, mailbox=GINA, to=[GINA], subject="From Carol", text="Hi"
    )
    google_sandbox.deliver(
        from_=CAROL, mailbox=GINA, to=[GINA], subject="Filed away", archived=True
    )
    google_sandbox.deliver(
        from_=CAROL, mailbox=GINA, to=[GINA], subject="Junk", labels=["SPAM"]
    )
    google_sandbox.deliver(
        from_="stranger@else.example", mailbox=GINA, to=[GINA], subject="Other"
    )

    sync_until_idle(mailbox)

    assert subjects() == {"From Carol", "Filed away"}
    assert mailbox.state == Mailbox.State.ACTIVE
    assert mailbox.cursor["history_id"]
    thread = Thread.objects.get(subject="From Carol")
    assert list(thread.contacts.values_list("emails__normalized", flat=True)) == [CAROL]
    run = SyncRun.objects.filter(mailbox=mailbox).first()
    assert run is not None and run.stored == 2


def test_mail_the_employee_sent_from_gmail_is_stored_as_sent(
    mailbox: Mailbox, google_sandbox: GoogleSandboxControl
) -> None:
    google_sandbox.deliver(
        from_=GINA, mailbox=GINA, to=[CAROL], subject="Proposal", labels=["SENT"]
    )

    sync_until_idle(mailbox)

    message = Message.objects.get()
    assert message.direction == Message.Direction.OUTBOUND
    assert message.to == [{"address": CAROL, "name": ""}]


def test_incremental_sync_threads_a_reply_and_an_idle_poll_costs_one_call(
    mailbox: Mailbox, google_sandbox: GoogleSandboxControl
) -> None:
    first = google_sandbox.deliver(
        from_=CAROL, mailbox=GINA, to=[GINA], subject="Pricing", text="Q?"
    )[0]
    sync_until_idle(mailbox)
    google_sandbox.deliver(
        from_=CAROL,
        mailbox=GINA,
        to=[GINA],
        subject="Re: Pricing",
        text="More",
        in_reply_to=first["id"],
    )

    sync_until_idle(mailbox)
    before = {row["operation"]: row["calls"] for row in google_sandbox.counters()}
    sync_until_idle(mailbox)
    after = {row["operation"]: row["calls"] for row in google_sandbox.counters()}

    assert Thread.objects.count() == 1
    assert Thread.objects.get().message_count == 2
    spent = {
        op: after[op] - before.get(op, 0)
        for op in after
        if after[op] != before.get(op, 0)
    }
    assert spent == {"gmail.users.history.list": 1}


def test_an_expired_history_id_re_lists_without_duplicates(
    mailbox: Mailbox, google_sandbox: GoogleSandboxControl
) -> None:
    google_sandbox.deliver(from_=CAROL, mailbox=GINA, to=[GINA], subject="One")
    sync_until_idle(mailbox)
    google_sandbox.deliver(from_=CAROL, mailbox=GINA, to=[GINA], subject="Two")
    google_sandbox.expire_history(GINA)

    sync_until_idle(mailbox)

    assert sorted(subjects()) == ["One", "Two"]
    assert Message.objects.count() == 2
    assert MessageLink.objects.count() == 2


def test_a_message_deleted_in_gmail_stays_marked_deleted(
    mailbox: Mailbox, google_sandbox: GoogleSandboxControl, settings: Any
) -> None:
    from google.oauth2.credentials import Credentials

    from mailsync.providers.gmail_api import build_gmail_service

    google_sandbox.deliver(from_=CAROL, mailbox=GINA, to=[GINA], subject="Bye")
    sync_until_idle(mailbox)
    link = MessageLink.objects.get()
    # Gina trashes it in Gmail itself, with Gmail's own (broader) access.
    own = google_sandbox.grant(GINA, ["https://www.googleapis.com/auth/gmail.modify"])
    gmail = build_gmail_service(
        Credentials(own["access_token"]), settings.GOOGLE_ENDPOINTS["api_root"]
    )
    gmail.users().messages().trash(userId="me", id=link.provider_message_id).execute()

    sync_until_idle(mailbox)

    link.refresh_from_db()
    assert link.deleted_in_provider_at is not None
    assert Message.objects.filter(subject="Bye").exists()


def test_only_one_worker_syncs_a_mailbox_at_a_time(mailbox: Mailbox) -> None:
    assert claim_mailbox(mailbox.pk, "worker-1")

    outcome = sync_mailbox(mailbox_id=mailbox.pk)

    assert not outcome.ran
    assert not SyncRun.objects.exists()


def test_a_new_contact_address_backfills_its_past_mail(
    mailbox: Mailbox,
    google_sandbox: GoogleSandboxControl,
    gina: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from contacts.services import add_contact_addresses

    google_sandbox.deliver(
        from_="dan@newco.example", mailbox=GINA, to=[GINA], subject="Older mail"
    )
    sync_until_idle(mailbox)
    assert not Message.objects.exists()
    dan = ContactFactory(account=gina.account, addresses=["dan.other@newco.example"])

    with django_capture_on_commit_callbacks(execute=True):
        add_contact_addresses(contact=dan, addresses=["dan@newco.example"])
    sync_until_idle(mailbox)

    assert subjects() == {"Older mail"}


DAN = "dan@newco.example"
ERIN = "erin@newco.example"


def add_address(
    gina: User, address: str, django_capture_on_commit_callbacks: Any
) -> None:
    """Give a new contact ``address``, as a person would on its record."""
    from contacts.services import add_contact_addresses

    contact = ContactFactory(account=gina.account, addresses=[f"old.{address}"])
    with django_capture_on_commit_callbacks(execute=True):
        add_contact_addresses(contact=contact, addresses=[address])


def step(mailbox: Mailbox) -> None:
    """Run one sync task that stops after its first step."""
    sync_mailbox(mailbox_id=mailbox.pk, budget_seconds=0)


def test_an_address_added_during_the_first_import_gets_its_past_mail(
    mailbox: Mailbox,
    google_sandbox: GoogleSandboxControl,
    gina: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for sender, subject in [(CAROL, "From Carol"), (DAN, "From Dan")]:
        google_sandbox.deliver(from_=sender, mailbox=GINA, to=[GINA], subject=subject)
    step(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.state == Mailbox.State.IMPORTING

    add_address(gina, DAN, django_capture_on_commit_callbacks)
    sync_until_idle(mailbox)

    assert subjects() == {"From Carol", "From Dan"}
    assert mailbox.backfill_addresses == []


def test_an_address_added_during_a_backfill_gets_its_past_mail(
    mailbox: Mailbox,
    google_sandbox: GoogleSandboxControl,
    gina: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for sender, subject in [(CAROL, "From Carol"), (DAN, "From Dan"), (ERIN, "Erin")]:
        google_sandbox.deliver(from_=sender, mailbox=GINA, to=[GINA], subject=subject)
    sync_until_idle(mailbox)
    add_address(gina, DAN, django_capture_on_commit_callbacks)
    step(mailbox)

    add_address(gina, ERIN, django_capture_on_commit_callbacks)
    sync_until_idle(mailbox)

    assert subjects() == {"From Carol", "From Dan", "Erin"}
    assert MessageLink.objects.count() == 3
    assert mailbox.backfill_addresses == []


def test_a_contact_removed_during_the_first_import_costs_no_one_else_their_mail(
    gina: User, mailbox: Mailbox, google_sandbox: GoogleSandboxControl
) -> None:
    from contacts.services import delete_contact
    from mailsync.providers.gmail import ADDRESSES_PER_QUERY

    # One search more than fits in a query; each contact wrote once.
    people = [
        ContactFactory(account=gina.account, addresses=[f"p{n:02}@client.example"])
        for n in range(ADDRESSES_PER_QUERY + 1)
    ]
    for number in range(ADDRESSES_PER_QUERY + 1):
        google_sandbox.deliver(
            from_=f"p{number:02}@client.example",
            mailbox=GINA,
            to=[GINA],
            subject=f"From p{number:02}",
        )
    # The first search is done when the step ends (a step of no time
    # still runs once).
    assert sync_mailbox(mailbox_id=mailbox.pk, budget_seconds=0).more

    delete_contact(contact=people[0])
    sync_until_idle(mailbox)

    # p00's mail came in before the contact went; everyone else's after.
    expected = {f"From p{number:02}" for number in range(ADDRESSES_PER_QUERY + 1)}
    assert set(Message.objects.values_list("subject", flat=True)) == expected
