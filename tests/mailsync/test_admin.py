"""Support staff's mailbox pages: each mailbox's own sync log, no tokens,
and the full resync."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mailsync.models import Mailbox, SyncRun
from tests.conversations.factories import MailboxFactory
from tests.factories import SupportUserFactory

pytestmark = pytest.mark.django_db

ACCESS_TOKEN = "ya29.the-access-token"
REFRESH_TOKEN = "1//the-refresh-token"


@pytest.fixture
def support(client: Client) -> Client:
    client.force_login(SupportUserFactory())
    return client


def connected_mailbox(address: str) -> Mailbox:
    mailbox = MailboxFactory(address=address)
    mailbox.set_tokens(
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    mailbox.cursor = {"history_id": "4242"}
    mailbox.save()
    return mailbox


def test_a_mailbox_page_shows_its_own_runs_however_busy_the_others(
    support: Client,
) -> None:
    quiet = connected_mailbox("quiet@gmail.test")
    busy = connected_mailbox("busy@gmail.test")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    SyncRun.objects.create(
        mailbox=quiet, kind="incremental", started_at=an_hour_ago, stored=7
    )
    SyncRun.objects.bulk_create(
        SyncRun(mailbox=busy, kind="incremental", stored=1) for _ in range(25)
    )

    quiet_page = support.get(reverse("admin:mailsync_mailbox_change", args=[quiet.pk]))
    busy_page = support.get(reverse("admin:mailsync_mailbox_change", args=[busy.pk]))

    assert quiet_page.status_code == 200
    assert len(quiet_page.context["inline_admin_formsets"][0].formset.forms) == 1
    assert len(busy_page.context["inline_admin_formsets"][0].formset.forms) == 20


def test_no_token_shows_on_the_mailbox_pages(support: Client) -> None:
    mailbox = connected_mailbox("gina@gmail.test")

    listed = support.get(reverse("admin:mailsync_mailbox_changelist"))
    opened = support.get(reverse("admin:mailsync_mailbox_change", args=[mailbox.pk]))

    assert "gina@gmail.test" in listed.text
    for page in (listed, opened):
        assert ACCESS_TOKEN not in page.text
        assert REFRESH_TOKEN not in page.text
        assert "token_encrypted" not in page.text


def test_a_full_resync_re_lists_from_the_import_window(support: Client) -> None:
    mailbox = connected_mailbox("gina@gmail.test")
    gone = connected_mailbox("gone@gmail.test")
    Mailbox.objects.filter(pk=gone.pk).update(state=Mailbox.State.DISCONNECTED)

    support.post(
        reverse("admin:mailsync_mailbox_changelist"),
        {"action": "full_resync", "_selected_action": [mailbox.pk, gone.pk]},
    )

    mailbox.refresh_from_db()
    gone.refresh_from_db()
    assert (mailbox.cursor, mailbox.state) == ({}, Mailbox.State.IMPORTING)
    assert gone.cursor == {"history_id": "4242"}  # reconnects first
