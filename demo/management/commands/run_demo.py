"""Run the whole product on one machine: web server, worker and sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from demo.services import DEMO_LOGINS, DEMO_PASSWORD, DEMO_SUPPORT


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

    def handle(self, *args: Any, **options: Any) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("DEBUG", "true")
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

        url = f"http://127.0.0.1:{options['port']}/"
        self._wait_for(url)
        self._print_welcome(url)

        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with {child.returncode}")
                        stopping = True
                time.sleep(0.5)
        finally:
            self._stop_all(children)

    def _wait_for(self, url: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "accounts/login/", timeout=2)  # noqa: S310
                return
            except OSError:
                time.sleep(0.3)
        self.stderr.write(f"the web server did not answer at {url} within {seconds} s")

    def _print_welcome(self, url: str) -> None:
        self.stdout.write(self.style.SUCCESS(f"\nRevStackr demo running at {url}"))
        self.stdout.write(f"Every login's password: {DEMO_PASSWORD}")
        for login in (*DEMO_LOGINS, DEMO_SUPPORT):
            self.stdout.write(f"  {login.email:<28} {login.name:<14} {login.note}")
        self.stdout.write(f"Django admin (support staff): {url}admin/")
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
