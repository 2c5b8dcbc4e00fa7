"""Rows for the My Staff tests: invited employees and their invitations."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import Account, User
from staff.models import INVITATION_LIFETIME, Invitation, digest_invitation_token
from tests.factories import EmployeeFactory


def grant(user: User, *permissions: str) -> User:
    """Give ``user`` the named permissions ("accounts.access_contacts")."""
    for permission in permissions:
        app_label, codename = permission.split(".", 1)
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def permission_names(user: User, names: Iterable[str]) -> set[str]:
    """Return those of ``names`` that ``user`` holds, read afresh."""
    fresh = User.objects.get(pk=user.pk)
    return {name for name in names if fresh.has_perm(name)}


def invite(
    *, account: Account | None = None, sent_ago: timedelta = timedelta(0), **fields
) -> tuple[Invitation, str]:
    """Create an invited employee (no password yet) and their invitation.

    Return the invitation and the token its link carries.
    """
    if account is not None:
        fields["account"] = account
    employee = EmployeeFactory(**fields)
    employee.set_unusable_password()
    employee.save(update_fields=["password"])
    token = secrets.token_urlsafe(16)
    sent_at = timezone.now() - sent_ago
    invitation = Invitation.objects.create(
        account_id=employee.account_id,
        employee=employee,
        token_digest=digest_invitation_token(token),
        sent_at=sent_at,
        expires_at=sent_at + INVITATION_LIFETIME,
    )
    return invitation, token
