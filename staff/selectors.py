"""Reads that the My Staff pages share."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.db.models import Prefetch

from accounts.models import EMPLOYEE_PERMISSIONS, Account, User
from mailsync.models import Mailbox
from staff.models import Invitation, InvitationState, digest_invitation_token


class StaffState(enum.Enum):
    INVITED = "Invited"
    ACTIVE = "Active"
    DEACTIVATED = "Deactivated"


@dataclass(frozen=True)
class StaffRow:
    """One employee as the My Staff list shows them."""

    employee: User
    state: StaffState
    permissions: frozenset[str]
    invitation: Invitation | None
    mailbox: Mailbox | None = None

    @property
    def invitation_expired(self) -> bool:
        return (
            self.state is StaffState.INVITED
            and self.invitation is not None
            and self.invitation.state is InvitationState.EXPIRED
        )


def staff_state(employee: User) -> StaffState:
    if not employee.is_active:
        return StaffState.DEACTIVATED
    if not employee.has_usable_password():
        return StaffState.INVITED
    return StaffState.ACTIVE


def employee_permissions(employee: User) -> frozenset[str]:
    """Return the employee permissions ``employee`` holds, Admins all three."""
    if employee.is_account_admin:
        return frozenset(EMPLOYEE_PERMISSIONS)
    stored = {
        f"{permission.content_type.app_label}.{permission.codename}"
        for permission in employee.user_permissions.all()
    }
    return frozenset(stored & set(EMPLOYEE_PERMISSIONS))


def list_staff(*, account: Account) -> list[StaffRow]:
    employees = (
        User.objects.filter(account=account)
        .order_by("full_name", "email")
        .prefetch_related(
            "user_permissions__content_type",
            Prefetch(  # type: ignore[type-var]
                "mailboxes",
                queryset=Mailbox.objects.filter(is_current=True),
                to_attr="current_mailboxes",
            ),
            Prefetch(
                "invitations",
                queryset=Invitation.objects.order_by("-sent_at"),
                to_attr="invitations_newest_first",
            ),
        )
    )
    return [
        StaffRow(
            employee=employee,
            state=staff_state(employee),
            permissions=employee_permissions(employee),
            invitation=next(iter(employee.invitations_newest_first), None),
            mailbox=next(iter(employee.current_mailboxes), None),
        )
        for employee in employees
    ]


def find_invitation(token: str) -> Invitation | None:
    """Return the invitation a link carries, or None for an unknown link."""
    return (
        Invitation.objects.select_related("employee", "employee__account")
        .filter(token_digest=digest_invitation_token(token))
        .first()
    )
