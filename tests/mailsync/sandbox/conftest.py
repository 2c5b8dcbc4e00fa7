from collections.abc import Iterator

import pytest

from mailsync.sandbox import Sandbox, build_sandbox


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    sandbox = build_sandbox(seed=1)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Iterator[Sandbox]:
    """The running sandbox, emptied before each test."""
    sandbox_server.reset()
    yield sandbox_server
