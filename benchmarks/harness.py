"""What the sync benchmarks and the soak share: the sandbox, a database of
their own, an account with contacts, connected mailboxes and seeded mail.

The sandbox must be started before Django is set up: the settings derive
every provider URL from ``PROVIDER_SANDBOX_URL`` when they load.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import random
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import Account, User
    from mailsync.models import Mailbox
    from mailsync.sandbox import Sandbox

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT_DIR = BASE_DIR / "var" / "benchmarks"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revstackr_bench_sync"

BODY_WORDS = (
    "proposal",
    "pricing",
    "renewal",
    "contract",
    "meeting",
    "agenda",
    "invoice",
    "shipment",
    "order",
    "quote",
    "discount",
    "timeline",
    "delivery",
    "support",
    "question",
    "thanks",
    "regards",
    "update",
)


# Sandbox and Django -------------------------------------------------------


def start_sandbox(seed: int = 1) -> Sandbox:
    """Serve the sandbox in this process and point the settings at it."""
    from mailsync.sandbox import build_sandbox

    # One line per request would drown the table (and cost time).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sandbox = build_sandbox(seed=seed)
    os.environ["PROVIDER_SANDBOX_URL"] = sandbox.start()
    return sandbox


def setup_django(
    database_url: str, *, fresh: bool, redis_url: str | None = None
) -> None:
    """Configure Django on its own PostgreSQL database, migrated.

    ``fresh`` drops the database first, so figures never depend on what an
    earlier run left behind. Tasks go to ``redis_url`` when given, else to
    the ORM broker in that database: never to a Redis someone else's
    worker reads.
    """
    os.environ["DATABASE_URL"] = database_url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revstackr.settings")
    # The worker's INFO line per batch is not what is measured here.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    if fresh:
        _recreate_database(database_url)

    import django

    django.setup()
    logging.getLogger("mailsync").setLevel(logging.WARNING)
    logging.getLogger("conversations").setLevel(logging.WARNING)

    if fresh:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def _recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    server, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# The scene ------------------------------------------------------------------


@dataclass
class Scene:
    account: Account
    contact_addresses: list[str]

    def add_employee(self, name: str) -> User:
        """An employee of the account (each connects one mailbox)."""
        from accounts.models import User

        return User.objects.create_user(
            f"{name}.{self.account.pk}@northwind.test",
            None,
            full_name=name.title(),
            account=self.account,
        )


def create_scene(*, contacts: int, name: str = "Benchmark Traders") -> Scene:
    """An account with ``contacts`` contacts, one address each."""
    from accounts.models import Account
    from contacts.models import Contact, ContactEmail

    account = Account.objects.create(name=name)
    people = Contact.objects.bulk_create(
        Contact(account=account, first_name=f"Client{n}", last_name="Example")
        for n in range(contacts)
    )
    addresses = [f"client{n}@company{n % 37}.example" for n in range(contacts)]
    ContactEmail.objects.bulk_create(
        ContactEmail(
            account=account,
            contact=person,
            address=address,
            normalized=address,
            domain=address.rpartition("@")[2],
            is_primary=True,
        )
        for person, address in zip(people, addresses, strict=True)
    )
    return Scene(account=account, contact_addresses=addresses)


def grant_tokens(
    provider: str, address: str, *, create_user: bool = False
) -> dict[str, Any]:
    """Tokens for a sandbox mailbox with the scopes the consent flow asks
    for, creating the sandbox user first when ``create_user``."""
    from django.conf import settings

    from mailsync.models import Mailbox
    from mailsync.sandbox.google.control_client import GoogleSandboxControl
    from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl

    socialaccount: Any = settings.SOCIALACCOUNT_PROVIDERS
    base_url = settings.PROVIDER_SANDBOX_URL
    if provider == Mailbox.Provider.GMAIL:
        google = GoogleSandboxControl(base_url)
        if create_user:
            google.create_user(address, address)
        return dict(
            google.grant(
                address,
                settings.GOOGLE_SCOPES,
                client_id=socialaccount["google"]["APPS"][0]["client_id"],
            )
        )
    with MicrosoftSandboxControl(base_url) as microsoft:
        if create_user:
            microsoft.create_user(address, address)
        return dict(
            microsoft.issue_token(
                address,
                scopes=" ".join(settings.MICROSOFT_SCOPES),
                client_id=socialaccount["microsoft"]["APPS"][0]["client_id"],
            )
        )


def connect_mailbox(employee: User, provider: str, address: str) -> Mailbox:
    """Create the sandbox mailbox and connect it, as the consent flow would."""
    from django.utils import timezone

    from mailsync.models import Mailbox

    tokens = grant_tokens(provider, address, create_user=True)
    mailbox = Mailbox(
        account=employee.account,
        employee=employee,
        provider=provider,
        address=address,
        granted_scopes=str(tokens.get("scope", "")).split(),
    )
    mailbox.set_tokens(
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=timezone.now() + timedelta(seconds=int(tokens["expires_in"])),
    )
    mailbox.save()
    return mailbox


# Seeding mail ---------------------------------------------------------------


@dataclass(frozen=True)
class SeedMessage:
    """One message of a seeded mailbox, provider-neutral."""

    raw: bytes
    sender: str
    recipients: list[str]
    sent_at: datetime
    outgoing: bool  # sent by the mailbox's owner (Sent folder)
    involves_contact: bool


def mailbox_messages(
    *,
    owner: str,
    contact_addresses: list[str],
    total: int,
    with_contacts: int,
    rng: random.Random,
    per_thread: int = 4,
    days: int = 80,
) -> list[SeedMessage]:
    """A mailbox's mail: ``with_contacts`` messages in threads with contacts
    (every other one a reply from the owner), the rest newsletters and mail
    among colleagues, spread over ``days`` days, oldest first."""
    now = datetime.now(UTC)
    messages: list[SeedMessage] = []

    thread_count = max(1, with_contacts // per_thread)
    made = 0
    for thread in range(thread_count):
        contact = contact_addresses[thread % len(contact_addresses)]
        start = now - timedelta(days=rng.uniform(1, days))
        subject = f"{rng.choice(BODY_WORDS).title()} for order {thread}"
        previous: list[str] = []
        size = per_thread if thread < thread_count - 1 else with_contacts - made
        for position in range(size):
            outgoing = position % 2 == 1
            sender, recipient = (owner, contact) if outgoing else (contact, owner)
            raw, message_id = _compose(
                sender=sender,
                to=[recipient],
                subject=subject if position == 0 else f"Re: {subject}",
                sent_at=start + timedelta(hours=3 * position),
                references=previous,
                rng=rng,
            )
            previous = [*previous, message_id]
            messages.append(
                SeedMessage(
                    raw=raw,
                    sender=sender,
                    recipients=[recipient],
                    sent_at=start + timedelta(hours=3 * position),
                    outgoing=outgoing,
                    involves_contact=True,
                )
            )
            made += 1

    colleague = "colleague@" + owner.rpartition("@")[2]
    for number in range(total - with_contacts):
        sent_at = now - timedelta(days=rng.uniform(0.5, days))
        sender = f"news{number % 50}@newsletter.example" if number % 4 else colleague
        raw, _ = _compose(
            sender=sender,
            to=[owner],
            subject=f"Weekly {rng.choice(BODY_WORDS)} digest {number}",
            sent_at=sent_at,
            references=[],
            rng=rng,
        )
        messages.append(
            SeedMessage(
                raw=raw,
                sender=sender,
                recipients=[owner],
                sent_at=sent_at,
                outgoing=False,
                involves_contact=False,
            )
        )
    messages.sort(key=lambda message: message.sent_at)
    return messages


def _compose(
    *,
    sender: str,
    to: list[str],
    subject: str,
    sent_at: datetime,
    references: list[str],
    rng: random.Random,
) -> tuple[bytes, str]:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message_id = make_msgid(domain="bench.example")
    message["Message-ID"] = message_id
    if references:
        message["In-Reply-To"] = references[-1]
        message["References"] = " ".join(references)
    # About 1 KB of text, the size of an ordinary business email.
    text = " ".join(rng.choice(BODY_WORDS) for _ in range(150))
    message.set_content(text)
    return message.as_bytes(), message_id


def seed_gmail(base_url: str, address: str, messages: list[SeedMessage]) -> None:
    from mailsync.sandbox.google.control_client import GoogleSandboxControl

    google = GoogleSandboxControl(base_url)
    for chunk in _chunks(messages, 500):
        google.deliver_many(
            [
                {
                    "mailbox": address,
                    "raw": message.raw.decode(),
                    "date": message.sent_at.timestamp(),
                    **(
                        {"labels": ["SENT"], "archived": True}
                        if message.outgoing
                        else {}
                    ),
                }
                for message in chunk
            ]
        )


def seed_outlook(base_url: str, address: str, messages: list[SeedMessage]) -> None:
    import base64

    from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl

    with MicrosoftSandboxControl(base_url) as microsoft:
        for chunk in _chunks(messages, 500):
            microsoft.deliver_many(
                {
                    "mailbox": address,
                    "raw_b64": base64.b64encode(message.raw).decode(),
                    "folder": "sentitems" if message.outgoing else "inbox",
                    "received_at": message.sent_at.isoformat().replace("+00:00", "Z"),
                }
                for message in chunk
            )


def _chunks(items: list[SeedMessage], size: int) -> Iterator[list[SeedMessage]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Measuring ------------------------------------------------------------------


class QueryCounter:
    """Count the database queries run while installed on the connection."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries() -> Iterator[QueryCounter]:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB.

    Linux keeps ``ru_maxrss`` across ``execve``, so a worker started from a
    parent holding the sandbox would report the parent's size. ``VmHWM``
    belongs to the address space the program runs in and starts afresh at
    exec; ``ru_maxrss`` (KiB on Linux) is the fallback elsewhere.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def provider_calls(
    counters: list[dict[str, Any]], mailbox: str, provider: str
) -> dict[str, dict[str, int]]:
    """Calls and units by operation for one mailbox (Gmail's batch envelopes,
    which name no mailbox, included)."""
    calls: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for row in counters:
        if row["provider"] != provider:
            continue
        if row["mailbox"] not in (mailbox, "") or row["operation"].startswith("oauth2"):
            continue
        if "token" in row["operation"]:
            continue
        calls[row["operation"]] += row["calls"]
        units[row["operation"]] += row["units"]
    return {op: {"calls": calls[op], "units": units[op]} for op in sorted(calls)}


def cpu_seconds() -> float:
    """CPU time this process has used so far, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "runs": len(values),
        "p50_ms": round(statistics.median(values), 1) if values else float("nan"),
        "p95_ms": round(percentile(values, 0.95), 1),
        "max_ms": round(max(values), 1) if values else float("nan"),
    }


def machine() -> dict[str, Any]:
    """What the figures ran on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    memory_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
    }
    from django.db import connection

    if connection.vendor == "postgresql":
        info["postgresql"] = connection.cursor().connection.info.server_version
    return info


def write_json(name: str, figures: dict[str, Any], output: str | None = None) -> Path:
    path = Path(output) if output else OUTPUT_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = {"measured_at": datetime.now(UTC).isoformat(), **figures}
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return path


def wait_until(
    condition: Callable[[], Any], *, seconds: float, step: float = 0.02
) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError("the condition did not come true in time")
