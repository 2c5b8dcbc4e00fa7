"""Token refresh, revoked grants, key rotation, and no token in clear text."""

from __future__ import annotations

import base64
import json
import logging
import pickle
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage
from django_q.tasks import async_task

from accounts.models import User
from mailsync.errors import ProviderError
from mailsync.models import Mailbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from mailsync.services.tokens import fresh_access_token, refresh_expiring_tokens
from mailsync.tasks import sync_due_mailboxes
from tests.mailsync.oauth_browser import connect_through_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def gmail_mailbox(
    client: Client, settings_employee: User, google_sandbox: GoogleSandboxControl
) -> Mailbox:
    google_sandbox.create_user("gina@gmail.test", "Gina")
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")
    connect_through_consent(client, "google", account="gina@gmail.test")
    return Mailbox.objects.get()


def expire_soon(mailbox: Mailbox) -> None:
    mailbox.access_token_expires_at = timezone.now() + timedelta(minutes=1)
    mailbox.save()


def test_a_valid_token_is_used_as_it_is(gmail_mailbox: Mailbox) -> None:
    assert fresh_access_token(mailbox_id=gmail_mailbox.pk) == gmail_mailbox.access_token


def test_a_token_near_expiry_is_refreshed_ahead(gmail_mailbox: Mailbox) -> None:
    old = gmail_mailbox.access_token
    expire_soon(gmail_mailbox)

    new = fresh_access_token(mailbox_id=gmail_mailbox.pk)

    gmail_mailbox.refresh_from_db()
    assert new != old
    assert gmail_mailbox.access_token == new
    expires_at = gmail_mailbox.access_token_expires_at
    assert expires_at is not None
    assert expires_at > timezone.now() + timedelta(minutes=50)


def test_the_scheduled_refresh_renews_only_what_expires_soon(
    gmail_mailbox: Mailbox,
) -> None:
    assert refresh_expiring_tokens() == 0

    expire_soon(gmail_mailbox)

    assert refresh_expiring_tokens() == 1


def test_a_revoked_grant_disconnects_the_mailbox_and_tells_the_employee(
    gmail_mailbox: Mailbox,
    google_sandbox: GoogleSandboxControl,
    client: Client,
    mailoutbox: list,
    django_capture_on_commit_callbacks,
) -> None:
    google_sandbox.revoke_grant("gina@gmail.test")
    expire_soon(gmail_mailbox)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ProviderError) as raised,
    ):
        fresh_access_token(mailbox_id=gmail_mailbox.pk)

    assert raised.value.permanent
    gmail_mailbox.refresh_from_db()
    assert gmail_mailbox.state == Mailbox.State.DISCONNECTED
    assert "revoked" in gmail_mailbox.state_reason
    assert not gmail_mailbox.refresh_token_encrypted
    assert [mail.to for mail in mailoutbox] == [["gina@northwind.test"]]
    banner = client.get(reverse("profile")).content.decode()
    assert "is disconnected" in banner and "Reconnect" in banner


def test_a_revoked_microsoft_grant_disconnects_too(
    client: Client,
    settings_employee: User,
    microsoft_sandbox: MicrosoftSandboxControl,
) -> None:
    microsoft_sandbox.create_user("owen@outlook.test", "Owen")
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")
    connect_through_consent(client, "microsoft", account="owen@outlook.test")
    mailbox = Mailbox.objects.get()
    microsoft_sandbox.revoke("owen@outlook.test")

    with pytest.raises(ProviderError):
        fresh_access_token(mailbox_id=mailbox.pk, force=True)

    mailbox.refresh_from_db()
    assert mailbox.state == Mailbox.State.DISCONNECTED


def test_key_rotation_re_encrypts_under_the_new_key(
    gmail_mailbox: Mailbox, settings
) -> None:
    token = gmail_mailbox.refresh_token
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, *settings.TOKEN_ENCRYPTION_KEYS]

    call_command("rotate_token_keys")

    settings.TOKEN_ENCRYPTION_KEYS = [new_key]
    gmail_mailbox.refresh_from_db()
    assert gmail_mailbox.refresh_token == token


def _encodings(token: str) -> list[bytes]:
    raw = token.encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        json.dumps(token).encode(),
        pickle.dumps(token),
        raw.hex().encode(),
    ]


