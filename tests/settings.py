"""Settings for the test suite: the real settings, and two test-only choices.

The provider sandbox that the tests start needs a known address before
django-allauth imports its Google views (which read the endpoint URLs
once), so a free loopback port is picked here, as the settings load.
"""

import os
import socket


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


os.environ.setdefault("PROVIDER_SANDBOX_URL", f"http://127.0.0.1:{_free_port()}")
os.environ["USE_REAL_PROVIDERS"] = "false"

from revstackr.settings import *  # noqa: E402, F403

# The real hasher is slow on purpose; tests only need it to be correct.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests that run a real qcluster process need a database file both
# processes can open; SQLite's default test database lives in memory.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")  # noqa: F405
    }
