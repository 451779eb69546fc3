"""The CSV export: UTF-8, RFC 4180, one line per signature (columns in cells.py).

On PostgreSQL the database writes the rows itself (pgcopy.py); elsewhere they are joined
here. tests/exports/test_pgcopy.py checks that both write the same bytes.
"""

import re
from typing import BinaryIO

from django.db.models import QuerySet

from exports import pgcopy
from exports.cells import (
    TABLE_HEADER,
    TIMESTAMP_COLUMNS,
    Chunks,
    Names,
    Progress,
    table_columns,
)
from exports.selectors import iter_chunks

# A column needs quoting if any of its cells holds a comma, a double quote or a line break:
# checked once on the joined column, like the formula triggers.
_SEPARATOR = "\x1f"
_NEEDS_QUOTES = re.compile('[",\r\n]')
_NULL_AS_EMPTY = {None: ""}
_TIMESTAMP_START = TABLE_HEADER.index(TIMESTAMP_COLUMNS[0])


def csv_header(*, bom: bool) -> bytes:
    """The first line; with a byte-order mark, so that spreadsheet programs read UTF-8."""
    return ("\ufeff" if bom else "").encode() + (",".join(TABLE_HEADER) + "\n").encode()


def _csv_quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if _NEEDS_QUOTES.search(value) else value


def _csv_column(values) -> tuple | list:
    """Quote the cells that need it (RFC 4180): those with a comma, quote or line break."""
    if not _NEEDS_QUOTES.search(_SEPARATOR.join(values)):
        return values
    return [_csv_quote(v) for v in values]


def csv_lines(chunk: list[tuple], names: Names) -> str:
    """A chunk of database rows as CSV text, one line per row, each ending in a line feed.
    Timestamps are the database's ISO 8601 text (selectors.IsoTimestamp)."""
    if not chunk:
        return ""
    columns = table_columns(chunk, names)
    cells = [tuple(map(str, columns[0]))]
    cells.extend(_csv_column(c) for c in columns[1:_TIMESTAMP_START])
    cells.extend(tuple(map(_NULL_AS_EMPTY.get, c, c)) for c in columns[_TIMESTAMP_START:])
    return "\n".join(map(",".join, zip(*cells, strict=True))) + "\n"


def write_csv_rows(out: BinaryIO, chunks: Chunks, *, names: Names, on_progress: Progress) -> int:
    """Append chunks of database rows to `out` as CSV lines; returns how many were written.
    The rows are joined by hand rather than through the csv module, which costs
    microseconds a row with non-ASCII text: seconds at a million rows."""
    done = 0
    for chunk in chunks:
        out.write(csv_lines(chunk, names).encode())
        done += len(chunk)
        on_progress(done)
    return done


def write_csv(
    out: BinaryIO, queryset: QuerySet, *, names: Names, bom: bool, on_progress: Progress
) -> int:
    """Write the queryset's signatures as CSV to a binary stream; returns how many.

    UTF-8, RFC 4180 quoting (cells with a comma, a double quote or a line break are quoted,
    quotes doubled), lines ending in a line feed, which every spreadsheet program reads.
    """
    out.write(csv_header(bom=bom))
    if pgcopy.available(queryset.db):
        return pgcopy.copy_csv_rows(out, queryset, names=names, on_progress=on_progress)
    return write_csv_rows(out, iter_chunks(queryset), names=names, on_progress=on_progress)
