"""`python manage.py restore FILE`: load a backup made by `backup` into an empty database.

It refuses a database that already holds tables, so a mistyped DATABASE_URL cannot overwrite
the live data: create a new database, restore into it, check it, then point the site at it.
PostgreSQL dumps are loaded with pg_restore in one transaction (all or nothing), without the
original owner and grants, so the database's own user owns what it restores.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from ops.backups import run_postgres_tool, sqlite_copy


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
            arguments = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
            run_postgres_tool(
                "pg_restore",
                [*arguments, "--dbname", connection.settings_dict["NAME"], str(path)],
                connection.settings_dict,
            )
        elif connection.vendor == "sqlite":
            sqlite_copy(path, connection.settings_dict["NAME"])
        else:
            raise CommandError(f"no restore method for {connection.vendor}")
        self.stdout.write(f"restored {path}")
