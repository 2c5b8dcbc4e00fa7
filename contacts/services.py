"""Changing contacts: create, edit, delete, and announce new addresses.

Every path that adds an address (the contact form, a CSV import, the Django
admin) goes through ``_set_addresses`` or ``announce_addresses_added``, so
``contacts.signals.contact_addresses_added`` fires exactly once per change.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.csv_files import (
    FIELD_LABELS,
    MAX_UPLOAD_BYTES,
    CsvFileError,
    CsvRow,
    decode_upload,
    read_contact_rows,
    write_row_errors_csv,
)
from contacts.models import Contact, ContactEmail, ContactImport, normalize_address
from contacts.selectors import addresses_of, find_address_owners
from contacts.signals import contact_addresses_added, contact_deleting

if TYPE_CHECKING:
    from accounts.models import Account, User

logger = logging.getLogger(__name__)


class ContactError(ValueError):
    """A change to a contact that cannot be made; the message says why."""


class AddressInUse(ContactError):
    """One or more addresses already belong to another contact."""

    def __init__(self, owners: dict[str, Contact]) -> None:
        self.owners = owners
        super().__init__(
            "Already on another contact: " + ", ".join(sorted(owners)) + "."
        )


@dataclass(frozen=True)
class ContactDetails:
    """What a person types about a contact, apart from the addresses."""

    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    notes: str = ""
    owner: User | None = None


def announce_addresses_added(*, contact: Contact, addresses: Sequence[str]) -> None:
    """Send ``contact_addresses_added`` when the transaction commits."""
    if not addresses:
        return

    account_id, contact_id = contact.account_id, contact.pk
    added = [normalize_address(address) for address in addresses]
    transaction.on_commit(
        lambda: contact_addresses_added.send(
            sender=Contact,
            account_id=account_id,
            contact_id=contact_id,
            addresses=added,
        )
    )


@transaction.atomic
def create_contact(
    *,
    account: Account,
    details: ContactDetails,
    addresses: Sequence[str],
    primary: str | None = None,
) -> Contact:
    """Create a contact with its addresses; ``primary`` defaults to the first.

    Raises ``AddressInUse`` when another contact has one of the addresses,
    and ``ContactError`` when no address is given. Nothing is saved then.
    """
    contact = Contact(account=account)
    _apply_details(contact, details)
    contact.save()

    _set_addresses(contact, addresses, primary=primary)
    return contact


@transaction.atomic
def update_contact(
    *,
    contact: Contact,
    details: ContactDetails,
    addresses: Sequence[str],
    primary: str | None = None,
) -> Contact:
    """Replace a contact's details and its addresses with the ones given.

    Addresses missing from ``addresses`` are removed; the errors are those
    of ``create_contact``.
    """
    _apply_details(contact, details)
    contact.save()

    _set_addresses(contact, addresses, primary=primary)
    return contact


@transaction.atomic
def add_contact_addresses(*, contact: Contact, addresses: Sequence[str]) -> list[str]:
    """Add addresses to a contact, keeping its primary; return the new ones."""
    current = [email.address for email in contact.sorted_emails]
    known = {normalize_address(address) for address in current}
    new = [a for a in _unique_addresses(addresses) if normalize_address(a) not in known]

    _set_addresses(contact, [*current, *new], primary=current[0] if current else None)
    return [normalize_address(address) for address in new]


@transaction.atomic
def delete_contact(*, contact: Contact, delete_email: bool = False) -> None:
    """Delete a contact and its addresses.

    The mail exchanged with the contact is kept unless ``delete_email`` is
    true. Receivers of ``contact_deleting`` do that work in this same
    transaction.
    """
    addresses = sorted(email.normalized for email in contact.emails.all())

    contact_deleting.send(
        sender=Contact,
        account_id=contact.account_id,
        contact_id=contact.pk,
        addresses=addresses,
        delete_email=delete_email,
    )

    logger.info(
        "Deleting contact %s of account %s (delete_email=%s)",
        contact.pk,
        contact.account_id,
        delete_email,
    )
    contact.delete()


def _apply_details(contact: Contact, details: ContactDetails) -> None:
    if details.owner is not None and details.owner.account_id != contact.account_id:
        raise ContactError("The owner must be an employee of the same account.")

    contact.first_name = details.first_name.strip()
    contact.last_name = details.last_name.strip()
    contact.company = details.company.strip()
    contact.phone = details.phone.strip()
    contact.notes = details.notes.strip()
    contact.owner = details.owner


def _unique_addresses(addresses: Sequence[str]) -> list[str]:
    """Trimmed, non-empty addresses, each once (first spelling wins)."""
    seen: set[str] = set()
    unique = []
    for address in addresses:
        address = address.strip()
        if address and normalize_address(address) not in seen:
            seen.add(normalize_address(address))
            unique.append(address)
    return unique


def _set_addresses(
    contact: Contact, addresses: Sequence[str], primary: str | None
) -> None:
    """Make the contact's addresses exactly ``addresses``; announce the new."""
    wanted = {normalize_address(a): a for a in _unique_addresses(addresses)}
    if not wanted:
        raise ContactError("A contact needs at least one email address.")
    primary_key = normalize_address(primary) if primary else next(iter(wanted))
    if primary_key not in wanted:
        raise ContactError("The primary address must be one of the addresses.")

    owners = find_address_owners(
        account=contact.account, addresses=wanted, exclude=contact
    )
    if owners:
        raise AddressInUse(owners)

    existing = {email.normalized: email for email in contact.emails.all()}
    for key, email in existing.items():
        if key not in wanted:
            email.delete()

    # The database allows one primary per contact at any moment, so the old
    # primary steps down before the new one is saved.
    contact.emails.filter(is_primary=True).exclude(normalized=primary_key).update(
        is_primary=False
    )

    added: list[str] = []
    for key, address in wanted.items():
        current = existing.get(key)
        if current is None:
            _create_email(contact, address, is_primary=key == primary_key)
            added.append(key)
        elif current.address != address or current.is_primary != (key == primary_key):
            current.address = address
            current.is_primary = key == primary_key
            current.save()

    if hasattr(contact, "_prefetched_objects_cache"):
        contact._prefetched_objects_cache.pop("emails", None)
    announce_addresses_added(contact=contact, addresses=added)


