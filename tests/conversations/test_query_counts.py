"""Pages read a fixed number of queries, however long the history."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from contacts.models import Contact
from conversations.models import Attachment, Thread
from mailsync.models import Mailbox
from tests.conversations.factories import (
    MailboxFactory,
    add_messages,
    outbound,
    thread_with,
)

pytestmark = pytest.mark.django_db


def queries_of(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def grow_thread(thread: Thread, mailbox: Mailbox, sam: User, count: int) -> None:
    add_messages(thread, mailbox, count)
    sent = outbound(thread, mailbox, sam, status="sent")
    Attachment.objects.create(message=sent, filename="a.pdf")


def test_a_thread_of_a_thousand_messages_reads_as_few_queries_as_one_of_ten(
    as_sam: Client,
    sam: User,
    pat: User,
    carol: Contact,
    sams_mailbox: Mailbox,
    django_assert_max_num_queries: Any,
) -> None:
    pats_mailbox = MailboxFactory(employee=pat, sharing=Mailbox.Sharing.METADATA)
    small = thread_with(carol, sams_mailbox, messages=0)
    grow_thread(small, sams_mailbox, sam, 5)
    grow_thread(small, pats_mailbox, sam, 5)
    large = thread_with(carol, sams_mailbox, messages=0)
    grow_thread(large, sams_mailbox, sam, 500)
    grow_thread(large, pats_mailbox, sam, 500)

    expected = queries_of(as_sam, reverse("conversations:thread", args=[small.pk]))

    with django_assert_max_num_queries(expected):
        response = as_sam.get(reverse("conversations:thread", args=[large.pk]))
    assert response.context["page"].has_earlier
    assert len(response.context["page"].messages) == 20
    earlier = reverse("conversations:thread_earlier", args=[large.pk])
    first = response.context["page"].first_id
    with django_assert_max_num_queries(expected):
        more = as_sam.get(earlier, {"before": first})
    assert len(more.context["page"].messages) == 20
    assert all(m.id != first for m in more.context["page"].messages)


def test_the_contact_tab_and_the_inbox_read_a_fixed_number_of_queries(
    as_sam: Client,
    sam: User,
    pat: User,
    carol: Contact,
    sams_mailbox: Mailbox,
    django_assert_max_num_queries: Any,
) -> None:
    pats_mailbox = MailboxFactory(employee=pat)
    for _ in range(2):
        thread_with(carol, sams_mailbox, messages=2)
    tab = reverse("contacts:conversations", args=[carol.pk])
    inbox = reverse("conversations:inbox")
    expected_tab = queries_of(as_sam, tab)
    expected_inbox = queries_of(as_sam, inbox)
    searched = queries_of(as_sam, f"{inbox}?q=proposal&unread=on&mine=1")

    for index in range(60):
        mailbox = pats_mailbox if index % 2 else sams_mailbox
        thread_with(carol, mailbox, messages=3)

    with django_assert_max_num_queries(expected_tab):
        page = as_sam.get(tab)
    assert len(page.context["page"].object_list) == 25
    with django_assert_max_num_queries(expected_inbox):
        as_sam.get(inbox)
    with django_assert_max_num_queries(searched):
        as_sam.get(f"{inbox}?q=proposal&unread=on&mine=1")
