"""Queries and render time of a contact's timeline as it grows to 2,000
messages.

Usage::

    .venv/bin/python benchmarks/timeline_page.py \
        [--database-url postgres://postgres@127.0.0.1/revstackr_bench_page] \
        [--sizes 10,100,1000,2000] [--runs 50] \
        [--output var/benchmarks/timeline_page.json]

One contact writes with an employee. About half of the contact's messages
are one long thread (an odd number, so it opens and closes with the
contact's message), the rest threads of four; every other message is a
reply sent from the CRM, and every fifth reply carries a file. Every third
short thread is held by a teammate's mailbox shared as subject and
participants only, so the visibility rules meet both kinds of copy. The
rows are made with the conversations models and
``refresh_thread_summaries``, as a sync would leave them; no provider is
called, so no sandbox runs.

At each size the pages are read through ``django.test.Client`` signed in as
the employee: the contact's Conversations tab and the long thread's page.
Each page is read once to warm it (the first visit of a thread writes the
employee's read state), once counting queries, then ``--runs`` times for the
render time (the whole request: middleware, view and template). The target:
the number of queries does not grow with the messages; the render time at
2,000 messages is reported as p50 and p95.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness

if TYPE_CHECKING:
    from django.test import Client

    from accounts.models import Account, User
    from contacts.models import Contact
    from conversations.models import Message, Thread
    from mailsync.models import Mailbox

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revstackr_bench_page"
DEFAULT_SIZES = (10, 100, 1000, 2000)
THREAD_SIZE = 4
TEAMMATE_EVERY = 3
ATTACHMENT_EVERY = 5
PERMISSIONS = ("access_conversations", "access_contacts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=DEFAULT_SIZES,
        help="comma-separated message counts, ascending",
    )
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--output")
    options = parser.parse_args()

    harness.setup_django(options.database_url, fresh=True)
    # WhiteNoise warns that collectstatic never ran; the pages are measured
    # without their static files.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    timeline = Timeline.create()
    client = timeline.signed_in_client()

    sizes: dict[str, dict[str, dict[str, Any]]] = {}
    for size in options.sizes:
        started = time.perf_counter()
        timeline.grow_to(size)
        print(
            f"{size:,} messages on the contact "
            f"(made in {time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        sizes[str(size)] = {
            name: measure_page(client, url, options.runs)
            for name, url in timeline.pages().items()
        }

    largest = str(options.sizes[-1])
    flat = {
        name: len({figures[name]["queries"] for figures in sizes.values()}) == 1
        for name in timeline.pages()
    }
    print_table(sizes, flat)
    path = harness.write_json(
        "timeline_page",
        {
            "machine": harness.machine(),
            "layout": {
                "long_thread_messages": timeline.long_count,
                "short_threads": len(timeline.short_threads),
                "messages_per_short_thread": THREAD_SIZE,
                "teammate_thread_every": TEAMMATE_EVERY,
            },
            "runs": options.runs,
            "target": "queries flat from the smallest to the largest size",
            "queries_flat": flat,
            "render_at_largest": {
                name: figures["render"] for name, figures in sizes[largest].items()
            },
            "sizes": sizes,
        },
        options.output,
    )
    print(f"\nWrote {path}")


def _sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part) for part in text.split(",") if part.strip())
    if not sizes or list(sizes) != sorted(sizes) or sizes[0] < 1:
        raise argparse.ArgumentTypeError("give ascending positive counts: 10,100")
    return sizes


# The timeline ---------------------------------------------------------------


@dataclass
class Timeline:
    """The account, the contact, the two employees' mailboxes and the
    contact's threads, grown step by step."""

    account: Account
    contact: Contact
    contact_address: str
    employee: User
    mailbox: Mailbox
    teammate_mailbox: Mailbox
    long_thread: Thread
    start: datetime
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    short_threads: list[Thread] = field(default_factory=list)
    holders: dict[int, Mailbox] = field(default_factory=dict)
    long_count: int = 0
    short_count: int = 0
    made: int = 0
    replies: int = 0

    @classmethod
    def create(cls) -> Timeline:
        from django.contrib.auth.models import Permission
        from django.utils import timezone

        from contacts.models import Contact, ContactEmail
        from mailsync.models import Mailbox

        scene = harness.create_scene(contacts=50, name="Timeline Traders")
        employee = scene.add_employee("sam")
        teammate = scene.add_employee("pat")
        granted = Permission.objects.filter(
            content_type__app_label="accounts", codename__in=PERMISSIONS
        )
        for person in (employee, teammate):
            person.user_permissions.add(*granted)

        mailbox = Mailbox.objects.create(
            account=scene.account,
            employee=employee,
            provider=Mailbox.Provider.GMAIL,
            address="sam@gmail.test",
            state=Mailbox.State.ACTIVE,
        )
        teammate_mailbox = Mailbox.objects.create(
            account=scene.account,
            employee=teammate,
            provider=Mailbox.Provider.OUTLOOK,
            address="pat@outlook.test",
            state=Mailbox.State.ACTIVE,
            sharing=Mailbox.Sharing.METADATA,
        )
        address = scene.contact_addresses[0]
        contact = Contact.objects.get(
            pk=ContactEmail.objects.get(
                account=scene.account, normalized=address
            ).contact_id
        )
        long_thread = new_thread(contact, "Renewal of the contract", mailbox)
        return cls(
            account=scene.account,
            contact=contact,
            contact_address=address,
            employee=employee,
            mailbox=mailbox,
            teammate_mailbox=teammate_mailbox,
            long_thread=long_thread,
            start=timezone.now() - timedelta(days=60),
            holders={long_thread.pk: mailbox},
        )

    def signed_in_client(self) -> Client:
        from django.test import Client

        # The default ALLOWED_HOSTS has no "testserver".
        client = Client(SERVER_NAME="localhost")
        client.force_login(self.employee, backend="accounts.backends.EmployeeBackend")
        return client

    def pages(self) -> dict[str, str]:
        from django.urls import reverse

        return {
            "conversations tab": reverse(
                "contacts:conversations", args=[self.contact.pk]
            ),
            "thread page": reverse("conversations:thread", args=[self.long_thread.pk]),
        }

    def grow_to(self, total: int) -> None:
        """Add messages until the contact has ``total`` of them."""
        long_total = _long_share(total)
        in_long = [(self.long_thread, n) for n in range(self.long_count, long_total)]
        self.long_count = long_total

        in_short = []
        for number in range(self.short_count, total - long_total):
            index, position = divmod(number, THREAD_SIZE)
            if index == len(self.short_threads):
                holder = (
                    self.teammate_mailbox
                    if index % TEAMMATE_EVERY == TEAMMATE_EVERY - 1
                    else self.mailbox
                )
                subject = f"{self.rng.choice(harness.BODY_WORDS).title()} {index}"
                thread = new_thread(self.contact, subject, holder)
                self.holders[thread.pk] = holder
                self.short_threads.append(thread)
            in_short.append((self.short_threads[index], position))
        self.short_count = total - long_total

        # Both kinds of thread grow at once, as a contact's mail would.
        planned = [
            row
            for pair in zip_longest(in_long, in_short)
            for row in pair
            if row is not None
        ]
        self._store(planned)

    def _store(self, planned: list[tuple[Thread, int]]) -> None:
        from conversations.models import Attachment, Message, MessageLink
        from conversations.services import refresh_thread_summaries

        messages = []
        holders = []
        for thread, position in planned:
            holder = self.holders[thread.pk]
            self.made += 1
            if position % 2:
                self.replies += 1
                message = self._reply(thread, holder)
            else:
                message = self._from_contact(thread, holder)
            if position:
                message.subject = f"Re: {thread.subject}"
            messages.append(message)
            holders.append(holder)

        stored = Message.objects.bulk_create(messages)
        MessageLink.objects.bulk_create(
            MessageLink(
                message=message,
                mailbox=holder,
                provider_message_id=f"p{message.pk}",
                provider_thread_id=f"t{message.thread_id}",
            )
            for message, holder in zip(stored, holders, strict=True)
        )
        Attachment.objects.bulk_create(
            Attachment(
                message=message,
                filename=f"quote-{message.pk}.pdf",
                content_type="application/pdf",
                size=48_000,
                part_path="2",
            )
            for message in stored
            if message.has_attachments
        )
        refresh_thread_summaries({message.thread_id for message in stored})

    def _from_contact(self, thread: Thread, holder: Mailbox) -> Message:
        from conversations.models import Message

        return Message(
            account=self.account,
            thread=thread,
            rfc_message_id=f"<timeline{self.made}@client.example>",
            subject=thread.subject,
            sent_at=self.start + timedelta(minutes=20 * self.made),
            sender_address=self.contact_address,
            sender_name=str(self.contact),
            to=[{"address": holder.address, "name": holder.employee.full_name}],
            **self._body(),
        )

    def _reply(self, thread: Thread, holder: Mailbox) -> Message:
        """A reply written in the CRM by the holder and sent from it."""
        from conversations.models import Message

        return Message(
            account=self.account,
            thread=thread,
            rfc_message_id=f"<timeline{self.made}@northwind.test>",
            subject=thread.subject,
            sent_at=self.start + timedelta(minutes=20 * self.made),
            sender_address=holder.address,
            sender_name=holder.employee.full_name,
            to=[{"address": self.contact_address, "name": str(self.contact)}],
            has_attachments=self.replies % ATTACHMENT_EVERY == 0,
            direction=Message.Direction.OUTBOUND,
            status=Message.Status.SENT,
            author=holder.employee,
            sending_mailbox=holder,
            **self._body(),
        )

    def _body(self) -> dict[str, str]:
        # About 1 KB, the size of an ordinary business email.
        text = " ".join(self.rng.choice(harness.BODY_WORDS) for _ in range(150))
        return {"text_body": text, "snippet": text[:200]}


