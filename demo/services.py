"""The demo account: who is in it, so the README's walk-through works."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Account, User

DEMO_PASSWORD = "revstackr-demo"  # noqa: S105 - printed to the demo's visitor


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    role: str
    note: str


DEMO_ACCOUNT_NAME = "Northwind Traders"
DEMO_LOGINS = (
    DemoLogin("admin@northwind.test", "Avery Admin", User.Role.ADMIN, "Admin"),
    DemoLogin("gina@northwind.test", "Gina Gmail", User.Role.USER, "connects Gmail"),
    DemoLogin(
        "owen@northwind.test", "Owen Outlook", User.Role.USER, "connects Outlook"
    ),
)
DEMO_SUPPORT = DemoLogin("support@revstackr.test", "Sam Support", "", "Django admin")


@transaction.atomic
def load_demo_account() -> Account:
    """Create the demo account and its people; a second run changes nothing."""
    account, _ = Account.objects.get_or_create(name=DEMO_ACCOUNT_NAME)

    for login in DEMO_LOGINS:
        if not User.objects.filter(email=login.email).exists():
            User.objects.create_user(
                login.email,
                DEMO_PASSWORD,
                full_name=login.name,
                account=account,
                role=login.role,
            )

    if not User.objects.filter(email=DEMO_SUPPORT.email).exists():
        User.objects.create_superuser(
            DEMO_SUPPORT.email, DEMO_PASSWORD, full_name=DEMO_SUPPORT.name
        )

    return account
