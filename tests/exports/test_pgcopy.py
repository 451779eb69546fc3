"""On PostgreSQL the database writes the CSV rows; they must be the Python path's, byte for
byte. (Runs where the tests run on PostgreSQL, as .ci/run does; skipped on SQLite.)"""

import io

import pytest
from django.db import connection

from exports import cells, csvfile, pgcopy, selectors
from exports.models import SignatoryExport
from exports.selectors import export_queryset, iter_chunks
from statements.models import Partner
from tests.factories import OrganisationFactory, SignatureFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")

TRICKY = [
    "=1+1",
    "+7 700",
    "-Madrid",
    "@SUM(A1)",
    "\tcmd",
    "\rline",
    "＝HYPERLINK()",
    "＠x",
    "a, b",
    'say "no"',
    "two\nlines",
    "ends with cr\r",
    "\\.",
    " spaced ",
    "'quoted",
    "Жанаозен",
    "",
]


def _both(statement, language="ru", states=("confirmed", "approved", "rejected")):
    export = SignatoryExport(statement=statement, filters={"states": list(states)})
    names = cells.code_names(language)
    python, database = io.BytesIO(), io.BytesIO()
    counted = []
    n = csvfile.write_csv_rows(
        python, iter_chunks(export_queryset(export)), names=names, on_progress=lambda d: None
    )
    m = pgcopy.copy_csv_rows(
        database, export_queryset(export), names=names, on_progress=counted.append
    )
    return n, m, python.getvalue(), database.getvalue(), counted


def test_copy_writes_what_the_python_path_writes(statement, signatures, monkeypatch):
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 4)
    monkeypatch.setattr(pgcopy, "CHUNK_SIZE", 4)
    # Referral codes: none, a plain one, and one that starts like a formula.
    partners = [None, Partner.objects.create(name="Union", code="union-kz")]
    partners.append(Partner.objects.create(name="Dash", code="-dash"))
    for n, text in enumerate(TRICKY):
        SignatureFactory(
            statement=statement,
            full_name=text or "x",
            city=text,
            affiliation=text,
            comment=text,
            country=["KZ", "AR", "ES", "ZZ"][n % 4],
            show_publicly=n % 2 == 0,
            referrer=partners[n % 3],
        )
        OrganisationFactory(
            statement=statement,
            organisation_name=f"{text} union {n}",
            organisation_type=["trade_union", "party", "other"][n % 3],
            contact_role=text,
            state="rejected",
            decided_at=None,
        )
    n, m, python, database, counted = _both(statement)
    assert n == m == 9 + 2 * len(TRICKY)
    assert database == python
    # Progress after every chunk of four.
    assert counted == [*range(4, m, 4), m]


def test_copy_of_nothing(statement):
    n, m, python, database, counted = _both(statement)
    assert n == m == 0 and python == database == b"" and counted == []
