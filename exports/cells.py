"""The table of signatures that the CSV and XLSX exports share: its columns, the names of
codes in the list's language, and the cells made safe for spreadsheets.

The writers — csvfile.py (and pgcopy.py, where PostgreSQL writes the CSV rows itself),
xlsx.py, osdi.py for JSON and pdf.py — take the rows as an iterable of chunks (lists of
tuples in the order of `selectors.EXPORT_FIELDS`), write them as they come and report
progress after each chunk, so memory stays flat whatever the size of the list.

Every text cell of the CSV and XLSX files is made inert for spreadsheet programs
(statements/spreadsheet.py says why and how).
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import translation
from django_countries import countries

from statements.models import Signature, SignatureSource
from statements.spreadsheet import FORMULA_TRIGGERS, neutralise

Chunks = Iterable[list[tuple]]
Progress = Callable[[int], None]

# The columns of the CSV and XLSX files. Names are stable keys, not translated labels, so
# that people can script against them. Each code (kind, state, organisation type, country)
# is followed by its name in the list's language, for the people who read the file.
TABLE_HEADER = (
    "id",
    "kind",
    "kind_name",
    "state",
    "state_name",
    "full_name",
    "email",
    "organisation_name",
    "organisation_type",
    "organisation_type_name",
    "contact_role",
    "website",
    "affiliation",
    "city",
    "country",
    "country_name",
    "show_publicly",
    "comment",
    "language",
    "source",
    "source_name",
    "referrer",
    "created_at",
    "confirmed_at",
    "decided_at",
)
TIMESTAMP_COLUMNS = ("created_at", "confirmed_at", "decided_at")


@dataclass(frozen=True)
class Names:
    """What each code means, in one language: computed once per export, not once per row."""

    country: dict[str, str]
    kind: dict[str, str]
    state: dict[str, str]
    organisation_type: dict[str, str]
    source: dict[str, str]


def code_names(language: str) -> Names:
    with translation.override(language):
        return Names(
            country={code: str(name) for code, name in countries},
            kind={k: str(v) for k, v in Signature.Kind.choices},
            state={k: str(v) for k, v in Signature.State.choices},
            organisation_type={k: str(v) for k, v in Signature.OrganisationType.choices},
            source={k: str(v) for k, v in SignatureSource.choices},
        )


# Columns are checked as one joined string: a cell that may begin with a formula trigger is
# a separator followed by a trigger. Most columns of most chunks have none, and then no cell
# is looked at.
_SEPARATOR = "\x1f"
_TRIGGER_AFTER_SEPARATOR = re.compile(
    _SEPARATOR + "[" + re.escape("".join(sorted(FORMULA_TRIGGERS))) + "]"
)
_BOOLEAN_TEXT = {True: "true", False: "false"}
# Positions in EXPORT_FIELDS.
(
    _ID,
    _KIND,
    _STATE,
    _FULL_NAME,
    _EMAIL,
    _ORGANISATION_NAME,
    _ORGANISATION_TYPE,
    _CONTACT_ROLE,
    _WEBSITE,
    _AFFILIATION,
    _CITY,
    _COUNTRY,
    _SHOW_PUBLICLY,
    _COMMENT,
    _LANGUAGE,
    _SOURCE,
    _REFERRER,
) = range(17)
_TIMESTAMPS = slice(17, 20)


def neutralise_column(values: tuple | list) -> tuple | list:
    """`neutralise` applied to a column of text."""
    if not _TRIGGER_AFTER_SEPARATOR.search(_SEPARATOR + _SEPARATOR.join(values)):
        return values
    return [neutralise(v) for v in values]


def _named(codes: tuple, names: dict[str, str]) -> tuple | list:
    """A column of codes → the column of their names (a code without a name stays)."""
    return neutralise_column(tuple(map(names.get, codes, codes)))


def table_columns(chunk: list[tuple], names: Names) -> list:
    """Database rows (EXPORT_FIELDS) → the file's columns (TABLE_HEADER), every text cell
    neutralised; empty text cells are "". Timestamps pass through as the database made them
    (text for CSV, numbers for XLSX), NULL as None.

    Works column by column with C-level helpers (zip, map, join, one regular expression
    search a column): this runs for every row of lists that may have millions, and a Python
    function call per cell would take longer than the whole CSV budget.
    """
    if not chunk:
        return [() for _ in TABLE_HEADER]
    c = list(zip(*chunk, strict=True))
    text = neutralise_column
    return [
        c[_ID],
        text(c[_KIND]),
        _named(c[_KIND], names.kind),
        text(c[_STATE]),
        _named(c[_STATE], names.state),
        text(c[_FULL_NAME]),
        text(c[_EMAIL]),
        text(c[_ORGANISATION_NAME]),
        text(c[_ORGANISATION_TYPE]),
        _named(c[_ORGANISATION_TYPE], names.organisation_type),
        text(c[_CONTACT_ROLE]),
        text(c[_WEBSITE]),
        text(c[_AFFILIATION]),
        text(c[_CITY]),
        text(c[_COUNTRY]),
        _named(c[_COUNTRY], names.country),
        tuple(map(_BOOLEAN_TEXT.__getitem__, c[_SHOW_PUBLICLY])),
        text(c[_COMMENT]),
        text(c[_LANGUAGE]),
        text(c[_SOURCE]),
        _named(c[_SOURCE], names.source),
        text(c[_REFERRER]),
        *c[_TIMESTAMPS],
    ]
