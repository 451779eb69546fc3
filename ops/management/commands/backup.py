"""`python manage.py backup`: the database in one file that `restore` loads back.

PostgreSQL is dumped with pg_dump in its custom format (compressed, restorable table by table,
into a server of the same or a newer version); the embedded SQLite file is copied with SQLite's
online backup, which is consistent while the site writes. Export files in private storage are
not included: they expire within days and can be built again.
"""

from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from ops.backups import run_postgres_tool, sqlite_copy


class Command(BaseCommand):
    help = "Write a backup of the database to a file (pg_dump for PostgreSQL, a copy for SQLite)."

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", default="backups", help="folder for the backup file")
        parser.add_argument("--output", help="exact file to write (instead of a dated name)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, output_dir, output, database, **options):
        connection = connections[database]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        suffix = "dump" if connection.vendor == "postgresql" else "sqlite3"
        path = Path(output) if output else Path(output_dir) / f"petition-{stamp}.{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if connection.vendor == "postgresql":
            self._pg_dump(connection.settings_dict, path)
        elif connection.vendor == "sqlite":
            sqlite_copy(connection.settings_dict["NAME"], path)
        else:
            raise CommandError(f"no backup method for {connection.vendor}")
        self.stdout.write(str(path))

    def _pg_dump(self, settings_dict: dict, path: Path) -> None:
        partial = path.with_name(path.name + ".part")
        try:
            run_postgres_tool("pg_dump", ["--format=custom", "--file", str(partial)], settings_dict)
        except CommandError:
            partial.unlink(missing_ok=True)
            raise
        # Only a complete dump carries the final name.
        partial.replace(path)
