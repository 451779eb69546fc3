"""Trigram indexes for searching the public list of individuals on PostgreSQL (written by
hand: Django's models cannot declare them).

Searches match any part of a name, a city or an affiliation, case-insensitively, as Django's
`icontains` asks PostgreSQL: UPPER(column) LIKE UPPER('%…%'), which a trigram index serves.
Elsewhere (SQLite) searches scan the listed rows. Built CONCURRENTLY: on a table of a million
signatures a plain CREATE INDEX would hold off every sign POST while it runs.
"""

from django.db import migrations

LISTED_INDIVIDUALS = "kind = 'individual' AND show_publicly AND state IN ('confirmed', 'approved')"
TRIGRAM_INDEXES = {
    "signature_listed_name_trgm": "full_name",
    "signature_listed_city_trgm": "city",
    "signature_listed_affil_trgm": "affiliation",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON statements_signature "
            f"USING gin (UPPER({column}) gin_trgm_ops) WHERE {LISTED_INDIVIDUALS}"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("statements", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
