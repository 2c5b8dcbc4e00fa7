"""A valid access token for every provider call, refreshed ahead of expiry."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from mailsync.errors import ProviderError
from mailsync.models import Mailbox
from mailsync.oauth import refresh_access_token
from mailsync.services.connection import mark_disconnected

logger = logging.getLogger(__name__)

# Refresh this long before expiry, so a token never lapses mid-batch.
REFRESH_AHEAD = timedelta(minutes=5)


def fresh_access_token(*, mailbox_id: int, force: bool = False) -> str:
    """Return an access token valid for at least ``REFRESH_AHEAD``.

    The mailbox row is locked while refreshing, so two workers never
    refresh at once (Microsoft rotates refresh tokens: a lost race would
    leave a stale one stored). ``force`` refreshes even a token that looks
    valid, after the provider answered 401. A refused refresh makes the
    mailbox Disconnected and raises a permanent ``ProviderError``.
    """
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox_id)
        if not mailbox.refresh_token_encrypted:
            raise ProviderError("The mailbox is not connected.", permanent=True)
        expires_at = mailbox.access_token_expires_at
        if (
            not force
            and expires_at is not None
            and expires_at - timezone.now() > REFRESH_AHEAD
        ):
            return mailbox.access_token

        try:
            grant = refresh_access_token(
                provider=mailbox.provider, refresh_token=mailbox.refresh_token
            )
        except ProviderError as error:
            if not error.permanent:
                raise
            refused = error
        else:
            mailbox.set_tokens(
                access_token=grant.access_token,
                expires_at=grant.expires_at,
                refresh_token=grant.refresh_token,
            )
            mailbox.save(
                update_fields=[
                    "access_token_encrypted",
                    "access_token_expires_at",
                    "refresh_token_encrypted",
                ]
            )
            logger.info("refreshed the access token of mailbox %s", mailbox_id)
            return grant.access_token

    mark_disconnected(mailbox_id=mailbox_id, reason=refused.reason)
    raise refused


def refresh_expiring_tokens(*, within: timedelta = timedelta(minutes=15)) -> int:
    """Refresh each connected mailbox whose token expires soon; count them."""
    due = Mailbox.objects.filter(
        is_current=True,
        employee__is_active=True,
        access_token_expires_at__lt=timezone.now() + within,
    ).exclude(state=Mailbox.State.DISCONNECTED)
    refreshed = 0
    for mailbox_id in due.values_list("pk", flat=True):
        try:
            fresh_access_token(mailbox_id=mailbox_id)
        except ProviderError as error:
            logger.warning(
                "token refresh failed for mailbox %s (permanent=%s)",
                mailbox_id,
                error.permanent,
            )
            continue
        refreshed += 1
    return refreshed
