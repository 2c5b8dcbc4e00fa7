"""Reading contacts from a CSV file and writing them to one.

Reading is forgiving about the header: "First name", "first_name" and
"Given name" all mean the same column, a single "Name" column is split into
first and last name, and every column whose header mentions "email" holds
addresses (several in one cell may be separated by ";"). Columns it does not
know are ignored and listed in the preview.

Writing neutralises cells that a spreadsheet would run as a formula; see
``neutralize_cell``. Reading undoes exactly that, so an export imports back
unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.models import Contact

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000

# Characters that make Excel, LibreOffice or Google Sheets read a cell as a
# formula (https://owasp.org/www-community/attacks/CSV_Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HEADER_ALIASES = {
    "first_name": {"firstname", "first", "givenname", "forename"},
    "last_name": {"lastname", "last", "surname", "familyname"},
    "name": {"name", "fullname", "contactname", "displayname"},
    "company": {"company", "companyname", "organization", "organisation", "org"},
    "phone": {"phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone"},
    "notes": {"notes", "note", "comments", "description"},
}
FIELD_LIMITS = {"first_name": 100, "last_name": 100, "company": 200, "phone": 50}
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "company": "Company",
    "phone": "Phone",
    "notes": "Notes",
}

EXPORT_HEADER = [
    "First name",
    "Last name",
    "Company",
    "Phone",
    "Emails",
    "Owner",
    "Notes",
    "Created",
]


class CsvFileError(ValueError):
    """The file as a whole cannot be read; the message says why."""


@dataclass
class CsvRow:
    """One line of the file, as read, with what is wrong with it."""

    line: int
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    notes: str = ""
    addresses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class CsvContents:
    rows: list[CsvRow]
    ignored_columns: list[str]


def neutralize_cell(value: str) -> str:
    """Prefix a quote to a cell a spreadsheet would otherwise run."""
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    """Undo ``neutralize_cell``; any other value is returned as it is."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def decode_upload(data: bytes) -> str:
    """Decode an uploaded file: UTF-8 (with or without BOM), else Windows-1252.

    Excel writes Windows-1252 unless asked for "CSV UTF-8".
    """
    if b"\x00" in data:
        raise CsvFileError("The file is not a CSV file (it contains binary data).")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvFileError("The file is not text in UTF-8 or Windows-1252.")


def read_contact_rows(text: str) -> CsvContents:
    """Read the rows of a contacts file, each with its own errors.

    Raises ``CsvFileError`` when the header has no email column or the file
    has more than ``MAX_ROWS`` rows.
    """
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    try:
        header = next(reader, [])
        columns, email_columns, ignored = _read_header(header)
        rows: list[CsvRow] = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(rows) == MAX_ROWS:
                raise CsvFileError(
                    f"The file has more than {MAX_ROWS:,} rows; "
                    "split it into smaller files."
                )
            cells = [restore_cell(value.strip()) for value in values]
            rows.append(_read_row(reader.line_num, cells, columns, email_columns))
    except csv.Error as error:
        raise CsvFileError(f"Line {reader.line_num}: {error}.") from error

    return CsvContents(rows=rows, ignored_columns=ignored)


def _read_header(header: list[str]) -> tuple[dict[str, int], list[int], list[str]]:
    columns: dict[str, int] = {}
    email_columns: list[int] = []
    ignored: list[str] = []
    for index, title in enumerate(header):
        key = re.sub(r"[^a-z0-9]", "", title.lower())
        if "email" in key or key == "mail":
            email_columns.append(index)
            continue
        name = next(
            (n for n, aliases in HEADER_ALIASES.items() if key in aliases), None
        )
        if name is None or name in columns:
            if title.strip():
                ignored.append(title.strip())
        else:
            columns[name] = index

    if not email_columns:
        raise CsvFileError(
            'The first line must name the columns, with at least one "Email" column.'
        )
    return columns, email_columns, ignored


def _read_row(
    line: int, cells: list[str], columns: dict[str, int], email_columns: list[int]
) -> CsvRow:
    def cell(index: int | None) -> str:
        return cells[index] if index is not None and index < len(cells) else ""

    row = CsvRow(line=line)
    for name in FIELD_LABELS:
        setattr(row, name, cell(columns.get(name)))
    if not (row.first_name or row.last_name) and "name" in columns:
        first, _, last = cell(columns["name"]).rpartition(" ")
        row.first_name, row.last_name = (first, last) if first else (last, "")

    for index in email_columns:
        row.addresses += [a for a in re.split(r"[;,\s]+", cell(index)) if a]

    for name, limit in FIELD_LIMITS.items():
        if len(getattr(row, name)) > limit:
            row.errors.append(
                f"{FIELD_LABELS[name]} is longer than {limit} characters."
            )
    if not row.addresses:
        row.errors.append("No email address.")
    for address in row.addresses:
        try:
            validate_email(address)
        except ValidationError:
            row.errors.append(f'"{address}" is not a valid email address.')
    return row


class _Echo:
    """A file-like object whose ``write`` returns what it was given."""

    def write(self, value: str) -> str:
        return value


def write_contacts_csv(contacts: Iterable[Contact]) -> Iterator[str]:
    """Yield the lines of a CSV file of ``contacts``, header first.

    The contacts should have their emails and owner loaded in bulk.
    """
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_HEADER)
    for contact in contacts:
        values = [
            contact.first_name,
            contact.last_name,
            contact.company,
            contact.phone,
            "; ".join(email.address for email in contact.sorted_emails),
            contact.owner.email if contact.owner else "",
            contact.notes,
            contact.created_at.date().isoformat(),
        ]
        yield writer.writerow([neutralize_cell(value) for value in values])


def write_row_errors_csv(rows: Iterable[CsvRow]) -> Iterator[str]:
    """Yield a CSV report of refused rows: line, name, addresses, errors."""
    writer = csv.writer(_Echo())
    yield writer.writerow(["Line", "Name", "Emails", "Errors"])
    for row in rows:
        values = [row.name, "; ".join(row.addresses), " ".join(row.errors)]
        yield writer.writerow([row.line, *(neutralize_cell(v) for v in values)])
