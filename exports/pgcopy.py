"""PostgreSQL's fast path for CSV exports: the database writes the CSV itself.

Reading a million rows into Python objects and joining them back into text takes longer than
the whole CSV budget (10 s), most of it in creating and discarding 19 million strings. With
`COPY (SELECT …) TO STDOUT WITH (FORMAT csv)` the server formats the rows and Python only
passes the bytes on. The SELECT makes exactly the cells of the Python path
(`csvfile.csv_lines`): the same columns, formula triggers neutralised with the same
character set, the names of codes from the same dictionaries, ISO 8601 timestamps from the
same expression, empty cells unquoted, line feeds.
tests/exports/test_pgcopy.py checks that both paths write the same bytes.

Rows are still read in chunks by keyset pagination on the primary key, with progress
recorded between chunks: PostgreSQL sends one message per row, so counting rows and finding
the chunk's last id (the first field, an unquoted integer) needs no parsing.
"""

import json
from typing import BinaryIO

from django.db import connections
from django.db.models import Case, CharField, F, Func, QuerySet, Value, When
from django.db.models.functions import Coalesce

from exports.cells import FORMULA_TRIGGERS, Names
from exports.selectors import IsoTimestamp

# Rows a COPY: larger than the Python path's chunks, as each query costs a plan and a round
# trip while a row here costs no Python object; progress still moves every 20,000 rows.
CHUNK_SIZE = 20_000


def available(alias: str) -> bool:
    return connections[alias].vendor == "postgresql"


def _trigger_codes() -> str:
    # NUL cannot occur in PostgreSQL text; the other triggers are compared by code point.
    return ", ".join(str(ord(c)) for c in sorted(FORMULA_TRIGGERS) if c != "\x00")


class Neutralised(Func):
    """A text value made inert for spreadsheets, as cells.neutralise does; an empty value
    becomes NULL, which COPY writes as an empty, unquoted cell."""

    arity = 1
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        quote = "''''"
        return (
            f"CASE WHEN ascii({sql}) IN ({_trigger_codes()}) THEN {quote} || {sql} "
            f"ELSE NULLIF({sql}, '') END",
            (*params, *params, *params),
        )


class JsonLookup(Func):
    """`mapping ->> key`: a country's name from the names passed as one JSON object (a binary
    search in jsonb; joining a table of names would make PostgreSQL sort the rows)."""

    arity = 2
    output_field = CharField()
    template = "(%(expressions)s)"
    arg_joiner = "::jsonb ->> "


def _named(field: str, names: dict[str, str]):
    """A code's name from `names`, or the code itself when it has none."""
    lookup = JsonLookup(Value(json.dumps(names, ensure_ascii=False)), F(field))
    return Neutralised(Coalesce(lookup, F(field)))


def _columns(names: Names) -> list:
    """The CSV's columns (cells.TABLE_HEADER) as expressions."""
    return [
        F("id"),
        Neutralised("kind"),
        _named("kind", names.kind),
        Neutralised("state"),
        _named("state", names.state),
        Neutralised("full_name"),
        Neutralised("email"),
        Neutralised("organisation_name"),
        Neutralised("organisation_type"),
        _named("organisation_type", names.organisation_type),
        Neutralised("contact_role"),
        Neutralised("website"),
        Neutralised("affiliation"),
        Neutralised("city"),
        Neutralised("country"),
        _named("country", names.country),
        Case(When(show_publicly=True, then=Value("true")), default=Value("false")),
        Neutralised("comment"),
        Neutralised("language"),
        Neutralised("source"),
        _named("source", names.source),
        Neutralised(Coalesce(F("referrer__code"), Value(""))),
        IsoTimestamp("created_at"),
        IsoTimestamp("confirmed_at"),
        IsoTimestamp("decided_at"),
    ]


def copy_csv_rows(out: BinaryIO, queryset: QuerySet, *, names: Names, on_progress) -> int:
    """Append the queryset's rows to `out` as CSV lines; returns how many were written."""
    connection = connections[queryset.db]
    columns = _columns(names)
    chunk_size = CHUNK_SIZE
    done = 0
    last = None
    with connection.cursor() as cursor:
        while True:
            page = queryset if last is None else queryset.filter(pk__gt=last)
            query = page.order_by("pk").values_list(*columns)[:chunk_size].query
            select = connection.ops.compose_sql(*query.sql_with_params())
            rows = 0
            row = b""
            # cursor.cursor is psycopg's own cursor, under Django's wrapper.
            with cursor.cursor.copy(
                f"COPY ({select}) TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')"
            ) as copy:
                for row in copy:
                    out.write(row)
                    rows += 1
            if not rows:
                return done
            done += rows
            on_progress(done)
            if rows < chunk_size:
                return done
            last = int(bytes(row).split(b",", 1)[0])
