"""File writers for signatory exports: CSV, XLSX and JSON. (The printable PDF is in pdf.py.)

The writers take the rows as an iterable of chunks (lists of tuples in the order of
`selectors.EXPORT_FIELDS`), write them as they come and report progress after each chunk, so
memory stays flat whatever the size of the list. (The CSV writer takes the queryset, as on
PostgreSQL the database writes the rows itself: see pgcopy.py.)

Defends against formula injection: a spreadsheet program treats a cell that begins with `=`,
`+`, `-` or `@` (or a tab, carriage return or NUL that it skips) as a formula, so a signer
named `=HYPERLINK(...)` could run code on an organiser's computer. Every text cell of the CSV
and XLSX files that begins with one of those characters gets an apostrophe in front (OWASP's
advice), which spreadsheet programs show as text.
"""

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from typing import BinaryIO

from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django_countries import countries
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from statements.exports.selectors import iter_chunks

Chunks = Iterable[list[tuple]]
Progress = Callable[[int], None]

# First characters that make a spreadsheet cell a formula. The full-width forms are read as
# formulas by some spreadsheet programs in East Asian locales, so they are neutralised too.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\x00＝＋－＠")


def neutralise(value: str) -> str:
    """Make a text cell inert in spreadsheet programs (see the module docstring)."""
    if value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


# The columns of the CSV and XLSX files. Names are stable keys, not translated labels, so
# that people can script against them; `country_name` is in the list's language.
TABLE_HEADER = (
    "id",
    "kind",
    "state",
    "full_name",
    "email",
    "organisation_name",
    "organisation_type",
    "contact_role",
    "website",
    "affiliation",
    "city",
    "country",
    "country_name",
    "show_publicly",
    "comment",
    "language",
    "created_at",
    "confirmed_at",
    "decided_at",
    "source",
    "referrer",
)


def country_names(language: str) -> dict[str, str]:
    """Country names in `language`, computed once per export rather than once per row."""
    with translation.override(language):
        return {code: str(name) for code, name in countries}


# Columns are checked as one joined string: a cell that may begin with a formula trigger is
# a separator followed by a trigger; a cell that needs CSV quotes holds a comma, a double quote
# or a line break. Most columns of most chunks have neither, and then no cell is looked at.
_SEPARATOR = "\x1f"
_TRIGGER_AFTER_SEPARATOR = re.compile(
    _SEPARATOR + "[" + re.escape("".join(sorted(FORMULA_TRIGGERS))) + "]"
)
_NEEDS_QUOTES = re.compile('[",\r\n]')
_BOOLEAN_TEXT = {True: "true", False: "false"}
_NULL_AS_EMPTY = {None: ""}
# Positions in EXPORT_FIELDS.
_COUNTRY = 11
_SHOW_PUBLICLY = 12
_TIMESTAMPS = slice(15, 18)


def neutralise_column(values: tuple | list) -> tuple | list:
    """`neutralise` applied to a column of text."""
    if not _TRIGGER_AFTER_SEPARATOR.search(_SEPARATOR + _SEPARATOR.join(values)):
        return values
    return [neutralise(v) for v in values]


def table_columns(chunk: list[tuple], names: dict[str, str]) -> list:
    """Database rows (EXPORT_FIELDS) → the file's columns (TABLE_HEADER), every text cell
    neutralised; empty cells are "".

    Works column by column with C-level helpers (zip, map, join, one regular expression
    search a column): this runs for every row of lists that may have millions, and a Python
    function call per cell would take longer than the whole CSV budget. Timestamps are
    text the database made from its own timestamp type and begin with a digit.
    """
    if not chunk:
        return [() for _ in TABLE_HEADER]
    columns = list(zip(*chunk, strict=True))
    codes = columns[_COUNTRY]
    out = [columns[0]]  # id: an integer
    out.extend(neutralise_column(c) for c in columns[1:_SHOW_PUBLICLY])
    out.append(neutralise_column(tuple(map(names.get, codes, codes))))
    out.append(tuple(map(_BOOLEAN_TEXT.__getitem__, columns[_SHOW_PUBLICLY])))
    out.extend(neutralise_column(c) for c in columns[_SHOW_PUBLICLY + 1 : _TIMESTAMPS.start])
    out.extend(tuple(map(_NULL_AS_EMPTY.get, c, c)) for c in columns[_TIMESTAMPS])
    out.extend(neutralise_column(c) for c in columns[_TIMESTAMPS.stop :])
    return out


# --- CSV ------------------------------------------------------------------------------------


def _csv_quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if _NEEDS_QUOTES.search(value) else value


def _csv_column(values) -> tuple | list:
    """Quote the cells that need it (RFC 4180): those with a comma, quote or line break."""
    if not _NEEDS_QUOTES.search(_SEPARATOR.join(values)):
        return values
    return [_csv_quote(v) for v in values]


