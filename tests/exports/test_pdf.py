"""The printable PDF: what it says (read back from the file), that it is tagged for screen
readers, and that its footer fits on every page."""

import io
import re
from collections import Counter
from datetime import UTC, datetime

from pypdf import PdfReader

from exports import pdf
from exports.models import SignatoryExport
from statements.models import DemandTranslation, Signature
from tests.exports.helpers import file_bytes
from tests.factories import OrganisationFactory

State = SignatoryExport.State
ALL_STATES = [s.value for s in Signature.State if s != Signature.State.WITHDRAWN]


def _reader(export) -> PdfReader:
    return PdfReader(io.BytesIO(file_bytes(export)))


def _text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _structure_types(reader: PdfReader) -> Counter:
    """The structure elements of a tagged PDF, counted by type (H1, P, L, …)."""
    found = Counter()

    def walk(node):
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            if "/S" in node:
                found[str(node["/S"])[1:]] += 1
            if "/K" in node:
                walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


def test_the_pdf_says_what_the_list_is(statement, signatures, build):
    export = build(statement, "pdf", states=ALL_STATES, language="ru")
    assert export.state == State.DONE
    # Approved organisations (3) and listed, confirmed individuals (4); nothing else.
    assert export.total_rows == 7
    text = _flat(_text(_reader(export)))
    russian = statement.translations.get(language="ru")
    assert _flat(russian.title) in text
    demands = DemandTranslation.objects.filter(demand__statement=statement, language="ru")
    for demand in demands.order_by("demand__position"):
        assert _flat(demand.text) in text
    # As of when, how many, and where the statement is.
    made = export.started_at.astimezone(UTC)
    assert re.search(rf"Список на \d+ \w+ {made.year} г\., {made:%H:%M} UTC", text)
    assert "3 организации · 4 частных лица" in text
    assert f"http://127.0.0.1:8000/ru/s/{statement.slug}/" in text
    assert "Организации (3)" in text and "Частные лица (4)" in text
    # Names as written, markup included; never an email address; nothing unpublished.
    assert "Workers <b>&</b> Students" in text and "Профсоюз «Әділет»" in text
    assert "Айгуль Сапарова (учитель, " in text
    for s in Signature.objects.filter(statement=statement):
        assert s.email not in text
    assert signatures["org_rejected"].organisation_name not in text
    assert signatures["ind_hidden"].full_name not in text


def test_the_pdf_is_tagged_for_screen_readers(statement, signatures, build):
    reader = _reader(build(statement, "pdf", states=ALL_STATES, language="es"))
    catalog = reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "es"
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title == statement.translations.get(language="es").title
    # Declared as PDF/UA-1, whose rules the compiler checked.
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert re.search(r"<pdfuaid:part>1</pdfuaid:part>", xmp)
    types = _structure_types(reader)
    # A title, section headings and country headings, the demands as a list, entries as
    # paragraphs, the statement's address as a link.
    assert types["Title"] == 1
    assert types["H1"] == 2 and types["H2"] >= 4
    assert types["L"] == 1 and types["LI"] == 5
    assert types["P"] >= 3 and types["Link"] == 1


def test_the_footer_fits_on_every_page(statement, signatures, build):
    OrganisationFactory.create_batch(120, statement=statement, country="KZ")
    reader = _reader(build(statement, "pdf", states=ALL_STATES, language="en"))
    pages = len(reader.pages)
    assert pages > 2
    title = _flat(statement.translations.get(language="en").title)
    width = float(reader.pages[0].mediabox.width)
    for number, page in enumerate(reader.pages, 1):
        runs = []

        def visit(text, cm, tm, font, size, runs=runs):
            if text.strip():
                runs.append((text, tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5], size))

        page.extract_text(visitor_text=visit)
        footer = [(text, x, y) for text, x, y, _ in runs if y < 26 * 72 / 25.4]
        footer_text = _flat(" ".join(text for text, _, _ in footer))
        # The whole title (never cut short), when the list was made, and the page number.
        assert title in footer_text, footer_text
        assert "List as of" in footer_text
        assert f"Page {number} of {pages}" in footer_text
        # Every piece starts inside the side margins (20 mm).
        margin = 20 * 72 / 25.4
        assert all(margin - 1 <= x < width - margin for _, x, _ in footer)


def test_content_matches_the_database(statement, signatures, organiser):
    export = SignatoryExport(
        statement=statement,
        format="pdf",
        filters={"language": "ru", "states": ALL_STATES},
        requested_by=organiser,
    )
    now = datetime(2026, 11, 30, 8, 37, tzinfo=UTC)
    content = pdf.list_content(export, now=now)
    assert content.as_of == "Список на 30 ноября 2026 г., 08:37 UTC"
    assert content.link == f"http://127.0.0.1:8000/ru/s/{statement.slug}/"
    organisations = {(e.name, e.details) for g in content.organisations for e in g.entries}
    assert organisations == {
        (
            '=HYPERLINK("http://evil.example","click")',
            'Политическая партия, Buenos Aires, "Centro"',
        ),
        ("Workers <b>&</b> Students", "Профсоюз"),
        ("Профсоюз «Әділет»", "Профсоюз, Жанаозен"),
    }
    countries_in_order = [g.country for g in content.organisations]
    assert countries_in_order == ["Аргентина", "Казахстан"]
    people = [e.name for g in content.individuals for e in g.entries]
    assert sorted(people) == sorted(
        Signature.objects.filter(
            statement=statement, kind="individual", state__in=["confirmed", "approved"]
        )
        .filter(show_publicly=True)
        .values_list("full_name", flat=True)
    )


def test_the_fonts_cover_cyrillic_with_or_without_dejavu(statement, signatures, build, caplog):
    reader = _reader(build(statement, "pdf", language="ru"))
    fonts = {str(f) for page in reader.pages for f in _font_names(page)}
    assert any("DejaVuSans" in f for f in fonts), "install fonts-dejavu-core"
    pdf.font_paths.cache_clear()
    try:
        original = pdf.FONT_DIRS
        pdf.FONT_DIRS = ()
        reader = _reader(build(statement, "pdf", language="ru"))
    finally:
        pdf.FONT_DIRS = original
        pdf.font_paths.cache_clear()
    fonts = {str(f) for page in reader.pages for f in _font_names(page)}
    assert fonts and all("Libertinus" in f for f in fonts)
    assert "Организации (3)" in _flat(_text(reader))
    assert "DejaVu Sans not found" in caplog.text


def _font_names(page):
    resources = page["/Resources"].get_object()
    for font in resources.get("/Font", {}).values():
        yield font.get_object()["/BaseFont"]