def _create_email(contact: Contact, address: str, *, is_primary: bool) -> None:
    try:
        # A savepoint, so a lost race with another request leaves this
        # transaction usable for the error that explains it.
        with transaction.atomic():
            ContactEmail.objects.create(
                account_id=contact.account_id,
                contact=contact,
                address=address,
                is_primary=is_primary,
            )
    except IntegrityError as error:
        owners = find_address_owners(
            account=contact.account, addresses=[address], exclude=contact
        )
        if not owners:
            raise
        raise AddressInUse(owners) from error


# CSV import


IMPORT_KEPT_FOR = timedelta(days=1)


class ImportAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class ImportRowPlan:
    """What confirming the import will do with one row of the file."""

    row: CsvRow
    action: ImportAction
    contact: Contact | None = None
    changes: list[str] = field(default_factory=list)
    new_addresses: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.row.errors


@dataclass
class ImportPlan:
    rows: list[ImportRowPlan]
    ignored_columns: list[str]

    def count(self, action: ImportAction) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def error_rows(self) -> list[ImportRowPlan]:
        return [row for row in self.rows if row.action == ImportAction.ERROR]


def stage_contact_import(
    *, account: Account, uploaded_by: User, file_name: str, data: bytes
) -> ContactImport:
    """Keep an uploaded file for its preview, after checking it reads.

    Raises ``CsvFileError`` when the file is too large or cannot be read.
    Uploads older than a day that were never confirmed are removed here.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise CsvFileError(
            f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
            "split it into smaller files."
        )
    text = decode_upload(data)
    read_contact_rows(text)

    ContactImport.objects.filter(
        imported_at__isnull=True, created_at__lt=timezone.now() - IMPORT_KEPT_FOR
    ).delete()
    return ContactImport.objects.create(
        account=account, uploaded_by=uploaded_by, file_name=file_name, content=text
    )


def plan_contact_import(*, account: Account, text: str) -> ImportPlan:
    """Read a contacts file and decide, row by row, what importing it does.

    A row is matched to an existing contact by any of its addresses, so a
    file imported twice updates (or leaves alone) the contacts it created
    the first time instead of creating them again. Cells left empty keep the
    contact's current value.
    """
    contents = read_contact_rows(text)
    addresses = [a for row in contents.rows for a in row.addresses]
    owners = find_address_owners(account=account, addresses=addresses)
    known = addresses_of(list({c.pk: c for c in owners.values()}.values()))

    seen_on_line: dict[str, int] = {}
    plans = []
    for row in contents.rows:
        plans.append(_plan_row(row, owners, known, seen_on_line))
    return ImportPlan(rows=plans, ignored_columns=contents.ignored_columns)


def _plan_row(
    row: CsvRow,
    owners: dict[str, Contact],
    known: dict[int, set[str]],
    seen_on_line: dict[str, int],
) -> ImportRowPlan:
    keys = list(dict.fromkeys(normalize_address(a) for a in row.addresses))
    for key in keys:
        if key in seen_on_line:
            row.errors.append(f"{key} is also on line {seen_on_line[key]}.")
        else:
            seen_on_line[key] = row.line
    matches = list({owners[k].pk: owners[k] for k in keys if k in owners}.values())
    if len(matches) > 1:
        names = " and ".join(str(contact) for contact in matches)
        row.errors.append(f"The addresses belong to different contacts: {names}.")
    if row.errors:
        return ImportRowPlan(row=row, action=ImportAction.ERROR)

    if not matches:
        return ImportRowPlan(row=row, action=ImportAction.CREATE, new_addresses=keys)

    contact = matches[0]
    changes = [
        label
        for name, label in FIELD_LABELS.items()
        if getattr(row, name) and getattr(row, name) != getattr(contact, name)
    ]
    new_addresses = [key for key in keys if key not in known[contact.pk]]
    changes += [f"adds {address}" for address in new_addresses]
    action = ImportAction.UPDATE if changes else ImportAction.UNCHANGED
    return ImportRowPlan(
        row=row,
        action=action,
        contact=contact,
        changes=changes,
        new_addresses=new_addresses,
    )


@transaction.atomic
def run_contact_import(*, contact_import: ContactImport) -> ImportPlan:
    """Create and update the contacts of a previewed file; skip bad rows.

    The file is planned again against the contacts as they are now, so a
    contact added since the preview is matched, not duplicated. New
    contacts are owned by the employee who uploaded the file.
    """
    if contact_import.imported_at is not None:
        raise ContactError("This file has already been imported.")
    account = contact_import.account
    plan = plan_contact_import(account=account, text=contact_import.content)

    for planned in plan.rows:
        row = planned.row
        if planned.action == ImportAction.CREATE:
            create_contact(
                account=account,
                details=_row_details(row, owner=contact_import.uploaded_by),
                addresses=row.addresses,
            )
        elif planned.action == ImportAction.UPDATE and planned.contact is not None:
            _update_from_row(planned.contact, row)

    contact_import.content = ""
    contact_import.refused_rows = "".join(
        write_row_errors_csv(planned.row for planned in plan.error_rows)
    )
    contact_import.imported_at = timezone.now()
    contact_import.created_count = plan.count(ImportAction.CREATE)
    contact_import.updated_count = plan.count(ImportAction.UPDATE)
    contact_import.error_count = plan.count(ImportAction.ERROR)
    contact_import.save()

    logger.info(
        "Imported contacts into account %s: %s created, %s updated, %s rows refused",
        account.pk,
        contact_import.created_count,
        contact_import.updated_count,
        contact_import.error_count,
    )
    return plan


def _row_details(row: CsvRow, *, owner: User | None) -> ContactDetails:
    return ContactDetails(
        first_name=row.first_name,
        last_name=row.last_name,
        company=row.company,
        phone=row.phone,
        notes=row.notes,
        owner=owner,
    )


def _update_from_row(contact: Contact, row: CsvRow) -> None:
    changed = [name for name in FIELD_LABELS if getattr(row, name)]
    for name in changed:
        setattr(contact, name, getattr(row, name))
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])

    add_contact_addresses(contact=contact, addresses=row.addresses)
