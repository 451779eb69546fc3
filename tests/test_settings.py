"""The settings' failure modes: production refuses to start without its secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from petition.env import cache_url, database_config, email_config

ROOT = Path(__file__).resolve().parent.parent


def _start(**env) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "petition.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_stops_with_one_line():
    result = _start(DEBUG="false", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SECRET_KEY must be set when DEBUG is false (see .env.example)."
    ]


def test_production_without_allowed_hosts_stops():
    result = _start(DEBUG="false", SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_boolean_is_refused():
    result = _start(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_mfa_cannot_be_switched_off_in_production():
    result = _start(
        DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="example.org", STAFF_REQUIRE_MFA="false"
    )
    assert result.returncode != 0
    assert "STAFF_REQUIRE_MFA" in result.stderr


def test_production_with_everything_starts():
    result = _start(DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="example.org")
    assert result.returncode == 0, result.stderr


def test_embedded_default_needs_no_environment():
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "PYENV_VERSION"}}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s;"
            "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER,"
            " s.MAILERS['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "petition.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "True",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_postgres_url_uses_psycopg_pool(tmp_path):
    config = database_config(
        "postgresql://user:p%40ss@db.internal:5433/petition?sslmode=require",
        sqlite_path=tmp_path / "x.sqlite3",
        pool_max=5,
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "user",
        "p@ss",
        "db.internal",
        "5433",
    )
    assert config["NAME"] == "petition"
    assert config["OPTIONS"]["pool"]["max_size"] == 5
    assert config["OPTIONS"]["sslmode"] == "require"


def test_no_database_url_means_sqlite(tmp_path):
    config = database_config("", sqlite_path=tmp_path / "db.sqlite3", pool_max=5)
    assert config["ENGINE"] == "django.db.backends.sqlite3"


def test_unsupported_database_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="not supported"):
        database_config("mysql://x@y/z", sqlite_path=tmp_path / "db", pool_max=1)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", {"BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("console://", {"BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp://127.0.0.1:1025",
            {"host": "127.0.0.1", "port": 1025, "use_tls": False, "use_ssl": False},
        ),
        (
            "smtps://u:p@mail.example.org",
            {"port": 465, "use_ssl": True, "username": "u", "password": "p"},
        ),
        ("smtp://mail.example.org:587?tls=1", {"port": 587, "use_tls": True}),
    ],
)
def test_email_url(url, expected):
    config = email_config(url, timeout=5)
    options = {**config, **config.get("OPTIONS", {})}
    for key, value in expected.items():
        assert options[key] == value


def test_cache_uses_another_logical_database():
    assert cache_url("redis://127.0.0.1:6379/0", 1) == "redis://127.0.0.1:6379/1"
