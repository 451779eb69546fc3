"""Each format round-trips: the file is parsed back and compared with the database."""

import csv
import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from exports import services, xlsx
from exports.models import SignatoryExport
from statements.models import Signature
from tests.exports.helpers import (
    expected_table,
    file_bytes,
    read_csv,
    read_xlsx,
    table_header,
)

State = SignatoryExport.State
ALL_STATES = [s.value for s in Signature.State if s != Signature.State.WITHDRAWN]


def _exported(statement, states):
    return Signature.objects.filter(statement=statement, state__in=states)


def test_csv_round_trip(statement, signatures, build):
    export = build(statement, "csv", states=ALL_STATES)
    assert export.state == State.DONE
    header, rows = read_csv(file_bytes(export))
    assert header == table_header()
    assert rows == expected_table(_exported(statement, ALL_STATES))
    assert export.total_rows == export.rows_done == len(rows) == 11
    assert export.file_size == services.export_path(export).stat().st_size


def test_csv_quoting_and_the_optional_bom(statement, signatures, build):
    plain = file_bytes(build(statement, "csv"))
    with_bom = file_bytes(build(statement, "csv", bom=True))
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert with_bom == b"\xef\xbb\xbf" + plain
    assert plain.split(b"\n")[0] == ",".join(table_header()).encode()
    # A comment with a line break and commas stays one quoted field; quotes are doubled.
    assert b',"first line\nsecond line; with, commas",' in plain
    assert b',"\'=HYPERLINK(""http://evil.example"",""click"")",' in plain
    assert b',"Buenos Aires, ""Centro""",' in plain


def test_csv_names_of_codes_follow_the_list_language(statement, signatures, build):
    _, rows = read_csv(file_bytes(build(statement, "csv", language="ru")))
    assert {r["country_name"] for r in rows if r["country"] == "KZ"} == {"Казахстан"}
    by_id = {int(r["id"]): r for r in rows}
    party = by_id[signatures["org_ar"].pk]
    assert (party["kind"], party["kind_name"]) == ("organisation", "Организация")
    assert (party["state"], party["state_name"]) == ("approved", "Одобрена")
    assert (party["organisation_type"], party["organisation_type_name"]) == (
        "party",
        "Политическая партия",
    )
    person = by_id[signatures["ind_kz"].pk]
    assert (person["organisation_type"], person["organisation_type_name"]) == ("", "")


def test_csv_timestamps_are_iso_8601_in_utc(statement, signatures, build):
    data = file_bytes(build(statement, "csv", states=ALL_STATES)).decode()
    rows = list(csv.DictReader(io.StringIO(data, newline="")))
    assert rows
    iso = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
    for row in rows:
        assert iso.fullmatch(row["created_at"]), row["created_at"]
        signature = Signature.objects.get(pk=row["id"])
        for name in ("confirmed_at", "decided_at"):
            if getattr(signature, name) is None:
                assert row[name] == ""
            else:
                assert iso.fullmatch(row[name]), row[name]


def test_xlsx_round_trip(statement, signatures, build):
    export = build(statement, "xlsx", states=ALL_STATES, language="en")
    assert export.state == State.DONE
    headers, rows = read_xlsx(file_bytes(export))
    assert headers == [table_header()]
    assert rows == expected_table(_exported(statement, ALL_STATES), "en")


def test_xlsx_is_a_spreadsheet_people_can_sort_and_filter(statement, signatures, build):
    export = build(statement, "xlsx", states=ALL_STATES, language="es")
    workbook = load_workbook(io.BytesIO(file_bytes(export)))
    sheet = workbook.active
    count = _exported(statement, ALL_STATES).count()
    last = f"Y{count + 1}"
    # An autofilter over the header and every row; the header stays in view, in bold.
    assert sheet.auto_filter.ref == f"A1:{last}"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    header = [cell.value for cell in sheet[1]]
    assert header == table_header()
    # Timestamps are date cells, not text; codes sit beside their Spanish names.
    created = header.index("created_at") + 1
    for row in range(2, count + 2):
        cell = sheet.cell(row=row, column=created)
        assert cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm:ss"
    states = {sheet.cell(row=r, column=5).value for r in range(2, count + 2)}
    assert "Confirmada" in states and "Rechazada" in states
    # Numbers stay numbers, and text that looks like a number or a link stays text.
    ids = {sheet.cell(row=r, column=1).value for r in range(2, count + 2)}
    assert all(isinstance(i, int) for i in ids)
    comments = {sheet.cell(row=r, column=18).value for r in range(2, count + 2)}
    assert "'+7 700 000 00 00" in comments


def test_xlsx_continues_on_further_sheets_past_the_row_limit(
    statement, signatures, build, monkeypatch
):
    # Three data rows and the header per sheet, instead of Excel's 1,048,576 rows.
    monkeypatch.setattr(xlsx, "XLSX_MAX_ROWS", 4)
    export = build(statement, "xlsx", states=ALL_STATES)
    headers, rows = read_xlsx(file_bytes(export))
    assert headers == [table_header()] * 4
    assert rows == expected_table(_exported(statement, ALL_STATES))
    names = zipfile.ZipFile(io.BytesIO(file_bytes(export))).namelist()
    assert {f"xl/worksheets/sheet{n}.xml" for n in range(1, 5)} <= set(names)
    workbook = load_workbook(io.BytesIO(file_bytes(export)))
    assert [s.auto_filter.ref for s in workbook.worksheets] == [
        "A1:Y4",
        "A1:Y4",
        "A1:Y4",
        "A1:Y3",
    ]
    assert [s.title for s in workbook.worksheets] == [
        "Firmantes",
        "Firmantes 2",
        "Firmantes 3",
        "Firmantes 4",
    ]


def test_xlsx_with_no_rows_is_a_valid_workbook(statement, build):
    headers, rows = read_xlsx(file_bytes(build(statement, "xlsx")))
    assert headers == [table_header()] and rows == []


@pytest.mark.parametrize("format", ["csv", "xlsx", "json", "pdf"])
def test_every_format_builds_an_empty_list(statement, build, format):
    export = build(statement, format)
    assert export.state == State.DONE and export.total_rows == 0
    assert services.export_path(export).is_file()


def test_file_names_say_what_is_inside(statement, build):
    day = build(statement, "csv").created_at.date().isoformat()
    assert services.download_name(build(statement, "csv", language="en")) == (
        f"kazakhstan-2022_organisations-and-individuals_en_{day}.csv"
    )
    assert services.download_name(
        build(statement, "pdf", kinds=("organisation",), language="es")
    ) == (f"kazakhstan-2022_organizaciones_es_{day}.pdf")
    assert services.download_name(
        build(statement, "xlsx", kinds=("individual",), language="ru")
    ) == (f"kazakhstan-2022_частные-лица_ru_{day}.xlsx")
