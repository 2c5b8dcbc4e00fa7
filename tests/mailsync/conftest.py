from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import User
from mailsync.models import Mailbox
from mailsync.sandbox import Sandbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from mailsync.services.sync import sync_mailbox
from tests.factories import EmployeeFactory


@pytest.fixture
def google_sandbox(sandbox: Sandbox) -> GoogleSandboxControl:
    return GoogleSandboxControl(sandbox.base_url)


@pytest.fixture
def microsoft_sandbox(sandbox: Sandbox) -> MicrosoftSandboxControl:
    return MicrosoftSandboxControl(sandbox.base_url)


@pytest.fixture
def settings_employee(db: None) -> User:
    """An employee (not an Admin) allowed to open their own profile."""
    employee = EmployeeFactory(email="gina@northwind.test")
    employee.user_permissions.add(Permission.objects.get(codename="access_settings"))
    return employee


ConnectMailbox = Callable[..., Mailbox]


@pytest.fixture
def connect_mailbox(
    settings: Any,
    google_sandbox: GoogleSandboxControl,
    microsoft_sandbox: MicrosoftSandboxControl,
) -> ConnectMailbox:
    """Create a sandbox mailbox and connect it to ``employee``.

    The grant is issued by the sandbox without its consent screen (the
    connect flow has its own tests); everything after it, tokens included,
    is as real as after a consent.
    """

    def connect(
        employee: User,
        provider: str,
        address: str,
        *,
        aliases: tuple[str, ...] = (),
    ) -> Mailbox:
        if provider == Mailbox.Provider.GMAIL:
            google_sandbox.create_user(address, address, aliases=list(aliases))
            tokens = google_sandbox.grant(
                address,
                settings.GOOGLE_SCOPES,
                client_id=settings.SOCIALACCOUNT_PROVIDERS["google"]["APPS"][0][
                    "client_id"
                ],
            )
        else:
            microsoft_sandbox.create_user(
                address, address, proxy_addresses=[f"smtp:{a}" for a in aliases]
            )
            tokens = microsoft_sandbox.issue_token(
                address,
                scopes=" ".join(settings.MICROSOFT_SCOPES),
                client_id=settings.SOCIALACCOUNT_PROVIDERS["microsoft"]["APPS"][0][
                    "client_id"
                ],
            )
        mailbox = Mailbox(
            account=employee.account,
            employee=employee,
            provider=provider,
            address=address,
            aliases=list(aliases),
            granted_scopes=str(tokens.get("scope", "")).split(),
        )
        mailbox.set_tokens(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            expires_at=timezone.now() + timedelta(seconds=int(tokens["expires_in"])),
        )
        mailbox.save()
        return mailbox

    return connect


def sync_until_idle(mailbox: Mailbox, *, rounds: int = 50) -> None:
    """Run sync tasks as the worker would, until the mailbox is caught up."""
    for _ in range(rounds):
        outcome = sync_mailbox(mailbox_id=mailbox.pk)
        if not outcome.more:
            mailbox.refresh_from_db()
            return
    raise AssertionError("the sync did not catch up")