def csv_lines(chunk: list[tuple], names: dict[str, str]) -> str:
    """A chunk of database rows as CSV text, one line per row, each ending in a line feed."""
    if not chunk:
        return ""
    columns = table_columns(chunk, names)
    cells = [tuple(map(str, columns[0]))]
    cells.extend(_csv_column(c) for c in columns[1:])
    return "\n".join(map(",".join, zip(*cells, strict=True))) + "\n"


def write_csv(
    out: BinaryIO, queryset: QuerySet, *, language: str, bom: bool, on_progress: Progress
) -> int:
    """Write the queryset's signatures as CSV to a binary stream. Returns how many.

    UTF-8, RFC 4180 quoting (cells with a comma, a double quote or a line break are quoted,
    quotes doubled), lines ending in a line feed, which every spreadsheet program reads. On
    PostgreSQL the database writes the rows (pgcopy.py); elsewhere `write_csv_rows` does.
    """
    from statements.exports import pgcopy

    if bom:
        out.write("\ufeff".encode())
    out.write((",".join(TABLE_HEADER) + "\n").encode())
    names = country_names(language)
    if pgcopy.available(queryset.db):
        return pgcopy.copy_csv_rows(out, queryset, names=names, on_progress=on_progress)
    return write_csv_rows(out, iter_chunks(queryset), names=names, on_progress=on_progress)


def write_csv_rows(
    out: BinaryIO, chunks: Chunks, *, names: dict[str, str], on_progress: Progress
) -> int:
    """Append chunks of database rows to `out` as CSV lines. The rows are joined by hand
    rather than through the csv module, which costs microseconds a row with non-ASCII text:
    seconds at a million rows."""
    done = 0
    for chunk in chunks:
        out.write(csv_lines(chunk, names).encode())
        done += len(chunk)
        on_progress(done)
    return done


# --- XLSX -----------------------------------------------------------------------------------

# Excel's limit, header row included; longer lists continue on further sheets.
XLSX_MAX_ROWS = 1_048_576
XLSX_COLUMN_WIDTHS = {
    "full_name": 28,
    "email": 30,
    "organisation_name": 32,
    "website": 28,
    "affiliation": 24,
    "city": 18,
    "country_name": 20,
    "comment": 40,
    "created_at": 22,
    "confirmed_at": 22,
    "decided_at": 22,
}
# Characters XML 1.0 cannot carry at all; they are dropped.
_XML_ILLEGAL = (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF)
_XML_ILLEGAL_START = frozenset(map(chr, (*_XML_ILLEGAL, *range(0xD800, 0xE000))))
_XML_DROP = dict.fromkeys((*_XML_ILLEGAL, *range(0xD800, 0xE000)))
_XML_TEXT = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("\r"): "&#13;"}
_XML_TEXT.update(_XML_DROP)
# Any character that needs escaping or dropping; most columns of most chunks have none.
_XML_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(value: str) -> str:
    if value and value[0] in _XML_ILLEGAL_START:
        # Dropping what XML cannot carry must not uncover a formula trigger.
        value = neutralise(value.translate(_XML_DROP))
    return value.translate(_XML_TEXT)


def _xml_column(values):
    """A column's text escaped for XML; checked as one string, like the formula triggers."""
    if not values or values[0].__class__ is int or not _XML_SPECIAL.search("".join(values)):
        return values
    return [_xml_text(v) for v in values]


def _sheet_title(number: int) -> str:
    title = _("Signatories")
    return title[:31] if number == 1 else f"{title[:27]} {number}"


