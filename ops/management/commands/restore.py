"""`python manage.py restore FILE`: load a backup made by `backup` into an empty database.

It refuses a database that already holds tables, so a mistyped DATABASE_URL cannot overwrite
the live data: create a new database, restore into it, check it, then point the site at it.
PostgreSQL dumps are loaded with pg_restore in one transaction (all or nothing), without the
original owner and grants, so the database's own user owns what it restores.
"""

import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from ops.management.commands.backup import libpq_environment, postgres_tool


class Command(BaseCommand):
    help = "Load a backup file into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="a file written by `manage.py backup`")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, backup, database, **options):
        path = Path(backup)
        if not path.is_file():
            raise CommandError(f"no such backup file: {path}")
        connection = connections[database]
        tables = connection.introspection.table_names()
        connection.close()
        if tables:
            raise CommandError(
                f"the database already holds {len(tables)} tables; restore into an empty one"
            )
        if connection.vendor == "postgresql":
            command = [
                postgres_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                connection.settings_dict["NAME"],
                str(path),
            ]
            result = subprocess.run(  # noqa: S603 - fixed arguments
                command,
                env=libpq_environment(connection.settings_dict),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
        elif connection.vendor == "sqlite":
            self._sqlite_load(path, connection.settings_dict["NAME"])
        else:
            raise CommandError(f"no restore method for {connection.vendor}")
        self.stdout.write(f"restored {path}")

    def _sqlite_load(self, path: Path, name) -> None:
        source = sqlite3.connect(str(path))
        target = sqlite3.connect(str(name))
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