def new_thread(contact: Contact, subject: str, holder: Mailbox) -> Thread:
    """A thread on ``contact``'s timeline, known to ``holder``'s provider."""
    from conversations.models import Thread, ThreadContact, ThreadLink

    thread = Thread.objects.create(account_id=contact.account_id, subject=subject)
    ThreadContact.objects.create(thread=thread, contact=contact)
    ThreadLink.objects.create(
        thread=thread, mailbox=holder, provider_thread_id=f"t{thread.pk}"
    )
    return thread


def _long_share(total: int) -> int:
    """About half of ``total``, odd so that the contact has the last word."""
    half = total // 2
    return max(1, half if half % 2 else half - 1)


# Measuring ------------------------------------------------------------------


def measure_page(client: Client, url: str, runs: int) -> dict[str, Any]:
    """Queries of one read of the page (after a warming read), and the
    render time over ``runs`` reads."""
    _read(client, url)
    with harness.counting_queries() as queries:
        size = len(_read(client, url))

    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        _read(client, url)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "queries": queries.count,
        "bytes": size,
        "render": harness.summary_ms(timings),
    }


def _read(client: Client, url: str) -> bytes:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response.content


def print_table(
    sizes: dict[str, dict[str, dict[str, Any]]], flat: dict[str, bool]
) -> None:
    print()
    print(
        f"{'page':18} {'messages':>8} {'queries':>8} {'KB':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7}"
    )
    for size, pages in sizes.items():
        for name, figures in pages.items():
            render = figures["render"]
            print(
                f"{name:18} {int(size):>8,} {figures['queries']:>8} "
                f"{figures['bytes'] / 1024:>6.0f} {render['p50_ms']:>7} "
                f"{render['p95_ms']:>7}"
            )
    print()
    for name, is_flat in flat.items():
        print(f"{name}: queries {'flat' if is_flat else 'NOT flat'}")


if __name__ == "__main__":
    main()