def _xlsx_frame(sheet_count: int) -> bytes:
    """An XLSX package made by openpyxl in write-only mode: the workbook, styles, content
    types and, per sheet, its settings and bold header row, but no data rows."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for number in range(1, sheet_count + 1):
        sheet = workbook.create_sheet(title=_sheet_title(number))
        sheet.freeze_panes = "A2"
        for index, name in enumerate(TABLE_HEADER, 1):
            sheet.column_dimensions[get_column_letter(index)].width = XLSX_COLUMN_WIDTHS.get(
                name, 14
            )
        header = []
        for name in TABLE_HEADER:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_path(number: int) -> str:
    return f"xl/worksheets/sheet{number}.xml"


def _row_xml(row: tuple, number: int, letters: tuple[str, ...]) -> str:
    """One row of cells, already escaped (`_xml_column`): numbers, and inline strings."""
    parts = [f'<row r="{number}">']
    append = parts.append
    for letter, value in zip(letters, row, strict=True):
        if value.__class__ is int:
            append(f'<c r="{letter}{number}"><v>{value}</v></c>')
        elif value:
            append(
                f'<c r="{letter}{number}" t="inlineStr"><is><t xml:space="preserve">'
                f"{value}</t></is></c>"
            )
    append("</row>")
    return "".join(parts)


def write_xlsx(path, chunks: Chunks, *, language: str, on_progress: Progress) -> int:
    """Write an XLSX workbook to `path`. Returns the number of signatures written.

    openpyxl in write-only mode builds the package (workbook, styles, sheet settings, header
    row), but its per-cell objects cost some 20 µs a cell, which would put a million-row list
    past ten minutes. So the data rows are serialised here, as plain inline-string and number
    cells, and streamed straight into the sheet's entry of the zip file between openpyxl's
    header row and the end of its sheet: one pass, nothing held in memory or on disk twice.
    """
    with translation.override(language):
        names = country_names(language)
        frame = _xlsx_frame(1)
        with zipfile.ZipFile(io.BytesIO(frame)) as source:
            sheet_xml = source.read(_sheet_path(1)).decode()
        head, marker, tail = sheet_xml.rpartition("</sheetData>")
        if not marker:
            raise RuntimeError("unexpected worksheet layout from openpyxl")
        tail = marker + tail
        # Only the first sheet is the selected one.
        later_head = head.replace(' tabSelected="1"', "")
        letters = tuple(get_column_letter(i) for i in range(1, len(TABLE_HEADER) + 1))

        done = 0
        sheets = 0
        row_number = XLSX_MAX_ROWS
        stream = None
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:

            def next_sheet():
                nonlocal sheets, stream, row_number
                if stream is not None:
                    stream.write(tail.encode())
                    stream.close()
                sheets += 1
                stream = zf.open(_sheet_path(sheets), "w", force_zip64=True)
                stream.write((head if sheets == 1 else later_head).encode())
                row_number = 1

            for chunk in chunks:
                parts = []
                columns = [_xml_column(c) for c in table_columns(chunk, names)]
                for row in zip(*columns, strict=True):
                    if row_number >= XLSX_MAX_ROWS:
                        if parts:
                            stream.write("".join(parts).encode())
                            parts = []
                        next_sheet()
                    row_number += 1
                    parts.append(_row_xml(row, row_number, letters))
                stream.write("".join(parts).encode())
                done += len(chunk)
                on_progress(done)
            if stream is None:
                next_sheet()
            stream.write(tail.encode())
            stream.close()

            # The rest of the package, made for the number of sheets actually written.
            with zipfile.ZipFile(io.BytesIO(_xlsx_frame(sheets))) as source:
                names_in_frame = set(source.namelist())
                missing = {_sheet_path(n) for n in range(1, sheets + 1)} - names_in_frame
                if missing:
                    raise RuntimeError(f"unexpected worksheet names from openpyxl: {missing}")
                for info in source.infolist():
                    if info.filename.startswith("xl/worksheets/sheet"):
                        continue
                    zf.writestr(info.filename, source.read(info.filename))
    return done


# --- JSON (Open Supporter Data Interface field names) ---------------------------------------


def osdi_date(value: str | None) -> str | None:
    """Database text (see UtcTimestampText) in OSDI's form: "2022-01-05T10:00:00.5Z"."""
    if not value:
        return None
    return value.replace(" ", "T", 1).removesuffix("+00") + "Z"


def osdi_record(row: tuple, names: dict[str, str]) -> dict:
    """One signature in OSDI's vocabulary. OSDI people have no single-name field and names
    are not split reliably, so the full name travels in `custom_fields`, OSDI's extension
    point, as do the organisation's fields."""
    (
        pk,
        kind,
        state,
        full_name,
        email,
        organisation_name,
        organisation_type,
        contact_role,
        website,
        affiliation,
        city,
        country,
        show_publicly,
        comment,
        language,
        created_at,
        confirmed_at,
        decided_at,
        source,
        referrer,
    ) = row
    custom = {
        "signatory_type": kind,
        "full_name": full_name,
        "affiliation": affiliation,
        "state": state,
        "show_publicly": show_publicly,
        "language": language,
        "country_name": names.get(country, country),
        "source": source,
        "referrer": referrer,
    }
    if kind == "organisation":
        custom.update(
            organisation_name=organisation_name,
            organisation_type=organisation_type,
            website=website,
            contact_role=contact_role,
            decided_date=osdi_date(decided_at),
        )
    return {
        "identifiers": [f"petition:{pk}"],
        "created_date": osdi_date(created_at),
        "action_date": osdi_date(confirmed_at or created_at),
        "comments": comment,
        "email_addresses": [{"address": email, "primary": True}] if email else [],
        "postal_addresses": [{"locality": city, "country": country, "primary": True}],
        "custom_fields": custom,
    }


def write_json(
    out: io.TextIOBase, chunks: Chunks, *, language: str, meta: dict, on_progress: Progress
) -> int:
    """Write an OSDI-style collection: `meta`, then `_embedded["osdi:signatures"]`, one
    record per line, then `total_records`. Returns the number of signatures written."""
    names = country_names(language)
    out.write("{")
    for key, value in meta.items():
        out.write(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n")
    out.write('"_embedded": {"osdi:signatures": [')
    done = 0
    for chunk in chunks:
        for row in chunk:
            out.write("\n" if not done else ",\n")
            out.write(json.dumps(osdi_record(row, names), ensure_ascii=False))
            done += 1
        on_progress(done)
    out.write(f'\n]}},\n"total_records": {done}}}\n')
    return done
