"""Fixtures of the browser tests: Debian's Chromium driven by Playwright.

The app runs in pytest-django's live server (a thread of this process, on
the transactional test database) and the provider sandbox at the address
the test settings gave it; the browser reaches both on 127.0.0.1, so the
OAuth pop-up goes from one site to the other exactly as with the real
providers. No worker process runs: a test calls the send and sync services
itself at the moment a worker would, which keeps every step in order.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from django.core import mail
from django.db import connections
from django_q.conf import Conf

from accounts.models import User
from mailsync.sandbox import Sandbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.conftest import service_missing
from tests.factories import AdminFactory

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
T = TypeVar("T")
INVITATION_LINK = re.compile(r"https?://\S+/settings/staff/invitations/\S+/")


@pytest.fixture(autouse=True)
def browser_friendly_settings(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Playwright's sync API keeps an event loop running in the test thread,
    # which Django takes for async code; the test's own queries are plain
    # synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False

    # Tasks the pages enqueue go to the test database's ORM queue, which
    # is emptied with it, never to a Redis another test shares.
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "REDIS", None)


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Chromium, started for one test and stopped after it (the
    event loop Playwright keeps must not outlive the test)."""
    if not CHROMIUM.exists():
        service_missing(
            f"needs Debian's Chromium at {CHROMIUM}: apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    args = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-gpu",
    ]
    if os.geteuid() == 0:
        args.insert(0, "--no-sandbox")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=args, headless=True
        )
        yield browser
        browser.close()


@dataclass
class Site:
    """The live server as the browser sees it."""

    url: str

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture
def site(live_server: Any) -> Site:
    # On 127.0.0.1 like the sandbox: one site for the browser's cookie
    # rules, so the provider's form_post back to the app keeps the session.
    return Site(live_server.url.replace("localhost", "127.0.0.1"))


NewPage = Callable[[], Any]


@pytest.fixture
def new_page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[NewPage]:
    """Open a page in a fresh browser context: one person's browser."""
    contexts: list[Any] = []

    def open_page() -> Any:
        context = chromium.new_context(
            viewport={"width": 1280, "height": 800}, device_scale_factor=1
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def as_the_worker(task: Callable[[], T]) -> T:
    """Run one step of the worker's job (a send, a sync) in a thread of its
    own, as the worker process would: away from the event loop Playwright
    keeps in the test thread, since the Graph client runs one of its own."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = task()
        except BaseException as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    worker = threading.Thread(target=work, name="browser-test-worker")
    worker.start()
    worker.join(timeout=120)
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["value"])


def screenshot(page: Any, name: str) -> Path:
    """Keep a picture of the page in test-artifacts/ for people to look at
    (the README's pictures in docs/ are chosen from these)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def invitation_link(address: str) -> str:
    """The link of the newest invitation mailed to ``address``.

    The live server runs in a thread of this process, so the locmem
    backend's outbox is the one this test sees.
    """
    for message in reversed(mail.outbox):
        if address in message.to:
            found = INVITATION_LINK.search(str(message.body))
            if found:
                return found.group(0)
    raise AssertionError(f"no invitation mailed to {address}")


@pytest.fixture
def avery(transactional_db: None) -> User:
    """The account's Admin, who signs in with ``tests.factories.PASSWORD``."""
    return AdminFactory(email="avery@northwind.test", full_name="Avery Admin")


@pytest.fixture
def google(sandbox: Sandbox) -> GoogleSandboxControl:
    return GoogleSandboxControl(sandbox.base_url)


@pytest.fixture
def microsoft(sandbox: Sandbox) -> Iterator[MicrosoftSandboxControl]:
    with MicrosoftSandboxControl(sandbox.base_url) as control:
        # Sent Items gets its copy at once, as the tests look right after.
        control.settings(sent_copy_delay=0)
        yield control


@pytest.fixture
def sam(avery: User) -> User:
    """An employee with every permission, who signs in with
    ``tests.factories.PASSWORD``."""
    from accounts.models import EMPLOYEE_PERMISSIONS
    from staff.services import update_employee
    from tests.factories import EmployeeFactory

    employee = EmployeeFactory(
        account=avery.account, email="sam@northwind.test", full_name="Sam Seller"
    )
    return update_employee(
        employee=employee,
        full_name=employee.full_name,
        role=User.Role.USER,
        permissions=EMPLOYEE_PERMISSIONS,
    )


@pytest.fixture
def maria(avery: User) -> Any:
    from tests.contacts.factories import ContactFactory

    return ContactFactory(
        account=avery.account,
        first_name="Maria",
        last_name="Lopez",
        company="Contoso Foods",
        addresses=["maria.lopez@contoso.test"],
    )
