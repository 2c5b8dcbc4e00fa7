"""Time the first import of a 10,000-message Gmail and Outlook mailbox.

Usage::

    .venv/bin/python benchmarks/first_import.py \
        [--database-url postgres://postgres@127.0.0.1/revstackr_bench_sync] \
        [--messages 10000] [--with-contacts 2000] [--contacts 300] \
        [--with-quota] [--output var/benchmarks/first_import.json]

The sandbox runs in this process, on loopback, holding both mailboxes.
Each import runs in a worker process of its own (``--role sync``), which
calls ``sync_mailbox`` until the mailbox is caught up, the way the
worker's tasks do, and reports its wall and CPU time, database queries and
peak resident memory (``VmHWM``: ``ru_maxrss`` would carry this process's
size into the worker across exec). The floor is what the client libraries
alone need for the same provider calls: another process (``--role
replay``) makes them with a bare client, without parsing or the database.
It runs before and after the import; the ratio is to the later (warm) one.

Quota enforcement is off for the main figures (they measure RevStackr's
own cost). ``--with-quota`` also imports a second copy of each mailbox,
in a second account, with Gmail's default 6,000 units a minute and Graph's
throttling on; the worker then waits out each refusal as the scheduler
would (a sweep every minute). Gmail's quota then sets the pace: each
refusal waits for its Retry-After and the next sweep, about six minutes
for 1,000 stored messages (``--messages 5000 --with-contacts 1000``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness

SWEEP_SECONDS = 60.0


# The parent: sandbox, scene, and one worker process per measurement ------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", harness.DEFAULT_URL),
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--with-contacts", type=int, default=2_000)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--with-quota", action="store_true")
    parser.add_argument("--output")
    parser.add_argument("--role", choices=["sync", "replay"], help=argparse.SUPPRESS)
    parser.add_argument("--mailbox-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--provider", help=argparse.SUPPRESS)
    parser.add_argument(
        "--follow-schedule", action="store_true", help=argparse.SUPPRESS
    )
    options = parser.parse_args()

    if options.role == "sync":
        print(json.dumps(worker_sync(options)))
        return
    if options.role == "replay":
        print(json.dumps(worker_replay(options)))
        return

    sandbox = harness.start_sandbox()
    harness.setup_django(options.database_url, fresh=True)
    from django.conf import settings

    from mailsync.sandbox.google.control_client import GoogleSandboxControl
    from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl

    base_url = settings.PROVIDER_SANDBOX_URL
    google = GoogleSandboxControl(base_url)
    microsoft = MicrosoftSandboxControl(base_url)

    phases = [("quota off", False)] + (
        [("quota on", True)] if options.with_quota else []
    )
    results: dict[str, Any] = {}
    for phase, quota in phases:
        google.set_quota(enabled=quota, reset_usage=True)
        microsoft.settings(throttling_enabled=quota)
        scene = harness.create_scene(
            contacts=options.contacts, name=f"Benchmark Traders ({phase})"
        )
        suffix = "quota" if quota else "free"
        for provider in ("gmail", "outlook"):
            address = f"seller.{suffix}@{provider}.test"
            employee = scene.add_employee(f"{provider}-{suffix}")
            mailbox = harness.connect_mailbox(employee, provider, address)
            messages = harness.mailbox_messages(
                owner=address,
                contact_addresses=scene.contact_addresses,
                total=options.messages,
                with_contacts=options.with_contacts,
                rng=random.Random(7),
            )
            started = time.perf_counter()
            if provider == "gmail":
                harness.seed_gmail(base_url, address, messages)
            else:
                harness.seed_outlook(base_url, address, messages)
            print(
                f"[{phase}] seeded {len(messages):,} messages into {address} "
                f"in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            results[f"{provider} ({phase})"] = measure(
                sandbox,
                options,
                provider=provider,
                address=address,
                mailbox_id=mailbox.pk,
                quota=quota,
            )

    print_table(results)
    path = harness.write_json(
        "first_import",
        {
            "machine": harness.machine(),
            "messages_per_mailbox": options.messages,
            "messages_with_contacts": options.with_contacts,
            "contacts": options.contacts,
            "memory_measure": "VmHWM of the worker process (MB)",
            "targets": {
                "ratio_to_floor": 1.3,
                "gmail_units_per_stored": 25,
                "graph_requests_per_stored": 1.2,
                "queries_per_stored": 3,
                "worker_peak_mb": 300,
            },
            "imports": results,
        },
        options.output,
    )
    print(f"\nWrote {path}")
    sandbox.stop()


def measure(
    sandbox: Any,
    options: argparse.Namespace,
    *,
    provider: str,
    address: str,
    mailbox_id: int,
    quota: bool,
) -> dict[str, Any]:
    sandbox_provider = "google" if provider == "gmail" else "microsoft"
    figures: dict[str, Any] = {}
    if not quota:
        figures["floor_cold_s"] = _child(
            options, "replay", provider=provider, token=_token(provider, address)
        )["seconds"]

    sandbox.counters.reset()
    sync = _child(options, "sync", mailbox_id=mailbox_id, follow_schedule=quota)
    calls = harness.provider_calls(
        sandbox.counters.snapshot(), address, sandbox_provider
    )
    stored = sync["stored"]
    figures.update(sync)
    figures["provider_calls"] = calls
    figures["messages_per_second"] = round(stored / sync["seconds"], 1)
    figures["queries_per_stored"] = round(sync["queries"] / stored, 2)
    if provider == "gmail":
        units = sum(row["units"] for row in calls.values())
        figures["gmail_units"] = units
        figures["gmail_units_per_stored"] = round(units / stored, 2)
    else:
        requests = sum(row["calls"] for row in calls.values())
        figures["graph_requests"] = requests
        figures["graph_requests_per_stored"] = round(requests / stored, 3)

    if not quota:
        sandbox.counters.reset()
        replay = _child(
            options, "replay", provider=provider, token=_token(provider, address)
        )
        figures["floor_s"] = replay["seconds"]
        figures["floor_calls"] = harness.provider_calls(
            sandbox.counters.snapshot(), address, sandbox_provider
        )
        figures["ratio_to_floor"] = round(sync["seconds"] / replay["seconds"], 2)
        # The machine may be busy with other work: CPU time is what each
        # process spent itself, whatever else ran beside it.
        figures["floor_cpu_s"] = replay["cpu_s"]
        figures["cpu_ratio_to_floor"] = round(sync["cpu_s"] / replay["cpu_s"], 2)
    print(f"  {provider}: {json.dumps(_headline(figures))}", flush=True)
    return figures


def _headline(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in figures.items()
        if key not in ("provider_calls", "floor_calls")
    }


def _token(provider: str, address: str) -> str:
    """A fresh access token for the replay, granted like the mailbox's."""
    return str(harness.grant_tokens(provider, address)["access_token"])


