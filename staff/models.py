"""Invitations: how a new employee gets their first password."""

from __future__ import annotations

import enum
import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.tenancy import AccountOwned

INVITATION_LIFETIME = timedelta(days=7)


def digest_invitation_token(token: str) -> str:
    """Return the stored form of a token: a leaked table holds no link."""
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationState(enum.Enum):
    OPEN = "open"
    EXPIRED = "expired"
    USED = "used"


class Invitation(AccountOwned):
    """One emailed link to set a first password; it works once, for a week.

    Setting the password marks it accepted. Sending a new invitation, or
    deactivating the employee, expires the ones still open.
    """

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the employee asked for the link themselves.",
    )
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        get_latest_by = "sent_at"

    def __str__(self) -> str:
        return f"Invitation for {self.employee} sent {self.sent_at:%Y-%m-%d %H:%M}"

    @property
    def state(self) -> InvitationState:
        # A password set some other way (a password reset) uses the link up
        # too: it exists only to set the first one.
        if self.accepted_at is not None or self.employee.has_usable_password():
            return InvitationState.USED
        if self.expires_at <= timezone.now() or not self.employee.is_active:
            return InvitationState.EXPIRED
        return InvitationState.OPEN
