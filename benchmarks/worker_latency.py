"""Latency with a real worker: contact mail to timeline, and CRM send to Sent.

Usage::

    .venv/bin/python benchmarks/worker_latency.py \
        [--database-url postgres://postgres@127.0.0.1/revstackr_bench_worker] \
        [--redis-url redis://127.0.0.1:6379/7] [--samples 30] \
        [--output var/benchmarks/worker_latency.json]

A ``manage.py qcluster`` process (two workers, Redis broker) runs beside
this process, which holds the sandbox and a Gmail and an Outlook mailbox.

Send: the time ``queue_outbound_email`` takes (it only writes the outbox
and enqueues on commit; target p95 under 100 ms) and from that call to the
message being in the provider's Sent folder, the worker having taken the
task from the broker and sent it (target p95 under 2 s). Outlook files the
sent copy ``sent_copy_delay`` (0.5 s, as Graph's queueing) after sendMail;
that delay is included.

Arrival: the sync polls every minute, so a contact's message waits for the
next sweep, up to 60 s (uniform: p50 30 s, p95 57 s). The part that is
RevStackr's is measured: a message is delivered, a sync task is enqueued
as the sweep would, and the time until it is on the contact's timeline is
taken. The end-to-end figures add the interval's share to it.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revstackr_bench_worker"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
POLL_INTERVAL_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--output")
    options = parser.parse_args()

    import redis

    redis.Redis.from_url(options.redis_url).flushdb()
    harness.start_sandbox()
    harness.setup_django(options.database_url, fresh=True, redis_url=options.redis_url)
    from django.conf import settings

    from mailsync.sandbox.google.control_client import GoogleSandboxControl
    from mailsync.services.sync import sync_mailbox

    GoogleSandboxControl(settings.PROVIDER_SANDBOX_URL).set_quota(enabled=False)
    scene = harness.create_scene(contacts=50, name="Latency Traders")
    mailboxes = {
        provider: harness.connect_mailbox(
            scene.add_employee(f"{provider}-seller"), provider, f"sam@{provider}.test"
        )
        for provider in ("gmail", "outlook")
    }
    for mailbox in mailboxes.values():
        while sync_mailbox(mailbox_id=mailbox.pk).more:
            pass

    worker = start_worker(options)
    try:
        time.sleep(4)  # the cluster's workers start
        results: dict[str, Any] = {}
        for provider, mailbox in mailboxes.items():
            results[provider] = {
                "send": measure_sends(mailbox, scene, options.samples),
                "arrival": measure_arrivals(mailbox, scene, options.samples),
            }
    finally:
        stop_worker(worker)
        redis.Redis.from_url(options.redis_url).flushdb()

    print_table(results)
    path = harness.write_json(
        "worker_latency",
        {
            "machine": harness.machine(),
            "worker": "manage.py qcluster, 2 workers, Redis broker",
            "poll_interval_s": POLL_INTERVAL_SECONDS,
            "targets": {"queue_p95_ms": 100, "queue_to_sent_p95_ms": 2000},
            "results": results,
        },
        options.output,
    )
    print(f"\nWrote {path}")


def start_worker(options: argparse.Namespace) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "revstackr.settings",
        "DATABASE_URL": options.database_url,
        "REDIS_URL": options.redis_url,
        "Q_WORKERS": "2",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=harness.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def measure_sends(mailbox: Any, scene: harness.Scene, samples: int) -> dict[str, Any]:
    from django.conf import settings

    from contacts.models import ContactEmail
    from conversations.services import queue_outbound_email
    from mailsync.parsing import Address
    from mailsync.sandbox.google.control_client import GoogleSandboxControl
    from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl

    google = GoogleSandboxControl(settings.PROVIDER_SANDBOX_URL)
    microsoft = MicrosoftSandboxControl(settings.PROVIDER_SANDBOX_URL)

    def in_sent(rfc_message_id: str) -> bool:
        if mailbox.provider == "gmail":
            sent = google.messages(mailbox.address, label="SENT")
            return any(m["rfc822MessageId"] == rfc_message_id for m in sent)
        sent = microsoft.folder_messages(mailbox.address, "sentitems")
        return any(m["internet_message_id"] == rfc_message_id for m in sent)

    queue_ms: list[float] = []
    to_sent_ms: list[float] = []
    for number in range(samples):
        address = scene.contact_addresses[number % len(scene.contact_addresses)]
        contact_id = ContactEmail.objects.get(
            account_id=mailbox.account_id, normalized=address
        ).contact_id
        started = time.perf_counter()
        message = queue_outbound_email(
            author_id=mailbox.employee_id,
            account_id=mailbox.account_id,
            sending_mailbox_id=mailbox.pk,
            sender_address=mailbox.address,
            sender_name="Sam Seller",
            to=[Address(address, "")],
            subject=f"Latency {number}",
            text_body="Checking in about the order.",
            contact_ids=[contact_id],
        )
        queue_ms.append((time.perf_counter() - started) * 1000)
        wanted = message.rfc_message_id
        harness.wait_until(functools.partial(in_sent, wanted), seconds=30)
        to_sent_ms.append((time.perf_counter() - started) * 1000)
    return {
        "queue": harness.summary_ms(queue_ms),
        "to_sent": harness.summary_ms(to_sent_ms),
    }


def measure_arrivals(
    mailbox: Any, scene: harness.Scene, samples: int
) -> dict[str, Any]:
    from django.conf import settings
    from django_q.tasks import async_task

    from conversations.models import Message, ThreadContact
    from mailsync.sandbox.google.control_client import GoogleSandboxControl
    from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl

    google = GoogleSandboxControl(settings.PROVIDER_SANDBOX_URL)
    microsoft = MicrosoftSandboxControl(settings.PROVIDER_SANDBOX_URL)
    ours_ms: list[float] = []
    for number in range(samples):
        sender = scene.contact_addresses[number % len(scene.contact_addresses)]
        subject = f"Arrival {mailbox.provider} {number}"
        started = time.perf_counter()
        if mailbox.provider == "gmail":
            google.deliver(
                from_=sender,
                mailbox=mailbox.address,
                to=[mailbox.address],
                subject=subject,
            )
        else:
            microsoft.deliver(mailbox.address, sender=sender, subject=subject)
        async_task("mailsync.tasks.sync_one_mailbox", mailbox.pk)

        def on_timeline(subject: str = subject, sender: str = sender) -> bool:
            message = Message.objects.filter(subject=subject).first()
            return (
                message is not None
                and ThreadContact.objects.filter(
                    thread_id=message.thread_id, contact__emails__normalized=sender
                ).exists()
            )

        harness.wait_until(on_timeline, seconds=30)
        ours_ms.append((time.perf_counter() - started) * 1000)

    ours = harness.summary_ms(ours_ms)
    return {
        "ours": ours,
        # The wait for the next sweep is uniform over the interval.
        "end_to_end_p50_s": round(
            POLL_INTERVAL_SECONDS * 0.5 + ours["p50_ms"] / 1000, 1
        ),
        "end_to_end_p95_s": round(
            POLL_INTERVAL_SECONDS * 0.95 + ours["p95_ms"] / 1000, 1
        ),
    }


def print_table(results: dict[str, Any]) -> None:
    print()
    print(
        f"{'provider':9} {'queue p50':>10} {'queue p95':>10} {'to Sent p50':>12} "
        f"{'to Sent p95':>12} {'ours p50':>9} {'ours p95':>9} {'e2e p50':>8} "
        f"{'e2e p95':>8}"
    )
    for provider, row in results.items():
        send, arrival = row["send"], row["arrival"]
        queue, to_sent = send["queue"], send["to_sent"]
        print(
            f"{provider:9} {queue['p50_ms']:>8} ms {queue['p95_ms']:>7} ms "
            f"{to_sent['p50_ms']:>9} ms {to_sent['p95_ms']:>9} ms "
            f"{arrival['ours']['p50_ms']:>6} ms {arrival['ours']['p95_ms']:>6} ms "
            f"{arrival['end_to_end_p50_s']:>6} s {arrival['end_to_end_p95_s']:>6} s"
        )


if __name__ == "__main__":
    main()
