"""What `manage.py backup` and `restore` share: PostgreSQL's client tools run against a
connection, and SQLite files copied with SQLite's online backup."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import CommandError


def libpq_environment(settings_dict: dict) -> dict[str, str]:
    """The connection settings as libpq's variables, so no password appears on a command line."""
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        value = settings_dict.get(key)
        if value:
            env[variable] = str(value)
        else:
            env.pop(variable, None)
    sslmode = (settings_dict.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return env


def run_postgres_tool(name: str, arguments: list[str], settings_dict: dict) -> None:
    """Run pg_dump or pg_restore on the database `settings_dict` names; CommandError with
    the tool's own message if it is missing or fails."""
    found = shutil.which(name)
    if found is None:
        raise CommandError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    result = subprocess.run(  # noqa: S603 - fixed arguments, the connection in the environment
        [found, *arguments], env=libpq_environment(settings_dict), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise CommandError(f"{name} failed: {result.stderr.strip()}")


def sqlite_copy(source: str | Path, target: str | Path) -> None:
    """Copy one SQLite database into another, consistently while the source is written."""
    source_db = sqlite3.connect(str(source))
    target_db = sqlite3.connect(str(target))
    try:
        with target_db:
            source_db.backup(target_db)
    finally:
        target_db.close()
        source_db.close()
