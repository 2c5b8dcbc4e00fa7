"""The sandbox on its own (``python -m mailsync.sandbox``), with its state
kept in a file across restarts, as the demo runs it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def standalone(port: int, state_file: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mailsync.sandbox",
            "--port",
            str(port),
            "--state-file",
            str(state_file),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{base_url}/_control/counters", timeout=1)  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_users_and_mail_survive_a_restart(tmp_path: Path) -> None:
    port, state_file = free_port(), tmp_path / "sandbox.json"

    with standalone(port, state_file) as base_url:
        GoogleSandboxControl(base_url).create_user("gina@gmail.test", "Gina")
        GoogleSandboxControl(base_url).deliver(
            from_="carol@client.example",
            mailbox="gina@gmail.test",
            to=["gina@gmail.test"],
            subject="Kept",
        )
        MicrosoftSandboxControl(base_url).create_user("owen@outlook.test", "Owen")

    with standalone(port, state_file) as base_url:
        google = GoogleSandboxControl(base_url)
        microsoft = MicrosoftSandboxControl(base_url)
        addresses = [user["address"] for user in google.users()]
        subjects = [
            message["headers"]["Subject"]
            for message in google.messages("gina@gmail.test")
        ]
        outlook_users = [user["address"] for user in microsoft.users()]

    assert addresses == ["gina@gmail.test"]
    assert subjects == ["Kept"]
    assert outlook_users == ["owen@outlook.test"]