def _stored_text(logs: str) -> dict[str, bytes]:
    """Everything RevStackr keeps, by the place it is kept in.

    Each table's rows as stored; the session store decoded; the task
    queue's payloads (signed pickles) and the finished tasks' arguments and
    results (pickles) decoded as django-q itself decodes them; and the logs.
    """
    places: dict[str, bytes] = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - our own table names
            rows: list[bytes] = []
            for row in cursor.fetchall():
                rows.append(repr(row).encode())
                rows.extend(
                    bytes(value) if isinstance(value, bytes | memoryview) else b""
                    for value in row
                )
            places[f"table {table}"] = b"\n".join(rows)

    places["sessions"] = b"\n".join(
        session.session_data.encode()
        + b"\n"
        + json.dumps(session.get_decoded()).encode()
        for session in Session.objects.all()
    )

    # A payload that does not verify fails the scan instead of going unread.
    places["queued tasks"] = b"\n".join(
        repr(SignedPackage.loads(queued.payload)).encode()
        for queued in OrmQ.objects.all()
    )
    places["task results"] = b"\n".join(
        repr((task.args, task.kwargs, task.result)).encode()
        for task in Task.objects.all()
    )

    places["logs"] = logs.encode()
    return places


def _places_holding(tokens: Iterable[str], *, logs: str) -> set[str]:
    """The places of ``_stored_text`` where any token is readable."""
    encoded = [variant for token in tokens for variant in _encodings(token)]
    return {
        place
        for place, text in _stored_text(logs).items()
        if any(variant in text for variant in encoded)
    }


def _run_through_the_worker(
    monkeypatch: pytest.MonkeyPatch, func: str, *args: Any, **kwargs: Any
) -> None:
    """Run a task in django-q's own worker, in this process, so that its row
    is saved as a cluster would save it."""
    with monkeypatch.context() as worker:
        # Sync mode keeps the test's database connection, which the worker
        # would otherwise close.
        worker.setattr(Conf, "SYNC", True)
        async_task(func, *args, **kwargs)


@pytest.fixture
def database_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Queue tasks in the database, where the scan reads them, even when the
    settings chose Redis."""
    monkeypatch.setattr(Conf, "ORM", "default")


@pytest.mark.usefixtures("database_queue")
@pytest.mark.parametrize(
    ("social_app", "account"),
    [("google", "gina@gmail.test"), ("microsoft", "owen@outlook.test")],
)
def test_no_token_is_stored_readable_anywhere(
    social_app: str,
    account: str,
    client: Client,
    settings_employee: User,
    google_sandbox: GoogleSandboxControl,
    microsoft_sandbox: MicrosoftSandboxControl,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    if social_app == "google":
        google_sandbox.create_user(account, "Gina")
    else:
        microsoft_sandbox.create_user(account, "Owen")
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")
    connect_through_consent(client, social_app, account=account, popup=True)
    mailbox = Mailbox.objects.get()
    tokens = {mailbox.access_token, mailbox.refresh_token}

    expire_soon(mailbox)
    fresh_access_token(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    tokens |= {mailbox.access_token, mailbox.refresh_token}
    # Microsoft rotates the refresh token: both generations are scanned.
    assert len(tokens) == (4 if social_app == "microsoft" else 3)

    _run_through_the_worker(monkeypatch, "mailsync.tasks.sync_one_mailbox", mailbox.pk)
    assert sync_due_mailboxes() == 1
    assert OrmQ.objects.count() == 1
    assert Task.objects.filter(success=True).count() == 1
    mailbox.refresh_from_db()
    tokens |= {mailbox.access_token, mailbox.refresh_token}
    assert all(len(token) > 10 for token in tokens)

    assert _places_holding(tokens, logs=caplog.text) == set()


@pytest.mark.usefixtures("database_queue")
def test_the_token_scan_finds_a_token_in_a_task_payload(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queued = "queued-" + secrets.token_urlsafe(24)
    ran = "ran-" + secrets.token_urlsafe(24)

    async_task("mailsync.tasks.sync_one_mailbox", 0, access_token=queued)
    # A finished task's row keeps its arguments; what it ran does not matter.
    _run_through_the_worker(monkeypatch, "builtins.len", ran)

    assert "queued tasks" in _places_holding([queued], logs="")
    assert "task results" in _places_holding([ran], logs="")
