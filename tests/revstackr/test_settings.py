"""Settings come from the environment, with defaults that need nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.db import connection
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "options": settings.DATABASES["default"].get("OPTIONS", {}),
    "q": settings.Q_CLUSTER,
    "journal": connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
        if connection.vendor == "sqlite" else None,
}))
"""


def settings_with(tmp_path: Path, **env: str) -> dict:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL"}
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="revstackr.settings", REVSTACKR_VAR_DIR=str(tmp_path)
    )
    clean.update(env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_defaults_are_sqlite_in_wal_mode_and_the_orm_broker(tmp_path: Path) -> None:
    found = settings_with(tmp_path)

    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["options"]["transaction_mode"] == "IMMEDIATE"
    assert found["options"]["timeout"] >= 5
    assert found["journal"] == "wal"
    assert found["q"]["orm"] == "default"
    assert "redis" not in found["q"]


def test_database_url_and_redis_url_select_the_production_parts(
    tmp_path: Path,
) -> None:
    found = settings_with(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/revstackr",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )

    assert found["engine"] == "django.db.backends.postgresql"
    assert found["q"]["redis"] == "redis://127.0.0.1:6379/3"
    assert "orm" not in found["q"]


def test_task_timeout_stays_below_the_retry_delay(tmp_path: Path) -> None:
    found = settings_with(tmp_path)

    assert found["q"]["timeout"] < found["q"]["retry"]


def test_check_deploy_is_clean_with_production_values(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "revstackr.settings",
        "REVSTACKR_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "a-long-and-random-production-secret-value",
        "ALLOWED_HOSTS": "crm.example.com",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "TOKEN_ENCRYPTION_KEYS": "M2J3cUJ2a2h4dWh5Y2x0eW5zZ2Z4b2x3cW1oYnZ6eHM=",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr + result.stdout


def test_the_suite_runs_on_postgresql_when_ci_requires_it(db: None) -> None:
    from django.db import connection

    if not REQUIRE_SERVICES:
        pytest.skip("only meaningful when REVSTACKR_REQUIRE_SERVICES=1 (CI)")
    assert connection.vendor == "postgresql"
