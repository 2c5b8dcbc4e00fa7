"""Sync and send under injected provider faults, then check nothing is lost.

Usage::

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--fault-rate 0.10] \
        [--database-url postgres://postgres@127.0.0.1/revstackr_bench_soak] \
        [--output var/benchmarks/soak.json]

For both providers at once, contacts write to the employees (sandbox
deliveries, some replying to mail from the CRM, some to both mailboxes),
employees write from the CRM (``queue_outbound_email``, then
``send_outbound_message`` as the outbox task would) and the sync runs
(``sync_mailbox`` on every due mailbox, as the every-minute sweep would),
while the sandbox answers about ``--fault-rate`` of the provider calls with
429s and 503s (Retry-After 1 s), 500s, slow answers, dropped connections,
expired access tokens, and expired Gmail history ids / Graph delta links.

Time is compressed: one round stands for one minute of the scheduler, so
before each round a mailbox's ``backoff_until`` is moved to now (the backoff
has "passed"), and, once the faults stop, a send the worker left in
``sending`` has its start moved back past ``STALE_SEND``. Gmail's quota is
off, so every refusal is an injected one. Then the faults stop and the sync
runs until idle; the soak fails when a message involving a contact is
missing from the CRM or held twice, when an email written in the CRM is in
the provider's Sent folder other than exactly once, when a sync or send
crashed (an exception other than the provider error), or when a fault
kind never fired. ``tests/mailsync/test_soak.py`` runs a short soak in the
suite; this command runs a long one.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness

if TYPE_CHECKING:
    from mailsync.models import Mailbox
    from mailsync.sandbox import Sandbox

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revstackr_bench_soak"
CONTACTS = 12
# Operations that take an access token, per provider: ``expire_token`` is
# injected only there, since at the token endpoint it means a revoked
# grant, which disconnects the mailbox for good (that is no soak fault).
TOKEN_OPERATIONS = {
    "google": (
        "gmail.users.getProfile",
        "gmail.users.history.list",
        "gmail.users.messages.list",
        "gmail.users.messages.get",
        "gmail.users.messages.send",
    ),
    "microsoft": (
        "GET /me/mailFolders",
        "GET /me/mailFolders/{id}",
        "GET /me/mailFolders/{id}/childFolders",
        "GET /me/mailFolders/{id}/messages/delta",
        "GET /me/messages/{id}/$value",
        "GET /me/messages",
        "POST /me/messages",
        "POST /me/messages/{id}/send",
    ),
}
CURSOR_OPERATIONS = {
    "google": "gmail.users.history.list",
    "microsoft": "GET /me/mailFolders/{id}/messages/delta",
}
# Shares of the fault rate, by kind; cursor expiry is its own rate on the
# calls that carry a cursor.
FAULT_SHARES = {
    "rate_limit": 0.2,
    "server_error": 0.2,
    "unavailable": 0.15,
    "slow": 0.1,
    "drop": 0.15,
    "expire_token": 0.2,
}
EXCLUDED_OUTLOOK_FOLDERS = {
    "deleteditems",
    "junkemail",
    "drafts",
    "outbox",
    "conversationhistory",
}


@dataclass
class SoakReport:
    rounds: int = 0
    seconds: float = 0.0
    converge_rounds: int = 0
    delivered: int = 0
    queued: int = 0
    provider_with_contacts: dict[str, int] = field(default_factory=dict)
    crm_held: dict[str, int] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)
    duplicated: list[str] = field(default_factory=list)
    sent_once: int = 0
    sent_twice: list[str] = field(default_factory=list)
    sent_never: list[str] = field(default_factory=list)
    faults_fired: dict[str, int] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)
    sends: Counter[str] = field(default_factory=Counter)
    provider_calls: int = 0
    faulted_calls: int = 0

    @property
    def failures(self) -> list[str]:
        problems = []
        for provider, ids in self.missing.items():
            if ids:
                problems.append(f"{len(ids)} {provider} messages missing: {ids[:5]}")
        if self.duplicated:
            problems.append(f"held twice: {self.duplicated[:5]}")
        if self.sent_twice:
            problems.append(f"sent twice: {self.sent_twice[:5]}")
        if self.sent_never:
            problems.append(f"never sent: {self.sent_never[:5]}")
        if self.crashes:
            problems.append(f"{len(self.crashes)} crashes: {self.crashes[:3]}")
        silent = [kind for kind in fault_kinds() if not self.faults_fired.get(kind)]
        if silent:
            problems.append(f"faults that never fired: {silent}")
        return problems

    def lines(self) -> list[str]:
        rows = [
            f"rounds with faults: {self.rounds} in {self.seconds:.0f} s; "
            f"rounds to converge: {self.converge_rounds}",
            f"provider calls with faults on: {self.provider_calls}, "
            f"of which faulted: {self.faulted_calls} "
            f"({self.faulted_calls / max(1, self.provider_calls):.0%})",
            f"contact mail delivered: {self.delivered}; "
            f"emails written in the CRM: {self.queued}",
            f"{'mailbox':10} {'provider holds':>15} {'CRM holds':>10} {'missing':>8}",
        ]
        for provider, count in self.provider_with_contacts.items():
            rows.append(
                f"{provider:10} {count:>15} {self.crm_held.get(provider, 0):>10} "
                f"{len(self.missing.get(provider, [])):>8}"
            )
        rows += [
            f"held twice in the CRM: {len(self.duplicated)}",
            f"CRM emails in Sent: once {self.sent_once}, "
            f"twice {len(self.sent_twice)}, never {len(self.sent_never)}",
            f"send outcomes: {dict(self.sends)}",
            "faults fired: "
            + ", ".join(f"{k} {self.faults_fired.get(k, 0)}" for k in fault_kinds()),
            f"crashes: {len(self.crashes)}",
        ]
        return rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "seconds": round(self.seconds, 1),
            "converge_rounds": self.converge_rounds,
            "delivered": self.delivered,
            "queued": self.queued,
            "provider_with_contacts": self.provider_with_contacts,
            "crm_held": self.crm_held,
            "missing": self.missing,
            "duplicated": self.duplicated,
            "sent_once": self.sent_once,
            "sent_twice": self.sent_twice,
            "sent_never": self.sent_never,
            "send_outcomes": dict(self.sends),
            "faults_fired": self.faults_fired,
            "provider_calls": self.provider_calls,
            "faulted_calls": self.faulted_calls,
            "crashes": self.crashes,
            "failures": self.failures,
        }


def fault_kinds() -> tuple[str, ...]:
    from mailsync.sandbox.core import FAULT_KINDS

    return FAULT_KINDS


def add_faults(sandbox: Sandbox, rate: float) -> None:
    """About ``rate`` of provider calls fail, spread over every fault kind."""
    from mailsync.sandbox.core import Fault

    for provider in ("google", "microsoft"):
        for kind, share in FAULT_SHARES.items():
            if kind == "expire_token":
                for operation in TOKEN_OPERATIONS[provider]:
                    sandbox.faults.add(
                        Fault(
                            kind=kind,
                            provider=provider,
                            operation=operation,
                            rate=rate * share,
                        )
                    )
                continue
            sandbox.faults.add(
                Fault(
                    kind=kind,
                    provider=provider,
                    rate=rate * share,
                    retry_after=1,
                    delay=0.3,
                )
            )
        sandbox.faults.add(
            Fault(
                kind="expire_cursor",
                provider=provider,
                operation=CURSOR_OPERATIONS[provider],
                rate=rate,
            )
        )


# The soak -------------------------------------------------------------------


class Soak:
    def __init__(self, sandbox: Sandbox, *, seed: int = 3) -> None:
        from django.conf import settings

        from mailsync.sandbox.google.control_client import GoogleSandboxControl
        from mailsync.sandbox.microsoft.control_client import (
            MicrosoftSandboxControl,
        )

        self.sandbox = sandbox
        self.rng = random.Random(seed)
        self.google = GoogleSandboxControl(settings.PROVIDER_SANDBOX_URL)
        self.microsoft = MicrosoftSandboxControl(settings.PROVIDER_SANDBOX_URL)
        self.report = SoakReport()
        self.scene = harness.create_scene(contacts=CONTACTS, name="Soak Traders")
        self.contacts = self.scene.contact_addresses
        self.gmail = harness.connect_mailbox(
            self.scene.add_employee("gina"), "gmail", "gina@gmail.test"
        )
        self.outlook = harness.connect_mailbox(
            self.scene.add_employee("owen"), "outlook", "owen@outlook.test"
        )
        self.mailboxes = [self.gmail, self.outlook]
        self.sent_from_crm: list[int] = []

    def run(self, seconds: float, fault_rate: float) -> SoakReport:
        from mailsync.sandbox.core import FAULT_KINDS

        self.google.set_quota(enabled=False, reset_usage=True)
        # Mail from before the mailboxes were connected: the first import
        # runs under faults too.
        for _ in range(6):
            self._contact_writes()
        add_faults(self.sandbox, fault_rate)
        self.sandbox.counters.reset()
        certain = list(FAULT_KINDS)

        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if certain:
                # A short soak may not roll every kind: early rounds each
                # get one certain fault of a kind, on both providers.
                self._add_certain_fault(certain.pop(0))
            self._round()
            self.report.rounds += 1
        self.report.seconds = time.monotonic() - started
        self.report.provider_calls = sum(
            row["calls"] for row in self.sandbox.counters.snapshot()
        )
        self.report.faulted_calls = sum(self.sandbox.faults.fired.values())

        self.sandbox.faults.clear()
        self._converge()
        self.report.faults_fired = {
            kind: self.sandbox.faults.fired.get(kind, 0) for kind in FAULT_KINDS
        }
        self._check()
        return self.report

    def _add_certain_fault(self, kind: str) -> None:
        from mailsync.sandbox.core import Fault

        for provider in ("google", "microsoft"):
            operation = None
            if kind == "expire_cursor":
                operation = CURSOR_OPERATIONS[provider]
            elif kind == "expire_token":
                operation = TOKEN_OPERATIONS[provider][1 if provider == "google" else 3]
            self.sandbox.faults.add(
                Fault(
                    kind=kind,
                    provider=provider,
                    operation=operation,
                    remaining=1,
                    retry_after=1,
                    delay=0.3,
                )
            )

    # A round: mail arrives, employees write, the worker sends and syncs.

    def _round(self) -> None:
        self._contact_writes()
        self._contact_writes()
        if self.report.rounds % 2 == 0:
            for mailbox in self.mailboxes:
                self._write_from_crm(mailbox)
        self._send_due()
        self._pass_backoff()
        self._sync_due(budget_seconds=5, tasks=2)

    def _contact_writes(self) -> None:
        contact = self.rng.choice(self.contacts)
        owners = [self.gmail.address, self.outlook.address]
        choice = self.rng.random()
        if choice < 0.2:
            recipients = owners  # one email in both mailboxes
        elif choice < 0.6:
            recipients = [owners[0]]
        else:
            recipients = [owners[1]]
        in_reply_to = self._crm_message_to_answer(contact)
        self._deliver(contact, recipients, in_reply_to)
        # Mail without contacts, which must not be stored.
        self._deliver(f"news{self.rng.randrange(5)}@newsletter.example", owners, "")

    def _crm_message_to_answer(self, contact: str) -> str:
        from conversations.models import Message

        if self.rng.random() < 0.5:
            return ""
        sent = list(
            Message.objects.filter(
                pk__in=self.sent_from_crm, status=Message.Status.SENT
            ).values_list("rfc_message_id", "to")
        )
        mine = [rfc for rfc, to in sent if to and to[0]["address"] == contact]
        return self.rng.choice(mine) if mine else ""

    def _deliver(self, sender: str, recipients: list[str], in_reply_to: str) -> None:
        import base64
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid

        message = EmailMessage()
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = (
            "Re: your email" if in_reply_to else f"Question {self.rng.randrange(10**6)}"
        )
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="soak.example")
        if in_reply_to:
            message["In-Reply-To"] = in_reply_to
            message["References"] = in_reply_to
        message.set_content("Hello, a question about the order.")
        raw = message.as_bytes()

        for address in recipients:
            if address == self.gmail.address:
                self.google.deliver(mailbox=address, raw=raw.decode())
            else:
                self.microsoft.deliver_many(
                    [{"mailbox": address, "raw_b64": base64.b64encode(raw).decode()}]
                )
        if not sender.endswith("newsletter.example"):
            self.report.delivered += 1

    def _write_from_crm(self, mailbox: Mailbox) -> None:
        from contacts.models import ContactEmail
        from conversations.services import queue_outbound_email
        from mailsync.parsing import Address

        address = self.rng.choice(self.contacts)
        contact_id = ContactEmail.objects.get(
            account_id=mailbox.account_id, normalized=address
        ).contact_id
        message = queue_outbound_email(
            author_id=mailbox.employee_id,
            account_id=mailbox.account_id,
            sending_mailbox_id=mailbox.pk,
            sender_address=mailbox.address,
            sender_name="Soak Seller",
            to=[Address(address, "")],
            subject=f"Offer {self.rng.randrange(10**6)}",
            text_body="Please find our offer.",
            contact_ids=[contact_id],
        )
        self.sent_from_crm.append(message.pk)
        self.report.queued += 1

    def _send_due(self) -> None:
        from mailsync.services.sending import (
            send_outbound_message,
            sendable_message_ids,
        )

        for message_id in sendable_message_ids():
            try:
                self.report.sends[send_outbound_message(message_id=message_id)] += 1
            except Exception as error:
                self._crashed("send", error)

    def _pass_backoff(self) -> None:
        from django.utils import timezone

        from mailsync.models import Mailbox

        Mailbox.objects.filter(backoff_until__gt=timezone.now()).update(
            backoff_until=timezone.now()
        )

    def _sync_due(self, *, budget_seconds: float, tasks: int) -> bool:
        """Run sync tasks for every due mailbox; True when all caught up."""
        from mailsync.services.sync import due_mailbox_ids, sync_mailbox

        idle = True
        for mailbox_id in due_mailbox_ids():
            for _ in range(tasks):
                try:
                    outcome = sync_mailbox(
                        mailbox_id=mailbox_id, budget_seconds=budget_seconds
                    )
                except Exception as error:
                    self._crashed("sync", error)
                    idle = False
                    break
                if not outcome.more:
                    break
            else:
                idle = False
        return idle

    def _crashed(self, what: str, error: Exception) -> None:
        frame = traceback.extract_tb(error.__traceback__)[-1]
        self.report.crashes.append(
            f"{what}: {type(error).__name__}: {error} "
            f"({Path(frame.filename).name}:{frame.lineno})"
        )

    # Converging and checking.

    def _converge(self) -> None:
        from datetime import timedelta

        from django.utils import timezone

        from conversations.models import Message
        from mailsync.models import Mailbox
        from mailsync.services.sending import STALE_SEND, sendable_message_ids

        for round_number in range(1, 31):
            self.report.converge_rounds = round_number
            # A send a crashed worker left behind is taken up again after
            # STALE_SEND; that much time "passes" here.
            Message.objects.filter(status=Message.Status.SENDING).update(
                send_started_at=timezone.now() - STALE_SEND - timedelta(seconds=1)
            )
            self._send_due()
            # Outlook files the sent copy a moment after sendMail.
            time.sleep(
                float(self.microsoft.settings().get("sent_copy_delay", 0.5)) + 0.2
            )
            self._pass_backoff()
            idle = self._sync_due(budget_seconds=30, tasks=10)
            settled = not Mailbox.objects.filter(
                state=Mailbox.State.BACKING_OFF
            ).exists()
            if idle and settled and not sendable_message_ids():
                # One more pass sees whatever the last sends filed.
                self._pass_backoff()
                if self._sync_due(budget_seconds=30, tasks=10):
                    return

    def _check(self) -> None:
        from django.db.models import Count

        from conversations.models import Message, MessageLink

        contacts = set(self.contacts)
        report = self.report

        held_anywhere: set[str] = set()
        for mailbox, provider_ids in (
            (self.gmail, self._gmail_ids(contacts)),
            (self.outlook, self._outlook_ids(contacts)),
        ):
            crm_ids = set(
                MessageLink.objects.filter(mailbox=mailbox).values_list(
                    "message__rfc_message_id", flat=True
                )
            )
            held_anywhere |= provider_ids
            report.provider_with_contacts[mailbox.provider] = len(provider_ids)
            report.crm_held[mailbox.provider] = len(crm_ids & provider_ids)
            report.missing[mailbox.provider] = sorted(provider_ids - crm_ids)

        account = self.scene.account
        report.duplicated = sorted(
            row["rfc_message_id"]
            for row in Message.objects.filter(account=account)
            .values("rfc_message_id")
            .annotate(copies=Count("pk"))
            .filter(copies__gt=1)
        )
        report.duplicated += sorted(
            f"{row['message__rfc_message_id']} (linked twice in one mailbox)"
            for row in MessageLink.objects.filter(message__account=account)
            .values("mailbox", "message__rfc_message_id")
            .annotate(copies=Count("pk"))
            .filter(copies__gt=1)
        )

        in_sent = Counter(self._sent_ids())
        for message in Message.objects.filter(pk__in=self.sent_from_crm):
            copies = in_sent[message.rfc_message_id]
            label = f"{message.rfc_message_id} ({message.status})"
            if copies == 1:
                report.sent_once += 1
            elif copies == 0:
                report.sent_never.append(label)
            else:
                report.sent_twice.append(label)

    def _gmail_ids(self, contacts: set[str]) -> set[str]:
        from email.utils import getaddresses

        ids = set()
        for message in self.google.messages(self.gmail.address):
            if {"SPAM", "TRASH", "DRAFT"} & set(message["labelIds"]):
                continue
            headers = message["headers"]
            people = {
                address.lower()
                for _, address in getaddresses(
                    [headers.get(name, "") for name in ("From", "To", "Cc", "Bcc")]
                )
            }
            if people & contacts:
                ids.add(message["rfc822MessageId"])
        return ids

    def _outlook_ids(self, contacts: set[str]) -> set[str]:
        ids = set()
        for folder in self.microsoft.mailbox(self.outlook.address)["folders"]:
            if str(folder["well_known_name"]).lower() in EXCLUDED_OUTLOOK_FOLDERS:
                continue
            for message in folder["messages"]:
                people = {
                    str(a).lower()
                    for a in [message["from"], *message["to"], *message["cc"]]
                    if a
                }
                if people & contacts and not message["is_draft"]:
                    ids.add(message["internet_message_id"])
        return ids

    def _sent_ids(self) -> list[str]:
        ids = [
            message["rfc822MessageId"]
            for message in self.google.messages(self.gmail.address, label="SENT")
        ]
        ids += [
            message["internet_message_id"]
            for message in self.microsoft.folder_messages(
                self.outlook.address, "sentitems"
            )
        ]
        return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--fault-rate", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--output")
    options = parser.parse_args()

    sandbox = harness.start_sandbox(seed=options.seed)
    harness.setup_django(options.database_url, fresh=True)
    report = Soak(sandbox, seed=options.seed).run(
        options.minutes * 60, options.fault_rate
    )
    print("\n".join(report.lines()))
    for problem in report.failures:
        print(f"FAIL: {problem}")
    path = harness.write_json(
        "soak",
        {
            "machine": harness.machine(),
            "minutes": options.minutes,
            "fault_rate": options.fault_rate,
            **report.as_dict(),
        },
        options.output,
    )
    print(f"\nWrote {path}")
    sandbox.stop()
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
