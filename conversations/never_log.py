"""Which addresses' mail is never stored: the never-log lists."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import User
from conversations.models import NeverLog

# Mail services whose users are strangers to each other: an employee with a
# login at one of them does not make the whole domain "ours".
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "web.de",
        "yandex.ru",
        "mail.ru",
    }
)


@dataclass(frozen=True)
class NeverLogRules:
    addresses: frozenset[str]
    domains: frozenset[str]

    def blocks(self, address: str) -> bool:
        return address in self.addresses or address.rpartition("@")[2] in self.domains


def own_domains(account_id: int) -> set[str]:
    """The account's own domains: those of its employees' logins."""
    logins = User.objects.filter(account_id=account_id).values_list("email", flat=True)
    domains = {login.rpartition("@")[2].lower() for login in logins}
    return domains - PUBLIC_MAIL_DOMAINS


def never_log_rules(*, account_id: int, employee_id: int | None) -> NeverLogRules:
    """The account's rules plus the employee's own entries."""
    entries = NeverLog.objects.filter(account_id=account_id).filter(
        employee_id__in=[employee_id] if employee_id else []
    ) | NeverLog.objects.filter(account_id=account_id, employee__isnull=True)
    values = {
        value.strip().lower() for value in entries.values_list("value", flat=True)
    }
    addresses = {value for value in values if "@" in value}
    domains = {value.lstrip("@") for value in values if "@" not in value}
    return NeverLogRules(
        addresses=frozenset(addresses),
        domains=frozenset(domains | own_domains(account_id)),
    )


class NeverLogError(ValueError):
    pass


def normalize_never_log_value(value: str) -> str:
    """An address, or a domain (``@`` and surrounding space removed)."""
    value = value.strip().lower()
    if not value:
        raise NeverLogError("Enter an address or a domain.")
    local, at, domain = value.rpartition("@")
    domain = domain.strip(".")
    if not domain or "." not in domain or any(c.isspace() for c in value):
        raise NeverLogError(f"{value} is neither an email address nor a domain.")
    if at and local:
        return f"{local}@{domain}"
    return domain


def add_never_log_entry(
    *, account_id: int, employee_id: int | None, value: str
) -> NeverLog:
    """Add an address or domain to the account's list (no employee) or to
    one employee's own list. Mail already stored is kept."""
    normalized = normalize_never_log_value(value)
    entry, _ = NeverLog.objects.get_or_create(
        account_id=account_id, employee_id=employee_id, value=normalized
    )
    return entry
