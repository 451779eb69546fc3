"""Indexes for the public list pages, and trigram indexes for searching them on PostgreSQL.

On PostgreSQL every index is built CONCURRENTLY: on a table of a million signatures a plain
CREATE INDEX would hold off every sign POST while it runs. Elsewhere (SQLite) the two list
indexes are created as usual, and searches scan the listed rows.
"""

from django.db import migrations, models

LISTED_INDIVIDUALS = "kind = 'individual' AND show_publicly AND state IN ('confirmed', 'approved')"
# Searches match any part of a name, a city or an affiliation, case-insensitively, as Django's
# `icontains` asks PostgreSQL: UPPER(column) LIKE UPPER('%…%'), which a trigram index serves.
TRIGRAM_INDEXES = {
    "signature_listed_name_trgm": "full_name",
    "signature_listed_city_trgm": "city",
    "signature_listed_affil_trgm": "affiliation",
}

INDIVIDUALS = models.Index(
    condition=models.Q(
        ("kind", "individual"), ("show_publicly", True), ("state__in", ["confirmed", "approved"])
    ),
    fields=["statement", "-confirmed_at", "-id"],
    name="signature_listed_individuals",
)
ORGANISATIONS = models.Index(
    condition=models.Q(("kind", "organisation"), ("state", "approved")),
    fields=["statement", "country", "organisation_name", "id"],
    name="signature_listed_orgs",
)


def create(apps, schema_editor):
    model = apps.get_model("statements", "Signature")
    if schema_editor.connection.vendor != "postgresql":
        for index in (INDIVIDUALS, ORGANISATIONS):
            schema_editor.add_index(model, index)
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index in (INDIVIDUALS, ORGANISATIONS):
        schema_editor.add_index(model, index, concurrently=True)
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON statements_signature "
            f"USING gin (UPPER({column}) gin_trgm_ops) WHERE {LISTED_INDIVIDUALS}"
        )


def drop(apps, schema_editor):
    model = apps.get_model("statements", "Signature")
    if schema_editor.connection.vendor != "postgresql":
        for index in (INDIVIDUALS, ORGANISATIONS):
            schema_editor.remove_index(model, index)
        return
    for name in [*TRIGRAM_INDEXES, INDIVIDUALS.name, ORGANISATIONS.name]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("statements", "0008_signature_keys"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="signature", index=INDIVIDUALS),
                migrations.AddIndex(model_name="signature", index=ORGANISATIONS),
            ],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
