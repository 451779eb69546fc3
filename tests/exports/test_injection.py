"""Formula injection: no text cell of a CSV or XLSX export can start a formula."""

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports import cells, csvfile, xlsx
from exports.cells import FORMULA_TRIGGERS, neutralise
from tests.exports.helpers import expected_table, file_bytes, read_csv, read_xlsx

OWASP_TRIGGERS = "=+-@\t\r\x00"

# Text as signers could type it, weighted towards the dangerous first characters.
cell_text = st.one_of(
    st.text(max_size=30),
    st.builds(lambda t, rest: t + rest, st.sampled_from(sorted(FORMULA_TRIGGERS)), st.text()),
)


def _is_inert(value: str) -> bool:
    return not value or value[0] not in FORMULA_TRIGGERS


@given(cell_text)
def test_neutralise_makes_every_value_inert_and_loses_nothing(value):
    result = neutralise(value)
    assert _is_inert(result)
    if value and value[0] in FORMULA_TRIGGERS:
        assert result == "'" + value
    else:
        assert result == value


def test_neutralise_covers_owasps_list():
    for trigger in OWASP_TRIGGERS:
        assert neutralise(trigger + "1+1") == "'" + trigger + "1+1"
    assert neutralise("'=already quoted") == "'=already quoted"
    assert neutralise("a=b") == "a=b"


@given(st.lists(cell_text, max_size=20))
def test_column_neutralisation_matches_cell_by_cell(values):
    assert list(cells.neutralise_column(tuple(values))) == [neutralise(v) for v in values]


def _row(pk: int, texts: list[str]) -> tuple:
    """A database row (EXPORT_FIELDS order) whose every text column comes from `texts`."""
    t = (texts * 12)[:12]
    return (
        pk,
        "individual",
        "confirmed",
        t[0],
        t[1],
        t[2],
        t[3],
        t[4],
        t[5],
        t[6],
        t[7],
        "KZ",
        True,
        t[8],
        "es",
        t[9],
        t[10],
        "2022-01-05T10:00:00Z",
        None,
        None,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell_text, min_size=1, max_size=12), min_size=1, max_size=6))
def test_csv_and_xlsx_cells_are_inert(tmp_path_factory, texts):
    rows = [_row(pk, t) for pk, t in enumerate(texts, 1)]
    out = io.BytesIO()
    names = cells.code_names("en")
    csvfile.write_csv_rows(out, [rows], names=names, on_progress=lambda n: None)
    csv_rows = read_csv(csvfile.csv_header(bom=False) + out.getvalue())[1]
    path = tmp_path_factory.mktemp("xlsx") / "list.xlsx"
    xlsx_rows_in = [(*row[:-3], 44566.41666666667, None, None) for row in rows]
    xlsx.write_xlsx(path, [xlsx_rows_in], names=names, language="en", on_progress=lambda n: None)
    xlsx_rows = read_xlsx(path.read_bytes())[1]
    assert len(csv_rows) == len(xlsx_rows) == len(rows)
    for parsed in (csv_rows, xlsx_rows):
        for row in parsed:
            for key, value in row.items():
                if isinstance(value, str):
                    assert _is_inert(value), (key, value)
    # CSV keeps every character; the neutralised text is the original with a quote in front.
    for source, row in zip(rows, csv_rows, strict=True):
        assert row["full_name"] == neutralise(source[3])
        assert row["comment"] == neutralise(source[13])


def test_dangerous_signatures_are_neutralised_end_to_end(statement, signatures, build):
    from statements.models import Signature

    for format, read in (("csv", read_csv), ("xlsx", read_xlsx)):
        export = build(statement, format, states=["confirmed", "approved"])
        rows = read(file_bytes(export))[1]
        by_id = {int(r["id"]): r for r in rows}
        assert by_id[signatures["org_ar"].pk]["organisation_name"].startswith("'=HYPERLINK(")
        assert by_id[signatures["ind_formula"].pk]["full_name"] == "'@SUM(A1:A9)"
        assert by_id[signatures["ind_formula"].pk]["city"] == "'-Madrid"
        assert by_id[signatures["ind_formula"].pk]["comment"] == "'\tcmd|' /C calc'!A0"
        assert by_id[signatures["ind_kz"].pk]["comment"] == "'+7 700 000 00 00"
        expected = expected_table(
            Signature.objects.filter(statement=statement, state__in=["confirmed", "approved"])
        )
        assert rows == expected


def test_characters_xml_cannot_carry_do_not_uncover_a_formula(tmp_path):
    rows = [(*_row(1, ["\x01=cmd()", "\x0b\x00+1", "\x00=x"])[:-3], None, None, None)]
    path = tmp_path / "list.xlsx"
    names = cells.code_names("en")
    xlsx.write_xlsx(path, [rows], names=names, language="en", on_progress=lambda n: None)
    row = read_xlsx(path.read_bytes())[1][0]
    assert row["full_name"] == "'=cmd()"
    assert row["email"] == "'+1"
    assert row["organisation_name"] == "'=x"
