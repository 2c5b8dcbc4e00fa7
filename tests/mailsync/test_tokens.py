"""Token refresh, revoked grants, key rotation, and no token in clear text."""

from __future__ import annotations

import base64
import json
import logging
import pickle
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from mailsync.errors import ProviderError
from mailsync.models import Mailbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from mailsync.services.tokens import fresh_access_token, refresh_expiring_tokens
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


def test_no_token_is_stored_readable_anywhere(
    client: Client,
    settings_employee: User,
    google_sandbox: GoogleSandboxControl,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    google_sandbox.create_user("gina@gmail.test", "Gina")
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")
    connect_through_consent(client, "google", account="gina@gmail.test", popup=True)
    mailbox = Mailbox.objects.get()
    first_tokens = [mailbox.access_token, mailbox.refresh_token]
    expire_soon(mailbox)
    fresh_access_token(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    tokens = [*first_tokens, mailbox.access_token]
    assert all(len(token) > 10 for token in tokens)

    haystacks: list[bytes] = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
            for row in cursor.fetchall():
                haystacks.append(repr(row).encode())
                haystacks.extend(
                    bytes(value) if isinstance(value, bytes | memoryview) else b""
                    for value in row
                )
    for session in Session.objects.all():
        haystacks.append(session.session_data.encode())
        haystacks.append(json.dumps(session.get_decoded()).encode())
    haystacks.append(caplog.text.encode())
    everything = b"\n".join(haystacks)

    for token in tokens:
        for encoded in _encodings(token):
            assert encoded not in everything
