"""The Conversations page: the team's threads, unread markers, filters,
search, and new mail appearing without a reload."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from contacts.models import Contact
from conversations.models import Message, ThreadReadState
from conversations.services import IncomingMessage, MailboxRef, record_inbound_messages
from mailsync.models import Mailbox
from mailsync.parsing import Address, ParsedMessage
from tests.contacts.factories import ContactFactory
from tests.conversations.conftest import CAROL
from tests.conversations.factories import (
    MailboxFactory,
    add_message,
    outbound,
    thread_with,
)

pytestmark = pytest.mark.django_db


def thread_url(thread_id: int) -> str:
    return reverse("conversations:thread", args=[thread_id])


def test_all_the_teams_threads_are_listed_newest_first(
    as_sam: Client, pat: User, carol: Contact, sams_mailbox: Mailbox
) -> None:
    older = thread_with(carol, sams_mailbox, subject="Older thread")
    newer = thread_with(
        ContactFactory(account=carol.account),
        MailboxFactory(employee=pat),
        subject="Pat's newer thread",
        start=timezone.now() - timedelta(hours=1),
    )

    text = as_sam.get(reverse("conversations:inbox")).text

    assert text.index(thread_url(newer.pk)) < text.index(thread_url(older.pk))


def test_a_thread_is_unread_until_opened_and_again_when_mail_arrives(
    as_sam: Client, sam: User, carol: Contact, sams_mailbox: Mailbox
) -> None:
    thread = thread_with(carol, sams_mailbox)
    inbox = reverse("conversations:inbox")

    before = as_sam.get(inbox, {"unread": "on"}).text
    as_sam.get(thread_url(thread.pk))
    after = as_sam.get(inbox, {"unread": "on"}).text
    add_message(thread, sams_mailbox, sent_at=timezone.now() + timedelta(seconds=5))
    ThreadReadState.objects.filter(employee=sam).update(
        read_at=timezone.now() - timedelta(seconds=1)
    )
    again = as_sam.get(inbox).text

    assert thread_url(thread.pk) in before and "thread-unread" in before
    assert thread_url(thread.pk) not in after
    assert "thread-unread" in again


def test_read_state_is_per_employee(
    as_sam: Client,
    pat: User,
    carol: Contact,
    sams_mailbox: Mailbox,
    sign_in: Callable[[User], Client],
) -> None:
    thread = thread_with(carol, sams_mailbox)

    as_sam.get(thread_url(thread.pk))
    pats_view = sign_in(pat).get(reverse("conversations:inbox"), {"unread": "on"}).text

    assert thread_url(thread.pk) in pats_view


def test_mine_shows_threads_in_my_mailbox_or_written_by_me(
    as_sam: Client, sam: User, pat: User, carol: Contact, sams_mailbox: Mailbox
) -> None:
    pats_mailbox = MailboxFactory(employee=pat)
    in_my_mailbox = thread_with(carol, sams_mailbox, subject="Mine by mailbox")
    written_by_me = thread_with(carol, pats_mailbox, subject="Mine by writing")
    outbound(written_by_me, sams_mailbox, sam)
    pats_only = thread_with(carol, pats_mailbox, subject="Pat's only")

    mine = as_sam.get(reverse("conversations:inbox"), {"mine": "1"}).text
    team = as_sam.get(reverse("conversations:inbox")).text

    assert thread_url(in_my_mailbox.pk) in mine and thread_url(written_by_me.pk) in mine
    assert thread_url(pats_only.pk) not in mine
    assert thread_url(pats_only.pk) in team


def search(client: Client, query: str) -> str:
    return client.get(reverse("conversations:inbox"), {"q": query}).text


def searchable_threads(carol: Contact, mailbox: Mailbox) -> dict[str, int]:
    other = ContactFactory(
        account=carol.account,
        first_name="Olga",
        last_name="Other",
        addresses=["olga@o.example"],
    )
    return {
        "subject": thread_with(carol, mailbox, subject="Invoice overdue").pk,
        "body": thread_with(
            other, mailbox, subject="Hello", text_body="The warehouse shipment left"
        ).pk,
        "contact": thread_with(other, mailbox, subject="Lunch").pk,
    }


def test_search_matches_subjects_contacts_and_text(
    as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    threads = searchable_threads(carol, sams_mailbox)

    assert thread_url(threads["subject"]) in search(as_sam, "invoice")
    assert thread_url(threads["subject"]) not in search(as_sam, "warehouse")
    assert thread_url(threads["body"]) in search(as_sam, "warehouse")
    assert thread_url(threads["contact"]) in search(as_sam, "olga")
    assert thread_url(threads["contact"]) in search(as_sam, "olga@o.example")
    assert thread_url(threads["subject"]) in search(as_sam, "Carol Client")


HTML_ONLY_BODY = (
    "<div><p>The&nbsp;pallets are <b>ready</b>.</p><p>Collect&nbsp;&amp; sign"
    "</p><style>p { color: red }</style></div>"
)


def store_html_only_mail(mailbox: Mailbox) -> Message:
    """Mail with no text part, stored the way the sync stores it."""
    parsed = ParsedMessage(
        message_id="<html-only@client.example>",
        in_reply_to="",
        references=[],
        subject="Collection",
        sent_at=timezone.now(),
        sender=Address(CAROL, "Carol Client"),
        to=[Address(mailbox.address)],
        html_body=HTML_ONLY_BODY,
    )
    record_inbound_messages(
        mailbox=MailboxRef(
            id=mailbox.pk,
            account_id=mailbox.account_id,
            employee_id=mailbox.employee_id,
            addresses=frozenset({mailbox.address}),
        ),
        messages=[IncomingMessage("h1", "ht1", parsed)],
    )
    return Message.objects.get(rfc_message_id="<html-only@client.example>")


def test_html_only_mail_is_found_by_its_text_and_has_a_snippet(
    as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    message = store_html_only_mail(sams_mailbox)

    found = search(as_sam, "pallets")
    page = as_sam.get(thread_url(message.thread_id)).text

    assert thread_url(message.thread_id) in found
    assert thread_url(message.thread_id) not in search(as_sam, "color")
    assert message.snippet == "The pallets are ready. Collect & sign"
    assert message.html_body == HTML_ONLY_BODY
    assert 'class="message-frame"' in page and 'class="message-text"' not in page


def test_html_only_mail_stored_earlier_is_given_its_text_by_a_migration(
    as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    thread = thread_with(
        carol, sams_mailbox, text_body="", html_body="<p>Forklift&nbsp;&amp; crates</p>"
    )
    migration = importlib.import_module(
        "conversations.migrations.0005_html_only_message_text"
    )

    migration.derive_text(apps, None)

    message = thread.messages.get()
    assert (message.text_body, message.snippet) == ("Forklift & crates",) * 2
    assert thread_url(thread.pk) in search(as_sam, "forklift")


def test_search_on_postgresql_uses_full_text(
    postgresql: None, as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    from django.db import connection

    threads = searchable_threads(carol, sams_mailbox)
    html_only = store_html_only_mail(sams_mailbox).thread_id

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_indexes WHERE indexname = 'message_search_document'"
        )
        assert cursor.fetchone() is not None
    assert thread_url(threads["body"]) in search(as_sam, "shipment warehouse")
    assert thread_url(threads["body"]) not in search(as_sam, "shipment -warehouse")
    assert thread_url(threads["subject"]) in search(as_sam, "overdue")
    assert thread_url(html_only) in search(as_sam, "pallets sign")


def test_the_list_poll_answers_204_until_something_changes(
    as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    thread = thread_with(carol, sams_mailbox, subject="First")
    page = as_sam.get(reverse("conversations:inbox"))
    key = page.context["key"]
    updates = reverse("conversations:inbox_updates")

    unchanged = as_sam.get(updates, {"key": key})
    thread_with(carol, sams_mailbox, subject="Just arrived", start=timezone.now())
    changed = as_sam.get(updates, {"key": key})

    assert f'hx-get="{updates}?page=1&amp;key={key}"' in page.text
    assert 'hx-trigger="every 15s"' in page.text
    assert unchanged.status_code == 204
    assert changed.status_code == 200
    assert "Just arrived" in changed.text and thread_url(thread.pk) in changed.text
    assert changed.context["key"] != key


def test_the_thread_poll_brings_new_mail_and_send_states(
    as_sam: Client, sam: User, carol: Contact, sams_mailbox: Mailbox
) -> None:
    thread = thread_with(carol, sams_mailbox, text_body="Question")
    mine = outbound(thread, sams_mailbox, sam, text_body="My answer")
    page = as_sam.get(thread_url(thread.pk))
    key, first = page.context["key"], page.context["page"].first_id
    updates = reverse("conversations:thread_updates", args=[thread.pk])

    unchanged = as_sam.get(updates, {"key": key, "since": first})
    type(mine).objects.filter(pk=mine.pk).update(status="sent", sent_at=timezone.now())
    sent = as_sam.get(updates, {"key": key, "since": first})
    add_message(thread, sams_mailbox, text_body="A new reply from Carol")
    arrived = as_sam.get(updates, {"key": sent.context["key"], "since": first})

    assert 'hx-trigger="every 15s"' in page.text and "Sending" in page.text
    assert unchanged.status_code == 204
    assert sent.status_code == 200 and 'badge-ok">Sent' in sent.text
    assert "Question" in arrived.text and "A new reply from Carol" in arrived.text
