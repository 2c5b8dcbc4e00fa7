"""Connecting, reconnecting, replacing and disconnecting a mailbox.

A mailbox is only ever bound to the employee who completed the consent
(the signed-in user at the OAuth callback): no argument here names another
employee, and nothing here signs anyone in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from mailsync.errors import ProviderError
from mailsync.models import Mailbox
from mailsync.oauth import (
    ConsentMissing,
    missing_scopes,
    refresh_access_token,
    revoke_grant,
)
from mailsync.providers.base import provider_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsentResult:
    """What the provider handed over at the end of the consent screen."""

    provider: str  # Mailbox.Provider value
    address: str
    provider_user_id: str
    access_token: str
    refresh_token: str
    expires_at: datetime | None


class ConnectionRefused(Exception):
    """The consent cannot become a mailbox; ``message`` tells the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def current_mailbox(employee: User) -> Mailbox | None:
    return Mailbox.objects.filter(employee=employee, is_current=True).first()


def connect_mailbox(*, employee: User, consent: ConsentResult) -> Mailbox:
    """Turn a completed consent into the employee's mailbox.

    The same address as the current mailbox reconnects it, keeping its
    history and sync position. A different address becomes a pending
    mailbox that the employee must confirm (``confirm_replacement``) before
    it replaces the current one. A consent without offline access or
    without the read and send scopes is revoked and refused, leaving
    nothing behind.
    """
    if not consent.refresh_token:
        revoke_grant(provider=consent.provider, refresh_token=consent.access_token)
        raise ConnectionRefused(
            "The provider did not allow RevStackr to stay connected while you are "
            "away (no offline access). Connect again and allow it."
        )

    # A refresh answers with the scopes actually granted, which the first
    # exchange does not report to allauth's adapter.
    # Microsoft refuses a refresh that asks for more than was granted.
    try:
        grant = refresh_access_token(
            provider=consent.provider, refresh_token=consent.refresh_token
        )
    except ConsentMissing as error:
        revoke_grant(provider=consent.provider, refresh_token=consent.refresh_token)
        raise ConnectionRefused(
            "RevStackr needs both to read and to send your email, but not all of "
            "it was allowed. Connect again and leave every permission ticked."
        ) from error
    except ProviderError as error:
        raise ConnectionRefused(
            f"The connection could not be completed: {error.reason} Try again."
        ) from error
    missing = missing_scopes(consent.provider, grant.scopes)
    if missing:
        revoke_grant(provider=consent.provider, refresh_token=consent.refresh_token)
        raise ConnectionRefused(
            "RevStackr needs both to read and to send your email, but these were "
            f"not allowed: {', '.join(missing)}. Connect again and leave them ticked."
        )

    try:
        identity = provider_for(consent.provider, grant.access_token).fetch_identity()
    except ProviderError as error:
        revoke_grant(provider=consent.provider, refresh_token=consent.refresh_token)
        raise ConnectionRefused(
            f"The mailbox could not be read: {error.reason} Try again."
        ) from error

    address = identity.address or consent.address.strip().lower()
    with transaction.atomic():
        current = (
            Mailbox.objects.select_for_update()
            .filter(employee=employee, is_current=True)
            .first()
        )
        Mailbox.objects.filter(
            employee=employee, is_current=False, state=Mailbox.State.PENDING
        ).delete()

        # The same mailbox only at the same provider: an address that moved
        # from Gmail to Outlook is another mailbox, with other ids.
        if (
            current is not None
            and current.provider == consent.provider
            and current.address == address
        ):
            mailbox = current
        else:
            mailbox = Mailbox(
                account=employee.account,
                employee=employee,
                is_current=current is None,
            )
        mailbox.provider = consent.provider
        mailbox.address = address
        mailbox.aliases = identity.aliases
        mailbox.provider_user_id = consent.provider_user_id
        mailbox.granted_scopes = grant.scopes
        mailbox.set_tokens(
            access_token=grant.access_token,
            expires_at=grant.expires_at,
            refresh_token=grant.refresh_token or consent.refresh_token,
        )
        mailbox.state = (
            Mailbox.State.PENDING if not mailbox.is_current else _resumed_state(mailbox)
        )
        mailbox.state_reason = ""
        mailbox.failure_count = 0
        mailbox.backoff_until = None
        mailbox.disconnected_at = None
        mailbox.connected_at = timezone.now()
        mailbox.save()

    logger.info("mailbox %s connected (%s)", mailbox.pk, mailbox.state)
    return mailbox


