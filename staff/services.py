"""My Staff: add employees, invite them, change their access, deactivate.

Every function here either completes or changes nothing: each runs in one
transaction, and an invitation that cannot be mailed rolls back the change
that needed it, so the Admin can simply try again.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Collection
from datetime import datetime

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import EMPLOYEE_PERMISSIONS, Account, User, normalize_login_email
from accounts.services import end_all_sessions, login_is_taken
from staff.models import (
    INVITATION_LIFETIME,
    Invitation,
    InvitationState,
    digest_invitation_token,
)

logger = logging.getLogger(__name__)

LOGIN_TAKEN_MESSAGE = (
    "This email address already signs in to RevStackr. Use a different address."
)


class InvitationNotSent(Exception):
    """The mail server refused the invitation or could not be reached."""


@transaction.atomic
def add_employee(
    *,
    account: Account,
    added_by: User,
    full_name: str,
    email: str,
    role: str,
    permissions: Collection[str],
    site_url: str,
) -> User:
    """Create an employee without a password and mail them an invitation."""
    email = normalize_login_email(email)
    if login_is_taken(email):
        raise ValidationError({"email": LOGIN_TAKEN_MESSAGE}, code="login_taken")

    try:
        # A savepoint, so that losing a race for the address leaves the outer
        # transaction usable on PostgreSQL.
        with transaction.atomic():
            employee = User.objects.create_user(
                email, None, full_name=full_name.strip(), account=account, role=role
            )
    except IntegrityError as error:
        raise ValidationError(
            {"email": LOGIN_TAKEN_MESSAGE}, code="login_taken"
        ) from error
    _set_permissions(employee=employee, permissions=permissions)

    send_invitation(employee=employee, sent_by=added_by, site_url=site_url)
    logger.info("Employee %s added to account %s", employee.pk, account.pk)
    return employee


@transaction.atomic
def send_invitation(
    *, employee: User, sent_by: User | None, site_url: str
) -> Invitation:
    """Mail ``employee`` a fresh link to set their first password.

    Links sent before stop working, so only the newest email counts.
    """
    if not employee.is_active:
        raise ValidationError(
            "Reactivate this employee before inviting them.", code="inactive"
        )
    if employee.has_usable_password():
        raise ValidationError(
            "This employee has already set a password; they can sign in or use "
            "“Forgot your password?” on the sign-in page.",
            code="already_active",
        )

    now = timezone.now()
    _expire_open_invitations(employee=employee, now=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        account_id=_account_id(employee),
        employee=employee,
        token_digest=digest_invitation_token(token),
        sent_by=sent_by,
        sent_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )

    link = site_url.rstrip("/") + reverse("staff:accept_invitation", args=[token])
    _mail(
        "staff/email/invitation",
        to=employee.email,
        context={"employee": employee, "invitation": invitation, "link": link},
    )
    return invitation


def request_new_invitation(*, email: str, site_url: str) -> None:
    """Answer a person who asks for a new invitation at ``email``.

    An employee who is still invited gets a fresh link; one who has a
    password gets a reminder to sign in. Anybody else gets nothing, and the
    caller is told nothing either way, so the form reveals no address.
    """
    employee = (
        User.objects.filter(
            email__iexact=normalize_login_email(email),
            account__isnull=False,
            is_active=True,
        )
        .select_related("account")
        .first()
    )
    if employee is None:
        return

    base = site_url.rstrip("/")
    try:
        if employee.has_usable_password():
            _mail(
                "staff/email/already_set_up",
                to=employee.email,
                context={
                    "employee": employee,
                    "sign_in_link": base + reverse("account_login"),
                    "reset_link": base + reverse("account_reset_password"),
                },
            )
        else:
            send_invitation(employee=employee, sent_by=None, site_url=site_url)
    except InvitationNotSent:
        # Saying so would tell the visitor that the address exists.
        logger.warning("New invitation for employee %s not sent", employee.pk)


@transaction.atomic
def accept_invitation(*, invitation: Invitation, password: str) -> User:
    """Set the employee's first password; the link is used up by it."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    employee = invitation.employee
    if invitation.state is not InvitationState.OPEN:
        raise ValidationError(
            "This invitation can no longer be used.", code="invitation_closed"
        )

    employee.set_password(password)
    employee.save(update_fields=["password"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    logger.info("Employee %s accepted their invitation", employee.pk)
    return employee


@transaction.atomic
def update_employee(
    *, employee: User, full_name: str, role: str, permissions: Collection[str]
) -> User:
    """Change an employee's name, role and permissions.

    Admins hold every permission whatever is stored; storing all three for
    them too means a later demotion starts from everything on.
    """
    employee = _lock_employee(employee)
    _ensure_account_keeps_an_admin(
        employee=employee, role=role, is_active=employee.is_active, field="role"
    )

    employee.full_name = full_name.strip()
    employee.role = role
    employee.save(update_fields=["full_name", "role"])
    if role == User.Role.ADMIN:
        permissions = EMPLOYEE_PERMISSIONS
    _set_permissions(employee=employee, permissions=permissions)
    return employee


@transaction.atomic
def deactivate_employee(*, employee: User) -> User:
    """Stop ``employee`` from signing in and end the sessions they have.

    ``User.is_active`` is the one switch: sign-in, permissions and mail sync
    all read it, so nothing else needs turning off.
    """
    employee = _lock_employee(employee)
    _ensure_account_keeps_an_admin(
        employee=employee, role=employee.role, is_active=False, field=None
    )

    employee.is_active = False
    employee.save(update_fields=["is_active"])
    _expire_open_invitations(employee=employee, now=timezone.now())

    ended = end_all_sessions(user=employee)
    logger.info("Employee %s deactivated; %d sessions ended", employee.pk, ended)
    return employee


@transaction.atomic
def reactivate_employee(*, employee: User) -> User:
    """Let a deactivated employee sign in again, with the access they had."""
    employee = _lock_employee(employee)
    employee.is_active = True
    employee.save(update_fields=["is_active"])
    logger.info("Employee %s reactivated", employee.pk)
    return employee


def _account_id(employee: User) -> int:
    if employee.account_id is None:
        raise ValueError("Support staff belong to no account's staff.")
    return employee.account_id


def _lock_employee(employee: User) -> User:
    # Changes to one account's staff queue behind the account row, so two
    # Admins demoting each other at once cannot leave the account with none.
    Account.objects.select_for_update().get(pk=_account_id(employee))
    return User.objects.select_for_update().get(pk=employee.pk)


def _ensure_account_keeps_an_admin(
    *, employee: User, role: str, is_active: bool, field: str | None
) -> None:
    stays_admin = role == User.Role.ADMIN and is_active
    if stays_admin or not (employee.is_account_admin and employee.is_active):
        return

    other_admins = User.objects.filter(
        account_id=_account_id(employee), role=User.Role.ADMIN, is_active=True
    ).exclude(pk=employee.pk)
    if not other_admins.exists():
        message = (
            f"{employee} is the only active Admin of this account. "
            "Make another employee an Admin first."
        )
        raise ValidationError({field: message} if field else message, "last_admin")


def _set_permissions(*, employee: User, permissions: Collection[str]) -> None:
    unknown = set(permissions) - set(EMPLOYEE_PERMISSIONS)
    if unknown:
        raise ValueError(f"Not an employee permission: {sorted(unknown)}")

    by_name = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.filter(
            content_type__app_label="accounts",
            codename__in=[name.split(".", 1)[1] for name in EMPLOYEE_PERMISSIONS],
        ).select_related("content_type")
    }
    employee.user_permissions.remove(
        *(by_name[name] for name in EMPLOYEE_PERMISSIONS if name not in permissions)
    )
    employee.user_permissions.add(*(by_name[name] for name in permissions))


def _expire_open_invitations(*, employee: User, now: datetime) -> None:
    Invitation.objects.filter(
        employee=employee, accepted_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)


def _mail(template_prefix: str, *, to: str, context: dict[str, object]) -> None:
    subject = render_to_string(f"{template_prefix}_subject.txt", context)
    body = render_to_string(f"{template_prefix}_message.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [to])
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("Mail %s not sent: %s", template_prefix, type(error).__name__)
        raise InvitationNotSent from error
