"""Creating accounts and the people who sign in to them."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Account, User, normalize_login_email


def _ensure_login_is_free(email: str) -> str:
    email = normalize_login_email(email)
    if User.objects.filter(email__iexact=email).exists():
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