def _resumed_state(mailbox: Mailbox) -> str:
    # A mailbox that synced before continues from its cursor; a new one
    # starts with the first import.
    if mailbox.last_synced_at is not None:
        return Mailbox.State.ACTIVE
    return Mailbox.State.IMPORTING


@transaction.atomic
def confirm_replacement(*, employee: User, mailbox_id: int) -> Mailbox:
    """Make the employee's pending mailbox current, retiring the old one.

    The mail the old mailbox brought in stays on the contact records.
    """
    pending = Mailbox.objects.select_for_update().get(
        pk=mailbox_id, employee=employee, state=Mailbox.State.PENDING
    )
    old = (
        Mailbox.objects.select_for_update()
        .filter(employee=employee, is_current=True)
        .first()
    )
    if old is not None:
        _retire(old, reason=f"Replaced by {pending.address}")
    pending.is_current = True
    pending.state = _resumed_state(pending)
    pending.save()
    return pending


@transaction.atomic
def cancel_replacement(*, employee: User, mailbox_id: int) -> None:
    pending = Mailbox.objects.filter(
        pk=mailbox_id, employee=employee, state=Mailbox.State.PENDING
    ).first()
    if pending is None:
        return
    revoke_grant(provider=pending.provider, refresh_token=pending.refresh_token)
    pending.delete()


@transaction.atomic
def disconnect_mailbox(*, employee: User) -> Mailbox | None:
    """Revoke the grant, stop the sync and keep the imported mail; return
    the mailbox disconnected, if there was one."""
    mailbox = (
        Mailbox.objects.select_for_update()
        .filter(employee=employee, is_current=True)
        .first()
    )
    if mailbox is None:
        return None
    revoke_grant(provider=mailbox.provider, refresh_token=mailbox.refresh_token)
    mailbox.clear_tokens()
    mailbox.state = Mailbox.State.DISCONNECTED
    mailbox.state_reason = "You disconnected it"
    mailbox.disconnected_at = timezone.now()
    mailbox.save()
    return mailbox


def _retire(mailbox: Mailbox, *, reason: str) -> None:
    revoke_grant(provider=mailbox.provider, refresh_token=mailbox.refresh_token)
    mailbox.clear_tokens()
    mailbox.is_current = False
    mailbox.state = Mailbox.State.DISCONNECTED
    mailbox.state_reason = reason
    mailbox.disconnected_at = timezone.now()
    mailbox.save()


def mark_disconnected(*, mailbox_id: int, reason: str) -> None:
    """Record a permanent provider failure and tell the employee.

    The employee sees a banner on every page and gets an email; the
    account's Admins see the state on My Staff.
    """
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox_id)
        if mailbox.state == Mailbox.State.DISCONNECTED:
            return
        mailbox.clear_tokens()
        mailbox.state = Mailbox.State.DISCONNECTED
        mailbox.state_reason = reason
        mailbox.disconnected_at = timezone.now()
        mailbox.save()
        employee = mailbox.employee

    logger.warning(
        "mailbox %s disconnected by a permanent provider failure", mailbox_id
    )
    transaction.on_commit(
        lambda: send_mail(
            subject="Your mailbox is disconnected from RevStackr",
            message=(
                f"RevStackr can no longer reach {mailbox.address}: {reason}\n\n"
                "Email with your contacts will not appear in RevStackr until you "
                "reconnect it under Settings > My Profile:\n"
                f"{settings.SITE_URL}{reverse('profile')}\n"
            ),
            from_email=None,
            recipient_list=[employee.email],
        )
    )
