"""Reading an uploaded CSV or XLSX file into rows of text, with their row numbers.

The first row names the columns (in any order, any letter case); unknown columns are
reported rather than ignored, so a misspelt heading does not silently drop a field.
"""

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

COLUMNS = (
    "kind",
    "full_name",
    "email",
    "country",
    "city",
    "affiliation",
    "show_publicly",
    "organisation_name",
    "organisation_type",
    "contact_role",
    "website",
    "comment",
    "signed_on",
)
MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024


class Unreadable(Exception):
    """The file as a whole cannot be read; the message says why, for the organiser."""


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet program numbers it: the heading is row 1
    values: dict[str, str]


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and callable(value.date):  # a date typed into a spreadsheet
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _table_rows(name: str, data: bytes) -> list[list]:
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise Unreadable(_("This is not an XLSX workbook that can be read.")) from exc
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                break
        workbook.close()
        return rows
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(_("Save the CSV file as UTF-8 and upload it again.")) from exc
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(text), dialect))


def read_rows(name: str, data: bytes) -> list[Row]:
    if len(data) > MAX_BYTES:
        raise Unreadable(_("The file is larger than 5 MB. Split it into several imports."))
    table = [row for row in _table_rows(name, data)]
    if not table:
        raise Unreadable(_("The file is empty."))
    heading = [_cell(value).lower().replace(" ", "_") for value in table[0]]
    unknown = [name for name in heading if name and name not in COLUMNS]
    if unknown:
        raise Unreadable(
            _("Unknown columns: %(names)s. The columns are: %(columns)s.")
            % {"names": ", ".join(unknown), "columns": ", ".join(COLUMNS)}
        )
    if "full_name" not in heading:
        raise Unreadable(_("The first row must name the columns, full_name among them."))
    rows = []
    for number, raw in enumerate(table[1:], start=2):
        values = {name: _cell(value) for name, value in zip(heading, raw, strict=False) if name}
        if any(values.values()):  # blank lines between blocks of signatures are skipped
            rows.append(Row(number=number, values=values))
    if len(rows) > MAX_ROWS:
        raise Unreadable(
            _("The file has more than %(max)d rows. Split it into several imports.")
            % {"max": MAX_ROWS}
        )
    if not rows:
        raise Unreadable(_("The file has no signatures below its first row."))
    return rows
