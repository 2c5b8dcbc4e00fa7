"""Contacts: the people an account does business with, and their addresses.

An address belongs to at most one contact of an account, so mail from or to
it lands on exactly one record. Addresses are matched in their normalised
form (trimmed, lower case); the form as typed is kept for display.

The search indexes that only PostgreSQL can build (prefix searches through
``text_pattern_ops``) live in migration 0002, which does nothing on SQLite.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import AccountOwned


def normalize_address(address: str) -> str:
    """Return the form of an address used for matching: trimmed, lower case."""
    return address.strip().lower()


def address_domain(normalized: str) -> str:
    return normalized.rpartition("@")[2]


class Contact(AccountOwned):
    """A person the account does business with."""

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_contacts",
        help_text="The employee who looks after this contact.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # One index per sort order of the contact list, so the first page
        # of a large account is read in order instead of sorted.
        indexes = [
            models.Index(
                "account",
                Lower("last_name"),
                Lower("first_name"),
                "id",
                name="contact_sort_name",
            ),
            models.Index(
                "account",
                Lower("company"),
                Lower("last_name"),
                "id",
                name="contact_sort_company",
            ),
            models.Index(
                fields=["account", "created_at", "id"], name="contact_sort_created"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("contacts:detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        """The name, else the primary address: a contact may have no name."""
        return self.full_name or self.primary_address or f"Contact {self.pk}"

    @property
    def sorted_emails(self) -> list[ContactEmail]:
        """The addresses, primary first; uses prefetched rows when present."""
        return sorted(
            self.emails.all(),
            key=lambda email: (not email.is_primary, email.normalized),
        )

    @property
    def primary_address(self) -> str:
        emails = self.sorted_emails
        return emails[0].address if emails else ""


class ContactEmail(AccountOwned):
    """One address of a contact. Each contact has exactly one primary address.

    ``account`` repeats the contact's account so that uniqueness per account
    is a database constraint; ``save`` keeps the two in step.
    """

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="emails"
    )
    address = models.EmailField(max_length=254, help_text="As typed, trimmed.")
    normalized = models.CharField(max_length=254, editable=False)
    domain = models.CharField(max_length=254, editable=False)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "contact email address"
        verbose_name_plural = "contact email addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "normalized"],
                name="contact_email_unique_per_account",
                violation_error_message=(
                    "This address already belongs to another contact."
                ),
            ),
            # "At most one" is the database's part; the services make sure
            # every contact keeps one.
            models.UniqueConstraint(
                fields=["contact"],
                condition=models.Q(is_primary=True),
                name="contact_email_one_primary",
            ),
        ]

    def __str__(self) -> str:
        return self.address

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.address = self.address.strip()
        self.normalized = normalize_address(self.address)
        self.domain = address_domain(self.normalized)
        if self.contact_id is not None:
            self.account_id = self.contact.account_id
        super().save(*args, **kwargs)


class ContactImport(AccountOwned):
    """An uploaded CSV file waiting between its preview and its confirmation.

    The file's text is kept in the database, not on one machine's disk, so
    the confirmation may reach any web server. It is emptied once imported,
    keeping only the report of refused rows; unconfirmed uploads are removed
    after a day (see ``services``).
    """

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    content = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # The refused rows' report (CSV), kept once the file's text is emptied.
    refused_rows = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    def get_absolute_url(self) -> str:
        return reverse("contacts:import_preview", args=[self.pk])
