"""The core round trip with a real qcluster process, on each broker.

Send from the CRM, find it in the provider's Sent folder once, have the
contact reply, and see the reply join the CRM thread, with the worker
being a separate ``manage.py qcluster`` process as in production.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django_q.conf import Conf
from django_q.tasks import async_task

from accounts.models import User
from contacts.models import Contact
from conversations.models import Message
from conversations.services import queue_outbound_email
from mailsync.models import Mailbox
from mailsync.parsing import Address
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory
from tests.mailsync.conftest import ConnectMailbox

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CAROL = "carol@client.example"


def database_url() -> str:
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = config.get("USER") or "postgres"
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{config['NAME']}"


@pytest.fixture(params=["orm", "redis"])
def worker(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """A qcluster process on the broker named by the parameter; tasks this
    test enqueues go to the same broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "revstackr.settings",
        "DATABASE_URL": database_url(),
        "PROVIDER_SANDBOX_URL": settings.PROVIDER_SANDBOX_URL,
        "Q_WORKERS": "1",
    }
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        env["REDIS_URL"] = url
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", url)
    else:
        env.pop("REDIS_URL", None)
        monkeypatch.setattr(Conf, "ORM", "default")

    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield
    finally:
        # qcluster's graceful stop takes many seconds; the test's work is
        # checked already, so a short grace then the whole group goes.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if request.param == "redis":
            # Leave no tasks of ours behind in a shared Redis.
            import redis

            redis.Redis.from_url(env["REDIS_URL"]).delete(f"django_q:{Conf.PREFIX}:q")


def wait_for(condition: Callable[[], Any], *, seconds: float = 45) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("the worker did not get there in time")


@pytest.fixture
def sam(db: None) -> User:
    return EmployeeFactory(email="sam@northwind.test", full_name="Sam Seller")


@pytest.fixture
def carol(sam: User) -> Contact:
    return ContactFactory(account=sam.account, addresses=[CAROL])


def send_from_the_crm(sam: User, mailbox: Mailbox, carol: Contact) -> Message:
    return queue_outbound_email(
        author_id=sam.pk,
        account_id=mailbox.account_id,
        sending_mailbox_id=mailbox.pk,
        sender_address=mailbox.address,
        sender_name=sam.full_name,
        to=[Address(CAROL, "Carol")],
        subject="Our proposal",
        text_body="Please find our proposal.",
        contact_ids=[carol.pk],
    )


def in_thread(message: Message) -> int:
    return Message.objects.filter(thread_id=message.thread_id).count()


def test_gmail_round_trip_through_a_real_worker(
    worker: None,
    sam: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    google_sandbox: GoogleSandboxControl,
) -> None:
    mailbox = connect_mailbox(sam, Mailbox.Provider.GMAIL, "sam@gmail.test")
    message = send_from_the_crm(sam, mailbox, carol)

    wait_for(lambda: Message.objects.get(pk=message.pk).status == Message.Status.SENT)
    sent = google_sandbox.messages("sam@gmail.test", label="SENT")
    google_sandbox.deliver(
        from_=CAROL,
        mailbox="sam@gmail.test",
        to=["sam@gmail.test"],
        subject="Re: Our proposal",
        in_reply_to=sent[0]["id"],
    )
    async_task("mailsync.tasks.sync_one_mailbox", mailbox.pk)

    wait_for(lambda: in_thread(message) == 2)
    assert len(google_sandbox.messages("sam@gmail.test", label="SENT")) == 1


def test_outlook_round_trip_through_a_real_worker(
    worker: None,
    sam: User,
    carol: Contact,
    connect_mailbox: ConnectMailbox,
    microsoft_sandbox: MicrosoftSandboxControl,
) -> None:
    microsoft_sandbox.settings(sent_copy_delay=0)
    mailbox = connect_mailbox(sam, Mailbox.Provider.OUTLOOK, "sam@outlook.test")
    message = send_from_the_crm(sam, mailbox, carol)

    wait_for(lambda: Message.objects.get(pk=message.pk).status == Message.Status.SENT)
    microsoft_sandbox.deliver(
        "sam@outlook.test",
        sender=CAROL,
        subject="RE: Our proposal",
        reply_to_internet_message_id=message.rfc_message_id,
    )
    async_task("mailsync.tasks.sync_one_mailbox", mailbox.pk)

    wait_for(lambda: in_thread(message) == 2)
    sent = microsoft_sandbox.folder_messages("sam@outlook.test", "sentitems")
    assert [m["internet_message_id"] for m in sent] == [message.rfc_message_id]
