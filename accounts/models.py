"""Accounts (the tenants) and the people who sign in."""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.db import models
from django.utils import timezone


class Account(models.Model):
    """One customer business. Every tenant-owned row points at one."""

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    import_window_days = models.PositiveSmallIntegerField(
        default=90,
        help_text="How far back a newly connected mailbox's mail is imported.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def normalize_login_email(email: str) -> str:
    """Return the form of an address used as a login: trimmed, lower case."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, email: str, password: str | None = None, **fields: Any
    ) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_login_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, email: str, password: str | None = None, **fields: Any
    ) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=normalize_login_email(username or ""))


TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


EMPLOYEE_PERMISSIONS = (
    "accounts.access_conversations",
    "accounts.access_contacts",
    "accounts.access_settings",
)


class User(AbstractBaseUser, PermissionsMixin):
    """An employee of one Account, or a member of RevStackr's support staff.

    Employees have an account and a role and are never ``is_staff``. Support
    staff have no account; they work in the Django admin only.
    """

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        USER = "user", "User"

    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    time_zone = models.CharField(
        max_length=64, choices=TIME_ZONE_CHOICES, default="UTC"
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="employees",
        null=True,
        blank=True,
        help_text="Empty for RevStackr support staff.",
    )
    signature = models.TextField(
        blank=True, help_text="Added below the email you write in RevStackr."
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.USER)
    is_active = models.BooleanField(
        default=True, help_text="Inactive people cannot sign in."
    )
    is_staff = models.BooleanField(
        "support staff",
        default=False,
        help_text="RevStackr support staff, who may use the Django admin.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        # The three switches an Admin turns on or off on My Staff. Admins
        # hold all three through accounts.backends.EmployeeBackend.
        permissions = [
            ("access_conversations", "Conversations: see and send email"),
            ("access_contacts", "Contacts: find and edit people"),
            ("access_settings", "Settings: open their own profile"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(is_staff=True) & models.Q(account__isnull=False)),
                name="employee_is_never_support_staff",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Logins compare case-insensitively; storing one form keeps the
        # unique constraint meaningful.
        self.email = normalize_login_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def employer(self) -> Account:
        """The employee's account; support staff have none (ValueError)."""
        if self.account is None:
            raise ValueError(f"{self.email} is support staff, not an employee.")
        return self.account

    @property
    def is_employee(self) -> bool:
        return self.account_id is not None

    @property
    def is_account_admin(self) -> bool:
        return self.is_employee and self.role == self.Role.ADMIN
