"""Fixtures every test can use.

Tests that need PostgreSQL, Redis or Chromium skip with the reason where the
service is missing. CI sets ``REVSTACKR_REQUIRE_SERVICES=1``, which turns
each such skip into a failure, so a green CI run used them all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from accounts.models import User
from mailsync.sandbox import Sandbox, build_sandbox
from tests.factories import AdminFactory, EmployeeFactory

REQUIRE_SERVICES = os.environ.get("REVSTACKR_REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    """Skip the test, or fail it when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Files of mail written in the CRM go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def redis_url() -> str:
    import redis

    url = os.environ.get("REDIS_URL", "")
    if not url:
        service_missing("needs Redis: REDIS_URL is not set")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        service_missing(f"needs Redis at {url}: {error}")
    return url


@pytest.fixture
def postgresql(db: None) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL: DATABASE_URL does not point at one")


@pytest.fixture
def admin_user(db: None) -> User:
    return AdminFactory()


@pytest.fixture
def employee(admin_user: User) -> User:
    return EmployeeFactory(account=admin_user.account)


@pytest.fixture
def signed_in(client: Client) -> Callable[[User], Client]:
    """Return a function that signs a user in on the test client."""

    def sign_in(user: User) -> Client:
        client.force_login(user, backend="accounts.backends.EmployeeBackend")
        return client

    return sign_in


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    """The provider sandbox, at the address the settings were given."""
    from django.conf import settings

    address = urlsplit(settings.PROVIDER_SANDBOX_URL)
    sandbox = build_sandbox(seed=1)
    sandbox.start(address.hostname or "127.0.0.1", address.port or 0)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Iterator[Sandbox]:
    """The running sandbox, emptied before each test."""
    sandbox_server.reset()
    yield sandbox_server
