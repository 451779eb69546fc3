"""What `backup` and `restore` share (ops/backups.py). The commands themselves, end to end on
PostgreSQL, are in tests/chaos/test_backup.py."""

import sqlite3

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ops.backups import libpq_environment, run_postgres_tool, sqlite_copy


def test_a_sqlite_backup_restores_row_for_row(tmp_path):
    live = sqlite3.connect(tmp_path / "live.sqlite3")
    live.execute("PRAGMA journal_mode=WAL")  # as the embedded default runs it
    live.execute("CREATE TABLE signature (name TEXT)")
    live.executemany("INSERT INTO signature VALUES (?)", [("Ана",), ("Бекзат",)])
    live.commit()
    sqlite_copy(tmp_path / "live.sqlite3", tmp_path / "backup.sqlite3")
    sqlite_copy(tmp_path / "backup.sqlite3", tmp_path / "restored.sqlite3")
    restored = sqlite3.connect(tmp_path / "restored.sqlite3")
    assert restored.execute("SELECT name FROM signature").fetchall() == [("Ана",), ("Бекзат",)]
    live.close()
    restored.close()


def test_the_password_goes_through_the_environment_not_the_command_line():
    env = libpq_environment({"HOST": "db", "PASSWORD": "s3cret", "OPTIONS": {"sslmode": "require"}})
    assert (env["PGHOST"], env["PGPASSWORD"], env["PGSSLMODE"]) == ("db", "s3cret", "require")
    assert "PGPORT" not in env  # unset, not inherited from the shell


def test_a_missing_tool_is_named_with_its_package():
    with pytest.raises(CommandError, match=r"pg_nothing is not installed.*postgresql-client"):
        run_postgres_tool("pg_nothing", ["--version"], {})


def test_restore_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such backup file"):
        call_command("restore", str(tmp_path / "missing.dump"))
