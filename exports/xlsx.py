"""The XLSX workbook of an export, written by XlsxWriter in its constant-memory mode.

In that mode XlsxWriter writes each row to disk as soon as the next one starts, so a
million-row list takes the same memory as a ten-row one; rows must come in order, which
they do. The sheet is what people expect of a spreadsheet download: a bold header row that
stays in view and carries an autofilter, columns wide enough to read, timestamps as date
cells (sortable and filterable as dates), and each code beside its name in the list's
language. Text cells are neutralised against formula injection (see cells.py) and written
as strings, never parsed as formulas, numbers or links.
"""

import re
from pathlib import Path

import xlsxwriter
from django.utils import translation
from django.utils.translation import gettext as _

from exports.cells import (
    TABLE_HEADER,
    TIMESTAMP_COLUMNS,
    Chunks,
    Names,
    Progress,
    neutralise,
    table_columns,
)

# Excel's limit, header row included; longer lists continue on further sheets.
XLSX_MAX_ROWS = 1_048_576
COLUMN_WIDTHS = {
    "kind_name": 14,
    "state_name": 22,
    "full_name": 28,
    "email": 30,
    "organisation_name": 32,
    "organisation_type_name": 24,
    "website": 28,
    "affiliation": 24,
    "city": 18,
    "country_name": 20,
    "comment": 40,
    "created_at": 20,
    "confirmed_at": 20,
    "decided_at": 20,
}
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"

_LAST_COLUMN = len(TABLE_HEADER) - 1
_DATE_COLUMNS = tuple(TABLE_HEADER.index(name) for name in TIMESTAMP_COLUMNS)
_TEXT_COLUMNS = tuple(range(1, _DATE_COLUMNS[0]))


# Characters XML 1.0 cannot carry (and lone surrogates, which UTF-8 cannot): XlsxWriter would
# keep them as "_xHHHH_" escapes that spreadsheet programs turn back into control characters.
# They are dropped, and the cell neutralised again, so that dropping one cannot uncover a
# formula trigger.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _writable(values):
    """A column of text without the characters XML cannot carry; checked as one string."""
    if not _UNWRITABLE.search("".join(values)):
        return values
    return [neutralise(_UNWRITABLE.sub("", v)) for v in values]


def _rows(chunk: list[tuple], names: Names):
    columns = table_columns(chunk, names)
    for index in _TEXT_COLUMNS:
        columns[index] = _writable(columns[index])
    # Back to rows: XlsxWriter takes one cell at a time, row by row.
    return zip(*columns, strict=True)


def _sheet_title(number: int) -> str:
    title = _("Signatories")
    return title[:31] if number == 1 else f"{title[:27]} {number}"


def write_xlsx(
    path: Path, chunks: Chunks, *, names: Names, language: str, on_progress: Progress
) -> int:
    """Write the rows (selectors.XLSX_FIELDS) as an XLSX workbook; returns how many.

    XlsxWriter keeps each sheet's rows in a temporary file until the workbook closes: it is
    made beside `path`, in private storage, since it holds personal data.
    """
    path = Path(path)
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "tmpdir": str(path.parent),
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    date = workbook.add_format({"num_format": DATE_FORMAT})
    done = 0
    with translation.override(language):
        sheet = None
        last_row = XLSX_MAX_ROWS - 1
        row = last_row
        for chunk in chunks:
            for values in _rows(chunk, names):
                if row >= last_row:
                    _finish(sheet, row)
                    sheet = _new_sheet(workbook, bold, number=len(workbook.worksheets()) + 1)
                    write_string, write_number = sheet.write_string, sheet.write_number
                    row = 0
                row += 1
                write_number(row, 0, values[0])
                for column in _TEXT_COLUMNS:
                    if text := values[column]:
                        write_string(row, column, text)
                for column in _DATE_COLUMNS:
                    if (serial := values[column]) is not None:
                        write_number(row, column, serial, date)
            done += len(chunk)
            on_progress(done)
        if sheet is None:
            sheet, row = _new_sheet(workbook, bold, number=1), 0
        _finish(sheet, row)
    workbook.close()
    return done


def _new_sheet(workbook, bold, *, number: int):
    sheet = workbook.add_worksheet(_sheet_title(number))
    for column, name in enumerate(TABLE_HEADER):
        sheet.set_column(column, column, COLUMN_WIDTHS.get(name, 12))
    sheet.write_row(0, 0, TABLE_HEADER, bold)
    sheet.freeze_panes(1, 0)
    return sheet


def _finish(sheet, last_row: int) -> None:
    """The autofilter covers the header and every data row of the sheet."""
    if sheet is not None:
        sheet.autofilter(0, 0, max(last_row, 1), _LAST_COLUMN)
