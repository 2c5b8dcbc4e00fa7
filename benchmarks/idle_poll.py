"""Cost of polling mailboxes with nothing new, and of sweeping 1,000 of them.

Usage::

    .venv/bin/python benchmarks/idle_poll.py \
        [--database-url postgres://postgres@127.0.0.1/revstackr_bench_idle] \
        [--mailboxes 1000] [--output var/benchmarks/idle_poll.json]

Half the mailboxes are Gmail, half Outlook, each already imported (a few
messages with contacts). One idle poll of each provider is measured for
provider calls (the sandbox's counters) and database queries
(``connection.execute_wrapper``, with the statements listed). Then two
workers sweep every mailbox once: two threads in this process, each
calling ``sync_mailbox`` on its half of ``due_mailbox_ids()``, as two
single-worker ``qcluster`` processes would. The targets: one provider call
for Gmail and one per synced folder for Outlook, at most 5 queries.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revstackr_bench_idle"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--output")
    options = parser.parse_args()

    sandbox = harness.start_sandbox()
    harness.setup_django(options.database_url, fresh=True)
    from django.conf import settings

    from mailsync.sandbox.google.control_client import GoogleSandboxControl

    GoogleSandboxControl(settings.PROVIDER_SANDBOX_URL).set_quota(enabled=False)
    scene = harness.create_scene(contacts=300, name="Idle Traders")

    print(f"Connecting and importing {options.mailboxes:,} mailboxes...", flush=True)
    started = time.perf_counter()
    mailbox_ids = prepare_mailboxes(scene, options.mailboxes)
    print(f"  in {time.perf_counter() - started:.0f} s", flush=True)

    polls = {
        provider: one_idle_poll(sandbox, mailbox_ids[provider][0])
        for provider in ("gmail", "outlook")
    }
    sweep = sweep_all([*mailbox_ids["gmail"], *mailbox_ids["outlook"]])

    print()
    print(f"{'idle poll':10} {'provider calls':>15} {'folders':>8} {'queries':>8}")
    for provider, poll in polls.items():
        print(
            f"{provider:10} {poll['provider_calls']:>15} "
            f"{poll.get('folders', '-'):>8} {poll['queries']:>8}"
        )
    print()
    print(
        f"two workers swept {sweep['mailboxes']:,} idle mailboxes in "
        f"{sweep['seconds']:.1f} s ({sweep['per_mailbox_ms']:.1f} ms each, "
        f"{sweep['per_worker_mailboxes_per_minute']:.0f} a minute per worker)"
    )
    for provider, poll in polls.items():
        print(f"\n{provider} idle poll statements:")
        for statement in poll["statements"]:
            print(f"  {statement}")

    path = harness.write_json(
        "idle_poll",
        {
            "machine": harness.machine(),
            "targets": {
                "gmail_calls": 1,
                "outlook_calls": "1 per folder",
                "queries": 5,
            },
            "idle_poll": polls,
            "sweep": sweep,
            "sweep_method": "2 threads in one process, each sync_mailbox on half",
        },
        options.output,
    )
    print(f"\nWrote {path}")
    sandbox.stop()


def prepare_mailboxes(scene: harness.Scene, count: int) -> dict[str, list[int]]:
    """Connect ``count`` mailboxes with a little mail each, imported."""
    from django.conf import settings
    from django.db import connection

    from mailsync.sandbox.google.control_client import GoogleSandboxControl
    from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
    from mailsync.services.sync import sync_mailbox

    base_url = settings.PROVIDER_SANDBOX_URL
    google = GoogleSandboxControl(base_url)
    microsoft = MicrosoftSandboxControl(base_url)
    rng = random.Random(5)
    ids: dict[str, list[int]] = {"gmail": [], "outlook": []}
    for number in range(count):
        provider = "gmail" if number % 2 == 0 else "outlook"
        address = f"rep{number}@{provider}.test"
        employee = scene.add_employee(f"rep{number}")
        mailbox = harness.connect_mailbox(employee, provider, address)
        messages = harness.mailbox_messages(
            owner=address,
            contact_addresses=scene.contact_addresses,
            total=4,
            with_contacts=2,
            rng=rng,
            per_thread=2,
        )
        if provider == "gmail":
            harness.seed_gmail(base_url, address, messages)
        else:
            harness.seed_outlook(base_url, address, messages)
        ids[provider].append(mailbox.pk)

    def import_all(chunk: list[int]) -> None:
        try:
            for mailbox_id in chunk:
                while sync_mailbox(mailbox_id=mailbox_id).more:
                    pass
        finally:
            connection.close()

    every = ids["gmail"] + ids["outlook"]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(import_all, [every[0::2], every[1::2]]))
    del google, microsoft
    return ids


def one_idle_poll(sandbox: Any, mailbox_id: int) -> dict[str, Any]:
    from django.db import connection

    from mailsync.models import Mailbox
    from mailsync.services.sync import sync_mailbox

    mailbox = Mailbox.objects.get(pk=mailbox_id)
    sandbox_provider = "google" if mailbox.provider == "gmail" else "microsoft"
    sandbox.counters.reset()
    statements: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(" ".join(sql.split())[:110])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        outcome = sync_mailbox(mailbox_id=mailbox_id)
    assert outcome.ran and not outcome.more, outcome

    calls = harness.provider_calls(
        sandbox.counters.snapshot(), mailbox.address, sandbox_provider
    )
    poll: dict[str, Any] = {
        "provider_calls": sum(row["calls"] for row in calls.values()),
        "calls": calls,
        "queries": len(statements),
        "statements": statements,
    }
    if mailbox.provider == "outlook":
        mailbox.refresh_from_db()
        poll["folders"] = len(mailbox.cursor.get("folders", {}))
    return poll


def sweep_all(mailbox_ids: list[int]) -> dict[str, Any]:
    from django.db import connection

    from mailsync.services.sync import due_mailbox_ids, sync_mailbox

    due = sorted(set(due_mailbox_ids()) & set(mailbox_ids))
    ran = [0, 0]
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            for mailbox_id in due[index::2]:
                if sync_mailbox(mailbox_id=mailbox_id).ran:
                    with lock:
                        ran[index] += 1
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "mailboxes": sum(ran),
        "seconds": round(seconds, 2),
        "per_mailbox_ms": round(seconds * 1000 * 2 / max(1, sum(ran)), 1),
        "per_worker_mailboxes_per_minute": round(60 * sum(ran) / 2 / seconds),
    }


if __name__ == "__main__":
    main()
