"""Run the whole product on one machine: web server, worker and sandbox."""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from demo.history import DEMO_MAILBOXES
from demo.sandbox_mail import deliver_live_reply, seed_demo_mailboxes, wait_for_sandbox
from demo.services import DEMO_ACCOUNT_NAME, DEMO_LOGINS, DEMO_PASSWORD, DEMO_SUPPORT


class Command(BaseCommand):
    help = "Start the sandbox, a qcluster worker and the web server; Ctrl-C stops all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("PORT", 8000))
        )
        parser.add_argument(
            "--sandbox-port",
            type=int,
            default=int(os.environ.get("SANDBOX_PORT", 8025)),
        )
        parser.add_argument(
            "--live-mail-every",
            type=float,
            default=float(os.environ.get("DEMO_LIVE_MAIL_SECONDS", 60)),
            metavar="SECONDS",
            help="how often a demo contact answers a thread of a connected "
            "mailbox (0 turns the live mail off)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = f"http://127.0.0.1:{options['port']}/"
        sandbox_url = f"http://127.0.0.1:{options['sandbox_port']}"
        # The web server and the worker must talk to the sandbox started
        # here, whatever port it was given.
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PROVIDER_SANDBOX_URL": sandbox_url,
        }
        env.setdefault("DEBUG", "true")
        env.setdefault("SITE_URL", url.rstrip("/"))
        logging.getLogger("httpx").setLevel(logging.WARNING)

        self.stopping = False

        def stop(*_: Any) -> None:
            self.stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

        python = sys.executable
        state_file = os.path.join(
            os.environ.get("REVSTACKR_VAR_DIR", "var"), "sandbox.json"
        )
        commands = {
            "sandbox": [
                python,
                "-m",
                "mailsync.sandbox",
                "--port",
                str(options["sandbox_port"]),
                "--state-file",
                state_file,
            ],
            "worker": [python, "manage.py", "qcluster"],
            "web": [
                python,
                "manage.py",
                "runserver",
                "--noreload",
                f"127.0.0.1:{options['port']}",
            ],
        }
        children = {
            name: subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603
            for name, command in commands.items()
        }
        try:
            self._seed_sandbox(sandbox_url)
            self._wait_for(url)
            if not self.stopping:
                self._print_welcome(url, options["live_mail_every"])
            self._watch(children, sandbox_url, options["live_mail_every"])
        finally:
            self._stop_all(children)

    def _seed_sandbox(self, sandbox_url: str) -> None:
        if not wait_for_sandbox(sandbox_url):
            self.stderr.write(f"the sandbox did not answer at {sandbox_url}")
            self.stopping = True
            return
        created = seed_demo_mailboxes(sandbox_url=sandbox_url)
        for mailbox in DEMO_MAILBOXES:
            count = sum(len(thread.messages) for thread in mailbox.threads)
            what = (
                f"created with {count} messages of history"
                if mailbox.address in created
                else "already in the sandbox"
            )
            self.stdout.write(
                f"Sandbox mailbox {mailbox.address} ({mailbox.provider}): {what}"
            )

    def _watch(
        self,
        children: dict[str, subprocess.Popen[bytes]],
        sandbox_url: str,
        live_mail_every: float,
    ) -> None:
        """Until Ctrl-C or a child's end, and deliver the live mail."""
        rng = random.Random()
        next_reply = time.monotonic() + live_mail_every
        while not self.stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(f"{name} exited with {child.returncode}")
                    self.stopping = True
            if live_mail_every > 0 and time.monotonic() >= next_reply:
                next_reply = time.monotonic() + live_mail_every
                self._deliver_live_reply(sandbox_url, rng)
            time.sleep(0.5)

    def _deliver_live_reply(self, sandbox_url: str, rng: random.Random) -> None:
        from mailsync.models import Mailbox

        connected = Mailbox.objects.filter(
            account__name=DEMO_ACCOUNT_NAME,
            is_current=True,
            state__in=[
                Mailbox.State.IMPORTING,
                Mailbox.State.ACTIVE,
                Mailbox.State.BACKING_OFF,
            ],
        )
        mailboxes = [(m.provider, m.address) for m in connected]
        if not mailboxes:
            return
        try:
            done = deliver_live_reply(
                sandbox_url=sandbox_url, mailboxes=mailboxes, rng=rng
            )
        except Exception as error:  # the demo goes on without this one reply
            self.stderr.write(f"live mail: no reply this time ({error})")
            return
        if done:
            self.stdout.write(f"Live mail: {done}")

    def _wait_for(self, url: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.stopping:
            try:
                urllib.request.urlopen(url + "accounts/login/", timeout=2)  # noqa: S310
                return
            except OSError:
                time.sleep(0.3)
        if not self.stopping:
            self.stderr.write(
                f"the web server did not answer at {url} within {seconds} s"
            )

    def _print_welcome(self, url: str, live_mail_every: float) -> None:
        self.stdout.write(self.style.SUCCESS(f"\nRevStackr demo running at {url}"))
        self.stdout.write(f"Every login's password: {DEMO_PASSWORD}")
        for login in (*DEMO_LOGINS, DEMO_SUPPORT):
            self.stdout.write(f"  {login.email:<28} {login.name:<14} {login.note}")
        self.stdout.write(f"Django admin (support staff): {url}admin/")
        self.stdout.write(
            "On My Profile, Gina connects Gmail as gina@gmail.test and Owen "
            "connects Outlook as owen@outlook.test (the sandbox's consent "
            "screen asks for no password)."
        )
        if live_mail_every > 0:
            self.stdout.write(
                f"Every {live_mail_every:g} s a contact answers a thread of a "
                "connected mailbox (DEMO_LIVE_MAIL_SECONDS=0 turns it off)."
            )
        self.stdout.write("Press Ctrl-C to stop everything.\n")

    def _stop_all(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for name, child in children.items():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop; killing it")
                os.killpg(child.pid, signal.SIGKILL)
        self.stdout.write("Stopped.")
