# The `sandbox` and `sandbox_server` fixtures live in tests/conftest.py, so
# the conformance tests and the app's tests share one sandbox at the address
# the settings know.

from tests.mailsync.sandbox.google_fixtures import (  # noqa: F401
    gmail,
    google,
    make_gmail,
    owner,
)
