"""Creating accounts and the people who sign in to them; ending sessions."""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.db import transaction

from accounts.models import Account, User, normalize_login_email


def login_is_taken(email: str) -> bool:
    """Tell whether anybody, in any account, signs in with ``email``."""
    return User.objects.filter(email__iexact=normalize_login_email(email)).exists()


def _ensure_login_is_free(email: str) -> str:
    email = normalize_login_email(email)
    if login_is_taken(email):
        raise ValueError(f"{email} is already used as a login.")
    return email


@transaction.atomic
def create_account_with_admin(
    *, name: str, admin_email: str, admin_name: str, password: str | None = None
) -> User:
    """Create an Account and its first Admin; return the Admin."""
    email = _ensure_login_is_free(admin_email)
    account = Account.objects.create(name=name.strip())
    return User.objects.create_user(
        email,
        password,
        full_name=admin_name.strip(),
        account=account,
        role=User.Role.ADMIN,
    )


def create_support_user(*, email: str, full_name: str, password: str) -> User:
    email = _ensure_login_is_free(email)
    return User.objects.create_user(
        email, password, full_name=full_name, is_staff=True, is_superuser=True
    )


def end_all_sessions(*, user: User) -> int:
    """Sign ``user`` out everywhere by deleting their sessions from the store.

    allauth.usersessions records each session at sign-in, whatever the
    session backend. A session it never saw (one started before it was
    installed) cannot be found this way, but it stops working anyway once
    the user is inactive, because the backend refuses inactive users.
    Return how many sessions were ended.
    """
    sessions = list(UserSession.objects.filter(user=user))
    for session in sessions:
        session.end()
    return len(sessions)
