"""Small readers for environment variables and the URLs the settings accept.

Kept rather than django-environ, for three things it would not do without as much code
wrapped around it:
- a bad value stops start-up with one line naming the variable (`Configuration error: ...`),
  where django-environ raises ImproperlyConfigured with a traceback;
- DATABASE_URL becomes an entry with psycopg 3's pool (and its connection check, see
  `check_connection`), or the
  embedded SQLite file with WAL and a per-process test file when the variable is absent;
- EMAIL_URL becomes a Django 6.1 MAILERS entry; django-environ's email_url() fills the older
  EMAIL_* settings.
tests/test_settings.py holds these start-up messages.
"""

import os
import select
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _fail(message: str) -> None:
    sys.exit(f"Configuration error: {message}")


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    _fail(f"{name} must be true or false, not {raw!r}.")
    return default  # pragma: no cover - _fail exits


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        _fail(f"{name} must be a whole number, not {raw!r}.")
    return default  # pragma: no cover - _fail exits


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def check_connection(connection) -> None:
    """The pool's check of a connection leaving it, without a round trip to the server when
    the connection is sound.

    psycopg_pool's own check (`ConnectionPool.check_connection`) sends an empty query every
    time: one more round trip for every request that touches the database, a tenth of the
    CPU of a sign POST. An idle connection has nothing to read; one whose server went away
    (a restart, a terminated backend) has its farewell or the end of the stream waiting on
    the socket. So the full check runs only when the socket has something to read, or the
    connection is no longer open, and a dead connection is still replaced before use.
    """
    from psycopg_pool import ConnectionPool

    try:
        readable = connection.closed or bool(select.select([connection.fileno()], [], [], 0)[0])
    except (OSError, ValueError):
        readable = True
    if readable:
        ConnectionPool.check_connection(connection)


def database_config(url: str, *, sqlite_path: Path, pool_max: int) -> dict:
    """Turn DATABASE_URL into a Django DATABASES entry; no URL means the SQLite file."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            # WAL lets readers proceed while one writer commits; the timeout waits out locks.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file rather than memory, so a real Celery worker started by the tests can
            # share the test database; one per test process, so parallel runs never collide.
            "TEST": {
                "NAME": str(Path(tempfile.gettempdir()) / f"petition-test-{os.getpid()}.sqlite3")
            },
        }
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        path = unquote(parts.path)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path[1:] if path else sqlite_path}
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        _fail(f"DATABASE_URL scheme {parts.scheme!r} is not supported (use postgresql://).")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    options: dict = {}
    if pool_max > 0:
        # psycopg 3's pool: each process keeps a few connections open and shares them.
        # Checking a connection as it leaves the pool lets the site recover by itself from a
        # database restart: dead connections are replaced instead of failing requests.
        options["pool"] = {
            "min_size": 1,
            "max_size": pool_max,
            "timeout": 10,
            "check": check_connection,
        }
    if "sslmode" in query:
        options["sslmode"] = query["sslmode"]
    config = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "petition",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
        "TEST": {"NAME": query.get("test_name") or None},
    }
    if not options.get("pool"):
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
    return config


def cache_url(redis_url: str, db: int) -> str:
    """The same Redis server as the broker, on another logical database."""
    parts = urlsplit(redis_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


def email_config(url: str, *, timeout: int) -> dict:
    """EMAIL_URL as a MAILERS entry: smtp://user:pass@host:port, smtps:// (implicit TLS),
    ?tls=1 for STARTTLS, console:// (the default) or locmem:// (tests)."""
    if not url or url.startswith("console:"):
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme == "locmem":
        return {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parts.scheme not in {"smtp", "smtps"}:
        _fail(f"EMAIL_URL scheme {parts.scheme!r} is not supported (use smtp:// or smtps://).")
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname or "localhost",
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_ssl": parts.scheme == "smtps",
            "use_tls": query.get("tls") in {"1", "true", "yes"},
            "timeout": timeout,
        },
    }
