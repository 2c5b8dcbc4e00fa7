"""Who sees what: each mailbox owner's sharing choice, for teammates and
Admins alike; the owner always sees all of their own mail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from contacts.models import Contact
from conversations.models import (
    Attachment,
    MessageLink,
    Thread,
    ThreadLink,
    ThreadReadState,
)
from mailsync.models import Mailbox
from tests.conversations.factories import (
    MailboxFactory,
    add_message,
    outbound,
    thread_with,
)

pytestmark = pytest.mark.django_db

SUBJECT = "Pricing for Q3"
BODY = "The discount is fifteen percent"
PARTICIPANT = "boss@client.example"


@pytest.fixture
def pats_thread(pat: User, carol: Contact) -> Thread:
    mailbox = MailboxFactory(employee=pat, address="pat@gmail.test")
    thread = thread_with(
        carol,
        mailbox,
        subject=SUBJECT,
        text_body=BODY,
        html_body=f"<p>{BODY}</p>",
        cc=[{"address": PARTICIPANT, "name": "The Boss"}],
    )
    Attachment.objects.create(
        message=thread.messages.get(), filename="pricing.xlsx", part_path="2"
    )
    return thread


def share(pat: User, sharing: str) -> None:
    Mailbox.objects.filter(employee=pat).update(sharing=sharing)


def what_they_see(client: Client, thread: Thread, carol: Contact) -> dict[str, object]:
    message = thread.messages.get()
    attachment = message.attachments.get()
    page = client.get(reverse("conversations:thread", args=[thread.pk])).text
    tab = client.get(reverse("contacts:conversations", args=[carol.pk])).text
    inbox = client.get(reverse("conversations:inbox")).text
    return {
        "subject": SUBJECT in page and SUBJECT in tab and SUBJECT in inbox,
        "participants": PARTICIPANT in page,
        "body": BODY in page
        or client.get(
            reverse("conversations:message_body", args=[message.pk])
        ).status_code
        == 200,
        "attachment": "pricing.xlsx" in page
        or client.get(
            reverse("conversations:attachment", args=[attachment.pk])
        ).status_code
        != 404,
        "listed": reverse("conversations:thread", args=[thread.pk]) in tab,
    }


EVERYTHING = {"subject": True, "participants": True, "body": True, "attachment": True}
METADATA = {"subject": True, "participants": True, "body": False, "attachment": False}
EXISTENCE = {
    "subject": False,
    "participants": False,
    "body": False,
    "attachment": False,
}


@pytest.mark.parametrize(
    ("sharing", "expected"),
    [
        (Mailbox.Sharing.EVERYTHING, EVERYTHING),
        (Mailbox.Sharing.METADATA, METADATA),
        (Mailbox.Sharing.EXISTENCE, EXISTENCE),
    ],
)
@pytest.mark.parametrize("viewer", ["teammate", "Admin"])
def test_teammates_and_admins_see_what_the_owner_shares(
    sharing: str,
    expected: dict[str, bool],
    viewer: str,
    sam: User,
    admin_user: User,
    pat: User,
    carol: Contact,
    pats_thread: Thread,
    sign_in: Callable[[User], Client],
) -> None:
    share(pat, sharing)
    client = sign_in(sam if viewer == "teammate" else admin_user)

    seen = what_they_see(client, pats_thread, carol)

    assert seen == {**expected, "listed": True}


@pytest.mark.parametrize("sharing", list(Mailbox.Sharing))
def test_the_owner_always_sees_all_of_their_own_mail(
    sharing: str,
    pat: User,
    carol: Contact,
    pats_thread: Thread,
    sign_in: Callable[[User], Client],
) -> None:
    share(pat, sharing)

    seen = what_they_see(sign_in(pat), pats_thread, carol)

    assert seen == {**EVERYTHING, "listed": True}


def test_a_message_in_two_mailboxes_is_as_open_as_the_more_open_one(
    pat: User,
    admin_user: User,
    sam: User,
    carol: Contact,
    pats_thread: Thread,
    sign_in: Callable[[User], Client],
) -> None:
    share(pat, Mailbox.Sharing.EXISTENCE)
    admins = MailboxFactory(employee=admin_user, sharing=Mailbox.Sharing.EVERYTHING)
    MessageLink.objects.create(
        message=pats_thread.messages.get(), mailbox=admins, provider_message_id="a1"
    )

    seen = what_they_see(sign_in(sam), pats_thread, carol)

    assert seen == {**EVERYTHING, "listed": True}


def test_mail_written_in_the_crm_follows_the_authors_mailbox(
    pat: User,
    sam: User,
    carol: Contact,
    sams_mailbox: Mailbox,
    sign_in: Callable[[User], Client],
) -> None:
    pats_mailbox = MailboxFactory(employee=pat, sharing=Mailbox.Sharing.EXISTENCE)
    thread = thread_with(carol, sams_mailbox, subject="Open thread")
    outbound(thread, pats_mailbox, pat, text_body="Pat's private answer")

    as_sam = sign_in(sam).get(reverse("conversations:thread", args=[thread.pk])).text
    as_pat = sign_in(pat).get(reverse("conversations:thread", args=[thread.pk])).text

    assert "Pat's private answer" not in as_sam
    assert "1 message of this conversation is not shared with you" in as_sam
    assert "Pat&#x27;s private answer" in as_pat


def test_search_never_finds_what_the_viewer_may_not_see(
    pat: User, carol: Contact, pats_thread: Thread, as_sam: Client
) -> None:
    share(pat, Mailbox.Sharing.METADATA)
    url = reverse("conversations:inbox")

    by_subject = as_sam.get(url, {"q": "Pricing"}).text
    by_body = as_sam.get(url, {"q": "fifteen"}).text
    share(pat, Mailbox.Sharing.EXISTENCE)
    hidden_subject = as_sam.get(url, {"q": "Pricing"}).text

    thread_url = reverse("conversations:thread", args=[pats_thread.pk])
    assert thread_url in by_subject
    assert thread_url not in by_body
    assert thread_url not in hidden_subject


def test_the_owner_chooses_on_my_profile(
    pat: User, pats_thread: Thread, sign_in: Callable[[User], Client]
) -> None:
    from tests.staff.factories import grant

    client = sign_in(grant(pat, "accounts.access_settings"))

    profile = client.get(reverse("profile"))
    response = client.post(reverse("conversations:sharing"), {"sharing": "metadata"})

    assert "What teammates see of your email" in profile.text
    assert response.status_code == 302
    assert set(
        Mailbox.objects.filter(employee=pat).values_list("sharing", flat=True)
    ) == {"metadata"}


def test_a_second_visible_message_does_not_reveal_a_private_one(
    pat: User,
    sam: User,
    carol: Contact,
    pats_thread: Thread,
    sams_mailbox: Mailbox,
    sign_in: Callable[[User], Client],
) -> None:
    share(pat, Mailbox.Sharing.EXISTENCE)
    add_message(pats_thread, sams_mailbox, text_body="Sam's own copy of a reply")

    page = sign_in(sam).get(reverse("conversations:thread", args=[pats_thread.pk])).text

    assert "Sam&#x27;s own copy of a reply" in page
    assert BODY not in page and PARTICIPANT not in page


MERGER = "Secret merger"
DELIVERY = "Delivery dates"


@pytest.fixture
def merger_thread(pat: User, carol: Contact, sams_mailbox: Mailbox) -> Thread:
    """Pat's existence-only message starts the thread; Sam's own copy of a
    later message, with a subject of its own, joins it."""
    pats_mailbox = MailboxFactory(
        employee=pat, address="pat@gmail.test", sharing=Mailbox.Sharing.EXISTENCE
    )
    start = timezone.now() - timedelta(days=3)
    thread = thread_with(
        carol, pats_mailbox, subject=MERGER, text_body="Keep this quiet", start=start
    )
    ThreadLink.objects.create(
        thread=thread, mailbox=sams_mailbox, provider_thread_id="sams-thread"
    )
    add_message(
        thread,
        sams_mailbox,
        subject=DELIVERY,
        text_body="When can the crates ship?",
        sent_at=start + timedelta(days=1),
    )
    return thread


def pages_of(client: Client, thread: Thread, carol: Contact) -> dict[str, str]:
    return {
        "inbox": client.get(reverse("conversations:inbox")).text,
        "tab": client.get(reverse("contacts:conversations", args=[carol.pk])).text,
        "thread": client.get(reverse("conversations:thread", args=[thread.pk])).text,
    }


@pytest.mark.parametrize("viewer", ["teammate", "Admin"])
def test_an_existence_only_message_lends_no_subject_or_owner_to_its_thread(
    viewer: str,
    sam: User,
    admin_user: User,
    carol: Contact,
    merger_thread: Thread,
    sign_in: Callable[[User], Client],
) -> None:
    client = sign_in(sam if viewer == "teammate" else admin_user)

    pages = pages_of(client, merger_thread, carol)
    searched = client.get(reverse("conversations:inbox"), {"q": "merger"}).text

    for name, text in pages.items():
        assert MERGER not in text, name
        assert "Pat Peer" not in text, name
        assert DELIVERY in text, name
    assert reverse("conversations:thread", args=[merger_thread.pk]) not in searched


def test_the_owner_of_the_existence_only_mailbox_sees_the_whole_thread(
    pat: User,
    carol: Contact,
    merger_thread: Thread,
    sign_in: Callable[[User], Client],
) -> None:
    pages = pages_of(sign_in(pat), merger_thread, carol)

    for name, text in pages.items():
        assert MERGER in text, name
        assert "Pat Peer" in text, name
    assert "with Pat Peer, Sam Seller" in pages["inbox"]
    assert "with Pat Peer, Sam Seller" in pages["tab"]


def test_a_rows_count_activity_and_unread_mark_leave_out_private_messages(
    sam: User,
    pat: User,
    carol: Contact,
    merger_thread: Thread,
    as_sam: Client,
) -> None:
    as_sam.get(reverse("conversations:thread", args=[merger_thread.pk]))
    ThreadReadState.objects.filter(employee=sam).update(
        read_at=timezone.now() - timedelta(hours=2)
    )
    visible_at = merger_thread.messages.get(subject=DELIVERY).sent_at
    add_message(
        merger_thread,
        Mailbox.objects.get(employee=pat),
        subject="Re: Secret merger",
        sent_at=timezone.now() - timedelta(hours=1),
    )

    inbox = as_sam.get(reverse("conversations:inbox"))
    tab = as_sam.get(reverse("contacts:conversations", args=[carol.pk]))
    unread = as_sam.get(reverse("conversations:inbox"), {"unread": "on"})

    for response in (inbox, tab):
        [row] = response.context["page"].object_list
        assert (row.subject, row.message_count) == (DELIVERY, 1)
        assert row.last_message_at == visible_at
        assert row.teammates == ["Sam Seller"]
        assert not row.unread
    assert not unread.context["page"].object_list


def test_a_message_names_only_mailboxes_that_share_more_than_existence(
    pat: User,
    admin_user: User,
    sam: User,
    pats_thread: Thread,
    sign_in: Callable[[User], Client],
) -> None:
    share(pat, Mailbox.Sharing.EXISTENCE)
    admins = MailboxFactory(employee=admin_user, sharing=Mailbox.Sharing.EVERYTHING)
    MessageLink.objects.create(
        message=pats_thread.messages.get(), mailbox=admins, provider_message_id="a1"
    )

    page = sign_in(sam).get(reverse("conversations:thread", args=[pats_thread.pk]))

    assert f"in the mailbox of {admin_user}" in page.text
    assert "Pat Peer" not in page.text
