"""The demo account: who is in it, so the README's walk-through works."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import EMPLOYEE_PERMISSIONS, Account, User
from staff.services import update_employee

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
            employee = User.objects.create_user(
                login.email,
                DEMO_PASSWORD,
                full_name=login.name,
                account=account,
                role=login.role,
            )
            # Everything on, as My Staff's Add Employee starts; only on
            # creation, so what an Admin changes in the demo stays.
            update_employee(
                employee=employee,
                full_name=login.name,
                role=login.role,
                permissions=EMPLOYEE_PERMISSIONS,
            )

    if not User.objects.filter(email=DEMO_SUPPORT.email).exists():
        User.objects.create_superuser(
            DEMO_SUPPORT.email, DEMO_PASSWORD, full_name=DEMO_SUPPORT.name
        )

    load_demo_contacts(account)
    return account


@dataclass(frozen=True)
class DemoContact:
    first_name: str
    last_name: str
    company: str
    phone: str
    addresses: tuple[str, ...]


DEMO_CONTACTS = (
    DemoContact(
        "Maria",
        "Lopez",
        "Contoso Foods",
        "+1 415 555 0101",
        ("maria.lopez@contoso.test",),
    ),
    DemoContact(
        "James",
        "Okafor",
        "Contoso Foods",
        "+1 415 555 0102",
        ("james.okafor@contoso.test", "jokafor@gmail.test"),
    ),
    DemoContact(
        "Hannah",
        "Schmidt",
        "Fabrikam Logistics",
        "+49 30 5550 1234",
        ("h.schmidt@fabrikam.test",),
    ),
    DemoContact(
        "Kenji",
        "Sato",
        "Fabrikam Logistics",
        "+81 3 5550 9876",
        ("kenji.sato@fabrikam.test",),
    ),
    DemoContact(
        "Priya",
        "Raman",
        "Tailspin Toys",
        "+44 20 7946 0011",
        ("priya@tailspin.test", "priya.raman@outlook.test"),
    ),
    DemoContact(
        "Oliver", "Bennett", "Tailspin Toys", "", ("oliver.bennett@tailspin.test",)
    ),
    DemoContact(
        "Sofia",
        "Rossi",
        "Adventure Works",
        "+39 02 5550 4433",
        ("sofia.rossi@adventure-works.test",),
    ),
    DemoContact(
        "Daniel",
        "Kim",
        "Adventure Works",
        "+1 206 555 0177",
        ("daniel.kim@adventure-works.test",),
    ),
    DemoContact(
        "Amara", "Nwosu", "Litware", "+234 1 555 0199", ("amara@litware.test",)
    ),
    DemoContact(
        "Lucas",
        "Moreau",
        "Wide World Importers",
        "+33 1 5550 2020",
        ("lucas.moreau@wideworld.test",),
    ),
    DemoContact(
        "Elena",
        "Petrova",
        "Wide World Importers",
        "",
        ("elena.petrova@wideworld.test", "elena.p@gmail.test"),
    ),
    DemoContact(
        "Tom",
        "Walsh",
        "Northwind Traders",
        "+1 312 555 0144",
        ("tom.walsh@walsh-consulting.test",),
    ),
)


def load_demo_contacts(account: Account) -> None:
    """Give the demo account its contacts; one already there is left alone."""
    from contacts.selectors import find_address_owners
    from contacts.services import ContactDetails, create_contact

    owners = list(User.objects.filter(account=account).order_by("email"))
    for index, person in enumerate(DEMO_CONTACTS):
        if find_address_owners(account=account, addresses=person.addresses):
            continue
        create_contact(
            account=account,
            details=ContactDetails(
                first_name=person.first_name,
                last_name=person.last_name,
                company=person.company,
                phone=person.phone,
                owner=owners[index % len(owners)] if owners else None,
            ),
            addresses=person.addresses,
        )
