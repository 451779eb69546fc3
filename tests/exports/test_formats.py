"""Each format round-trips: the file is parsed back and compared with the database."""

import io
import zipfile

import pytest
from django.utils import translation
from django_countries import countries

from statements.exports import pdf, services, writers
from statements.models import DemandTranslation, SignatoryExport, Signature
from tests.exports.helpers import (
    expected_table,
    file_bytes,
    read_csv,
    read_json,
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


def test_csv_country_names_follow_the_list_language(statement, signatures, build):
    _, rows = read_csv(file_bytes(build(statement, "csv", language="ru")))
    assert {r["country_name"] for r in rows if r["country"] == "KZ"} == {"Казахстан"}


def test_xlsx_round_trip(statement, signatures, build):
    export = build(statement, "xlsx", states=ALL_STATES, language="en")
    assert export.state == State.DONE
    headers, rows = read_xlsx(file_bytes(export))
    assert headers == [table_header()]
    assert rows == expected_table(_exported(statement, ALL_STATES), "en")


def test_xlsx_continues_on_further_sheets_past_the_row_limit(
    statement, signatures, build, monkeypatch
):
    # Three data rows and the header per sheet, instead of Excel's 1,048,576 rows.
    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 4)
    export = build(statement, "xlsx", states=ALL_STATES)
    headers, rows = read_xlsx(file_bytes(export))
    assert headers == [table_header()] * 4
    assert rows == expected_table(_exported(statement, ALL_STATES))
    names = zipfile.ZipFile(io.BytesIO(file_bytes(export))).namelist()
    assert {f"xl/worksheets/sheet{n}.xml" for n in range(1, 5)} <= set(names)


def test_xlsx_with_no_rows_is_a_valid_workbook(statement, build):
    headers, rows = read_xlsx(file_bytes(build(statement, "xlsx")))
    assert headers == [table_header()] and rows == []


def test_json_round_trip_uses_osdi_field_names(statement, signatures, build):
    export = build(statement, "json", states=ALL_STATES)
    data = read_json(file_bytes(export))
    records = data["_embedded"]["osdi:signatures"]
    assert data["total_records"] == len(records) == 11
    assert data["statement"] == statement.slug
    with translation.override("es"):
        names = {code: str(name) for code, name in countries}
    expected = _exported(statement, ALL_STATES).order_by("pk")
    for record, s in zip(records, expected, strict=True):
        assert record["identifiers"] == [f"petition:{s.pk}"]
        assert record["email_addresses"] == [{"address": s.email, "primary": True}]
        assert record["postal_addresses"] == [
            {"locality": s.city, "country": s.country.code, "primary": True}
        ]
        assert record["comments"] == s.comment  # JSON is not a spreadsheet: verbatim
        custom = record["custom_fields"]
        assert custom["signatory_type"] == s.kind
        assert custom["full_name"] == s.full_name
        assert custom["affiliation"] == s.affiliation
        assert custom["state"] == s.state
        assert custom["show_publicly"] is s.show_publicly
        assert custom["country_name"] == names[s.country.code]
        assert _time(record["created_date"]) == s.created_at
        assert _time(record["action_date"]) == (s.confirmed_at or s.created_at)
        if s.kind == "organisation":
            assert custom["organisation_name"] == s.organisation_name
            assert custom["organisation_type"] == s.organisation_type
            assert custom["website"] == s.website
            assert custom["contact_role"] == s.contact_role
            assert _time(custom["decided_date"]) == s.decided_at
        else:
            assert "organisation_name" not in custom


def _time(value):
    from datetime import datetime

    return datetime.fromisoformat(value)


def test_pdf_is_a_pdf_with_the_publishable_list(statement, signatures, build):
    export = build(statement, "pdf", states=ALL_STATES, language="ru")
    assert export.state == State.DONE
    data = file_bytes(export)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    # Approved organisations (3) and listed, confirmed individuals (4); nothing else.
    assert export.total_rows == 7


def test_pdf_content_matches_the_database(statement, signatures, organiser):
    export = SignatoryExport(
        statement=statement,
        format="pdf",
        filters={"language": "ru", "states": ALL_STATES},
        requested_by=organiser,
    )
    content = pdf.list_content(export)
    with translation.override("ru"):
        names = {code: str(name) for code, name in countries}
        types = dict(Signature.OrganisationType.choices)
        type_names = {k: str(v) for k, v in types.items()}
    text = statement.translations.get(language="ru")
    assert content.title == text.title
    assert content.demands == list(
        DemandTranslation.objects.filter(demand__statement=statement, language="ru")
        .order_by("demand__position")
        .values_list("text", flat=True)
    )

    organisations = Signature.objects.filter(
        statement=statement, kind="organisation", state="approved"
    )
    expected_orgs = {}
    for o in organisations:
        details = ", ".join(p for p in (type_names[o.organisation_type], o.city) if p)
        expected_orgs.setdefault(names[o.country.code], []).append((o.organisation_name, details))
    assert {g.country: sorted(g.entries) for g in content.organisations} == {
        k: sorted(v) for k, v in expected_orgs.items()
    }
    # Country groups are in alphabetical order of the list's language.
    countries_in_order = [g.country for g in content.organisations]
    assert countries_in_order == sorted(countries_in_order, key=str.casefold)

    people = Signature.objects.filter(
        statement=statement, kind="individual", state__in=["confirmed", "approved"]
    ).filter(show_publicly=True)
    expected_people = {}
    for p in people:
        details = ", ".join(x for x in (p.affiliation, p.city) if x)
        expected_people.setdefault(names[p.country.code], []).append((p.full_name, details))
    assert {g.country: sorted(g.entries) for g in content.individuals} == {
        k: sorted(v) for k, v in expected_people.items()
    }

    # The story prints exactly that, markup in names printed as written, no email anywhere.
    lines = pdf.story_text(pdf.story(content))
    assert lines[0] == text.title
    numbered = [line.split(" ", 1) for line in lines if line[:2] in {"1.", "2.", "3.", "4.", "5."}]
    assert [text for _, text in numbered] == content.demands
    joined = "\n".join(lines)
    assert "Workers <b>&</b> Students" in joined
    assert f"Профсоюз «Әділет» — {type_names['trade_union']}, Жанаозен" in joined
    for s in Signature.objects.filter(statement=statement):
        assert s.email not in joined
    headings = [line for line in lines if line.endswith(("(3)", "(4)"))]
    assert len(headings) == 2


def test_pdf_uses_a_font_with_cyrillic():
    assert pdf.fonts().covers_cyrillic, "install fonts-dejavu-core"


def test_pdf_falls_back_to_helvetica_without_dejavu(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(pdf, "FONT_DIRS", (tmp_path,))
    pdf.fonts.cache_clear()
    try:
        assert pdf.fonts() == pdf.Fonts("Helvetica", "Helvetica-Bold", covers_cyrillic=False)
        assert "DejaVu Sans not found" in caplog.text
    finally:
        pdf.fonts.cache_clear()


@pytest.mark.parametrize("format", ["csv", "xlsx", "json", "pdf"])
def test_every_format_builds_an_empty_list(statement, build, format):
    export = build(statement, format)
    assert export.state == State.DONE and export.total_rows == 0
    assert services.export_path(export).is_file()
