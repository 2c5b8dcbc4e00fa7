"""Connected mailboxes and what the sync knows about each."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.tenancy import AccountOwned
from mailsync.crypto import decrypt_token, encrypt_token


class Mailbox(AccountOwned):
    """One employee's connected Gmail or Outlook mailbox.

    It belongs to that employee alone. An employee has at most one current
    mailbox; a replaced one is kept (not current) so the mail it brought in
    stays linked to it. Tokens are stored only encrypted.
    """

    class Provider(models.TextChoices):
        GMAIL = "gmail", "Gmail"
        OUTLOOK = "outlook", "Outlook"

    class Sharing(models.TextChoices):
        EVERYTHING = "everything", "Everything"
        METADATA = "metadata", "Subject and participants only"
        EXISTENCE = "existence", "Only that a conversation exists"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        IMPORTING = "importing", "Importing"
        ACTIVE = "active", "Active"
        BACKING_OFF = "backing_off", "Retrying"
        DISCONNECTED = "disconnected", "Disconnected"

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailboxes"
    )
    is_current = models.BooleanField(default=True)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    address = models.EmailField(max_length=254)
    aliases = models.JSONField(default=list, blank=True)
    provider_user_id = models.CharField(max_length=255, blank=True)
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.IMPORTING
    )
    state_reason = models.CharField(max_length=500, blank=True)
    granted_scopes = models.JSONField(default=list, blank=True)
    access_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=1000, blank=True)
    failure_count = models.PositiveIntegerField(default=0)
    backoff_until = models.DateTimeField(null=True, blank=True)
    # How much of this mailbox's mail teammates see; the owner always sees
    # all of it, and Admins do not override it.
    sharing = models.CharField(
        max_length=12, choices=Sharing.choices, default=Sharing.EVERYTHING
    )

    # Sync position. The provider module owns the cursor's shape (Gmail: a
    # history id; Graph: a delta link per folder); it only moves after the
    # batch it describes is stored.
    cursor = models.JSONField(default=dict, blank=True)
    import_done = models.PositiveIntegerField(default=0)
    import_total = models.PositiveIntegerField(null=True, blank=True)
    # One worker syncs a mailbox at a time: the one holding an unexpired
    # lease. A crashed worker's lease runs out and the mailbox is taken up
    # again by the next scheduled sweep.
    # Addresses newly added to contacts, whose past mail the next sync
    # step fetches. Kept apart from the cursor so that adding them never
    # races with a running sync saving its cursor.
    backfill_addresses = models.JSONField(default=list, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "mailboxes"
        constraints = [
            models.UniqueConstraint(
                fields=["employee"],
                condition=models.Q(is_current=True),
                name="one_current_mailbox_per_employee",
            )
        ]
        indexes = [models.Index(fields=["state", "backoff_until"])]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.address}"

    # Tokens are never exposed as plain fields, so they cannot leak through
    # a form, a serializer or a repr by accident.

    @property
    def access_token(self) -> str:
        return decrypt_token(self.access_token_encrypted)

    @property
    def refresh_token(self) -> str:
        return decrypt_token(self.refresh_token_encrypted)

    def set_tokens(
        self,
        *,
        access_token: str,
        expires_at: datetime | None,
        refresh_token: str | None = None,
    ) -> None:
        self.access_token_encrypted = encrypt_token(access_token)
        self.access_token_expires_at = expires_at
        if refresh_token:
            self.refresh_token_encrypted = encrypt_token(refresh_token)

    def clear_tokens(self) -> None:
        self.access_token_encrypted = ""
        self.refresh_token_encrypted = ""
        self.access_token_expires_at = None

    @property
    def is_connected(self) -> bool:
        return self.state not in (self.State.DISCONNECTED, self.State.PENDING)

    @property
    def status_label(self) -> str:
        """The state in the words My Profile and My Staff show."""
        if self.state == self.State.IMPORTING:
            return "Connected, importing"
        if self.state == self.State.ACTIVE:
            return "Connected"
        if self.state == self.State.BACKING_OFF:
            return "Connected, retrying"
        if self.state == self.State.PENDING:
            return "Waiting for your confirmation"
        return f"Disconnected: {self.state_reason or 'reconnect to resume'}"


class SyncRun(models.Model):
    """One sync task's work on one mailbox, for support staff."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=20)  # import, incremental, resync
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    stored = models.PositiveIntegerField(default=0)
    linked = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["mailbox", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.kind} of {self.mailbox_id} at {self.started_at:%Y-%m-%d %H:%M}"