def _child(options: argparse.Namespace, role: str, **arguments: Any) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--role",
        role,
        "--database-url",
        options.database_url,
    ]
    for name, value in arguments.items():
        if value is True:
            command.append(f"--{name.replace('_', '-')}")
        elif value not in (None, False):
            command += [f"--{name.replace('_', '-')}", str(value)]
    done = subprocess.run(  # noqa: S603 - this very script
        command, capture_output=True, text=True, env=os.environ.copy(), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{role} worker failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def print_table(results: dict[str, Any]) -> None:
    print()
    header = (
        f"{'import':22} {'stored':>7} {'wall s':>7} {'msg/s':>7} {'floor s':>8} "
        f"{'ratio':>6} {'cpu ratio':>9} {'units/msg':>9} {'req/msg':>8} "
        f"{'q/msg':>6} {'peak MB':>8}"
    )
    print(header)
    for name, row in results.items():
        print(
            f"{name:22} {row['stored']:>7} {row['seconds']:>7.1f} "
            f"{row['messages_per_second']:>7.1f} "
            f"{row.get('floor_s', float('nan')):>8.1f} "
            f"{row.get('ratio_to_floor', float('nan')):>6.2f} "
            f"{row.get('cpu_ratio_to_floor', float('nan')):>9.2f} "
            f"{row.get('gmail_units_per_stored', float('nan')):>9.2f} "
            f"{row.get('graph_requests_per_stored', float('nan')):>8.3f} "
            f"{row['queries_per_stored']:>6.2f} {row['peak_rss_mb']:>8.1f}"
        )
    print()
    for name, row in results.items():
        calls = ", ".join(
            f"{op} {c['calls']}" for op, c in row["provider_calls"].items()
        )
        print(f"{name}: {calls}")


# The worker process: the sync itself ---------------------------------------


def worker_sync(options: argparse.Namespace) -> dict[str, Any]:
    """Import one mailbox as the worker's tasks would; report the cost."""
    harness.setup_django(options.database_url, fresh=False)
    from django.db import connection
    from django.utils import timezone

    from conversations.models import Message
    from mailsync.models import Mailbox
    from mailsync.services.sync import sync_mailbox

    connection.ensure_connection()
    rss_before = harness.peak_rss_mb()
    mailbox = Mailbox.objects.get(pk=options.mailbox_id)
    before = Message.objects.filter(account_id=mailbox.account_id).count()
    tasks = backoffs = 0
    waited = 0.0

    started = time.perf_counter()
    cpu_started = harness.cpu_seconds()
    with harness.counting_queries() as queries:
        while True:
            outcome = sync_mailbox(mailbox_id=mailbox.pk)
            tasks += 1
            mailbox.refresh_from_db()
            if mailbox.state == Mailbox.State.BACKING_OFF and mailbox.backoff_until:
                if not options.follow_schedule:
                    raise RuntimeError(f"backing off: {mailbox.last_error}")
                # The scheduler sweeps every minute: the mailbox is taken up
                # at the first sweep after its backoff ends.
                backoffs += 1
                elapsed = time.perf_counter() - started
                due = elapsed + (mailbox.backoff_until - timezone.now()).total_seconds()
                next_sweep = (int(due // SWEEP_SECONDS) + 1) * SWEEP_SECONDS
                pause = max(0.0, next_sweep - elapsed)
                waited += pause
                time.sleep(pause)
                continue
            if not outcome.more:
                break
    seconds = time.perf_counter() - started
    cpu = harness.cpu_seconds() - cpu_started

    stored = Message.objects.filter(account_id=mailbox.account_id).count() - before
    return {
        "stored": stored,
        "seconds": round(seconds, 2),
        "cpu_s": round(cpu, 2),
        "tasks": tasks,
        "backoffs": backoffs,
        "waited_s": round(waited, 1),
        "queries": queries.count,
        "rss_before_mb": rss_before,
        "peak_rss_mb": harness.peak_rss_mb(),
    }


# The floor: the same provider calls with the bare client ------------------


def worker_replay(options: argparse.Namespace) -> dict[str, Any]:
    harness.setup_django(options.database_url, fresh=False)
    from django.conf import settings
    from django.utils import timezone

    from contacts.models import ContactEmail
    from mailsync.models import Mailbox

    mailbox = Mailbox.objects.get(
        provider=options.provider, address__startswith="seller.free@"
    )
    contacts = sorted(
        ContactEmail.objects.filter(account_id=mailbox.account_id).values_list(
            "normalized", flat=True
        )
    )
    window_start = timezone.now() - timedelta(days=mailbox.account.import_window_days)

    started = time.perf_counter()
    cpu_started = harness.cpu_seconds()
    if options.provider == "gmail":
        fetched = _replay_gmail(
            options.token, settings.GOOGLE_ENDPOINTS["api_root"], contacts, window_start
        )
    else:
        fetched = asyncio.run(
            _replay_graph(
                options.token,
                f"{settings.MICROSOFT_ENDPOINTS['graph']}/v1.0",
                set(contacts),
                window_start,
            )
        )
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_s": round(harness.cpu_seconds() - cpu_started, 2),
        "fetched": fetched,
    }


def _replay_gmail(
    token: str, root_url: str, contacts: list[str], window_start: Any
) -> int:
    from google.oauth2.credentials import Credentials

    from mailsync.providers.gmail import BATCH_SIZE, search_queries
    from mailsync.providers.gmail_api import build_gmail_service

    service = build_gmail_service(Credentials(token), root_url)
    messages = service.users().messages()
    profile = service.users().getProfile(userId="me").execute()

    fetched = 0
    for query in search_queries(contacts, window_start):
        page_token = None
        while True:
            answer = messages.list(
                userId="me", q=query, maxResults=100, pageToken=page_token
            ).execute()
            ids = [stub["id"] for stub in answer.get("messages", [])]
            for start in range(0, len(ids), BATCH_SIZE):
                raws: list[Any] = []
                batch = service.new_batch_http_request(
                    callback=lambda _id, response, _error, raws=raws: raws.append(
                        response
                    )
                )
                for message_id in ids[start : start + BATCH_SIZE]:
                    batch.add(messages.get(userId="me", id=message_id, format="raw"))
                batch.execute()
                fetched += len(raws)
            page_token = answer.get("nextPageToken")
            if not page_token:
                break

    service.users().history().list(
        userId="me", startHistoryId=profile["historyId"], maxResults=100
    ).execute()
    return fetched


async def _replay_graph(
    token: str, base_url: str, contacts: set[str], window_start: Any
) -> int:
    from datetime import UTC

    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.item.mail_folders.item.messages.delta.delta_request_builder import (  # noqa: E501
        DeltaRequestBuilder,
    )

    from mailsync.providers.graph_api import build_graph_client
    from mailsync.providers.outlook import (
        DELTA_FIELDS,
        DELTA_PAGE_SIZE,
        IMMUTABLE_IDS,
        OutlookProvider,
        _participants,
    )

    client = build_graph_client(base_url, token)
    # The folder walk is nothing but client calls; reuse it as it is.
    folders = await OutlookProvider(token, base_url=base_url)._refresh_folders(
        client, {}
    )

    def config() -> RequestConfiguration[Any]:
        settings = RequestConfiguration[Any]()
        settings.headers.add("Prefer", IMMUTABLE_IDS)
        settings.headers.add("Prefer", f"odata.maxpagesize={DELTA_PAGE_SIZE}")
        return settings

    since = window_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fetched = 0
    delta_links = {}
    for folder_id in folders:
        builder = client.me.mail_folders.by_mail_folder_id(folder_id).messages.delta
        first = config()
        first.query_parameters = (
            DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
                select=DELTA_FIELDS, filter=f"receivedDateTime ge {since}"
            )
        )
        answer = await builder.get(request_configuration=first)
        while answer is not None:
            for item in answer.value or []:
                if item.is_draft or not contacts & _participants(item):
                    continue
                mime = config()
                await client.me.messages.by_message_id(str(item.id)).content.get(
                    request_configuration=mime
                )
                fetched += 1
            if answer.odata_delta_link:
                delta_links[folder_id] = answer.odata_delta_link
                break
            answer = await builder.with_url(str(answer.odata_next_link)).get(
                request_configuration=config()
            )

    for folder_id, link in delta_links.items():
        builder = client.me.mail_folders.by_mail_folder_id(folder_id).messages.delta
        await builder.with_url(link).get(request_configuration=config())
    return fetched


if __name__ == "__main__":
    main()
