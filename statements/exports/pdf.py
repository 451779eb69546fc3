"""The printable signatory list: a typeset PDF for publication, made with reportlab's platypus.

It holds what may be published and nothing else: the statement's title and demands in the
chosen language, the approved organisations grouped by country, and the individuals who chose
to be listed, grouped by country too. Never an email address.

Every text taken from a signature is escaped before it reaches platypus's paragraph markup, so
a name such as `<font size=90>` or `A & B` prints as written instead of changing the layout or
breaking the build.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph
from reportlab.platypus.flowables import Flowable

from statements.exports.selectors import ExportFilters, export_queryset
from statements.exports.writers import country_names
from statements.models import SignatoryExport, Signature
from statements.selectors import statement_text

logger = logging.getLogger(__name__)

# DejaVu Sans covers Latin, Cyrillic and Greek. reportlab ships no font beyond Latin-1, so it
# comes from the system: the Debian package fonts-dejavu-core (installed by the Dockerfile and
# .ci/run), or the same files where other systems put them.
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/local/share/fonts"),
)
FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
# Names of individuals run on in paragraphs of this many, as printed lists usually do.
NAMES_PER_PARAGRAPH = 40
PROGRESS_EVERY = 500


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    covers_cyrillic: bool


@cache
def fonts() -> Fonts:
    """Register DejaVu Sans once per process; without it, fall back to Helvetica, which has
    no Cyrillic, and say so in the log."""
    for directory in FONT_DIRS:
        regular, bold = (directory / FONT_FILES[k] for k in ("regular", "bold"))
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("PetitionSans", str(regular)))
            pdfmetrics.registerFont(TTFont("PetitionSans-Bold", str(bold)))
            pdfmetrics.registerFontFamily(
                "PetitionSans",
                normal="PetitionSans",
                bold="PetitionSans-Bold",
                italic="PetitionSans",
                boldItalic="PetitionSans-Bold",
            )
            return Fonts("PetitionSans", "PetitionSans-Bold", covers_cyrillic=True)
    logger.warning(
        "DejaVu Sans not found (install fonts-dejavu-core): PDF exports fall back to "
        "Helvetica and cannot print Cyrillic or other non-Latin names"
    )
    return Fonts("Helvetica", "Helvetica-Bold", covers_cyrillic=False)


@dataclass(frozen=True)
class CountryGroup:
    country: str
    # (name, details) pairs, sorted by name; details are the type, affiliation and city.
    entries: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ListContent:
    """Everything the PDF prints, already in the list's language."""

    language: str
    title: str
    demands_intro: str
    demands: list[str]
    organisations: list[CountryGroup]
    individuals: list[CountryGroup]
    generated_on: str

    @property
    def organisation_count(self) -> int:
        return sum(len(g.entries) for g in self.organisations)

    @property
    def individual_count(self) -> int:
        return sum(len(g.entries) for g in self.individuals)


def _group(rows: Iterable[tuple[str, str, str]]) -> list[CountryGroup]:
    """(country name, name, details) rows → groups sorted by country name, then by name."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for country, name, details in rows:
        groups.setdefault(country, []).append((name, details))
    return [
        CountryGroup(country, sorted(entries, key=lambda e: (e[0].casefold(), e[0], e[1])))
        for country, entries in sorted(groups.items(), key=lambda g: (g[0].casefold(), g[0]))
    ]


def publishable_rows(export: SignatoryExport) -> tuple[Iterable, Iterable]:
    """The export's signatures that may be published: approved organisations, and confirmed or
    approved individuals who chose to be listed. States chosen outside those are ignored."""
    filters = ExportFilters.from_json(export.filters)
    queryset = export_queryset(export)
    organisations = queryset.filter(
        kind=Signature.Kind.ORGANISATION, state=Signature.State.APPROVED
    ).values_list("country", "organisation_name", "organisation_type", "city")
    individuals = queryset.filter(
        kind=Signature.Kind.INDIVIDUAL,
        state__in=[s for s in Signature.PUBLIC_STATES if s in filters.states],
        show_publicly=True,
    ).values_list("country", "full_name", "affiliation", "city")
    return organisations, individuals


def publishable_count(export: SignatoryExport) -> int:
    organisations, individuals = publishable_rows(export)
    return organisations.count() + individuals.count()


def list_content(export: SignatoryExport) -> ListContent:
    """Read what the PDF prints. Rows stream from the database in chunks; the grouped list is
    kept in memory, as the layout needs it whole (a publication list, not a data dump)."""
    filters = ExportFilters.from_json(export.filters)
    organisations, individuals = publishable_rows(export)
    names = country_names(filters.language)
    with translation.override(filters.language):
        types = dict(Signature.OrganisationType.choices)
        text = statement_text(export.statement, filters.language)

        def details(*parts: str) -> str:
            return ", ".join(p for p in parts if p)

        org_rows = (
            (names.get(c, c), name, details(str(types.get(kind, kind)), city))
            for c, name, kind, city in organisations.iterator(chunk_size=2000)
        )
        person_rows = (
            (names.get(c, c), name, details(affiliation, city))
            for c, name, affiliation, city in individuals.iterator(chunk_size=2000)
        )
        return ListContent(
            language=text.language,
            title=text.text.title,
            demands_intro=text.text.demands_intro,
            demands=list(text.demands),
            organisations=_group(org_rows),
            individuals=_group(person_rows),
            generated_on=formats.date_format(timezone.localdate(), "DATE_FORMAT"),
        )


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    body: ParagraphStyle
    demand: ParagraphStyle
    heading: ParagraphStyle
    country: ParagraphStyle
    entry: ParagraphStyle
    names: ParagraphStyle
    footer_font: str


def styles() -> Styles:
    f = fonts()
    ink = HexColor("#1a1a1a")
    accent = HexColor("#a3120f")
    base = ParagraphStyle("base", fontName=f.regular, fontSize=10, leading=13, textColor=ink)
    return Styles(
        title=ParagraphStyle(
            "title", parent=base, fontName=f.bold, fontSize=18, leading=23, spaceAfter=8 * mm
        ),
        body=ParagraphStyle("body", parent=base, fontSize=11, leading=15, spaceAfter=3 * mm),
        demand=ParagraphStyle(
            "demand",
            parent=base,
            fontName=f.bold,
            fontSize=11,
            leading=15,
            leftIndent=8 * mm,
            bulletIndent=0,
            spaceAfter=2 * mm,
        ),
        heading=ParagraphStyle(
            "heading",
            parent=base,
            fontName=f.bold,
            fontSize=14,
            leading=18,
            textColor=accent,
            spaceBefore=8 * mm,
            spaceAfter=3 * mm,
            keepWithNext=1,
        ),
        country=ParagraphStyle(
            "country",
            parent=base,
            fontName=f.bold,
            fontSize=11,
            leading=14,
            spaceBefore=4 * mm,
            spaceAfter=1.5 * mm,
            keepWithNext=1,
        ),
        entry=ParagraphStyle("entry", parent=base, leftIndent=4 * mm, spaceAfter=0.8 * mm),
        names=ParagraphStyle("names", parent=base, spaceAfter=1.5 * mm),
        footer_font=f.regular,
    )


def _counted(flowable: Flowable, rows: int) -> Flowable:
    """Mark a flowable with how many signatories it prints, for the progress bar."""
    flowable.signatory_rows = rows
    return flowable


def story(content: ListContent, s: Styles | None = None) -> list[Flowable]:
    """The list as platypus flowables, in reading order. Texts come from `content` only."""
    s = s or styles()
    flow: list[Flowable] = [Paragraph(escape(content.title), s.title)]
    if content.demands_intro:
        flow.append(Paragraph(escape(content.demands_intro), s.body))
    for number, demand in enumerate(content.demands, 1):
        flow.append(Paragraph(escape(demand), s.demand, bulletText=f"{number}."))
    with translation.override(content.language):
        organisations_heading = _("Organisations (%(count)s)") % {
            "count": content.organisation_count
        }
        individuals_heading = _("Individuals (%(count)s)") % {"count": content.individual_count}
    if content.organisations:
        flow.append(Paragraph(escape(organisations_heading), s.heading))
        for group in content.organisations:
            flow.append(Paragraph(escape(group.country), s.country))
            for name, details in group.entries:
                text = f"<b>{escape(name)}</b>" + (f" — {escape(details)}" if details else "")
                flow.append(_counted(Paragraph(text, s.entry), 1))
    if content.individuals:
        flow.append(Paragraph(escape(individuals_heading), s.heading))
        for group in content.individuals:
            flow.append(Paragraph(escape(group.country), s.country))
            entries = group.entries
            for start in range(0, len(entries), NAMES_PER_PARAGRAPH):
                batch = entries[start : start + NAMES_PER_PARAGRAPH]
                text = " · ".join(
                    f"<b>{escape(name)}</b>" + (f" ({escape(details)})" if details else "")
                    for name, details in batch
                )
                flow.append(_counted(Paragraph(text, s.names), len(batch)))
    if not content.organisations and not content.individuals:
        with translation.override(content.language):
            flow.append(Paragraph(escape(_("No signatories match this list yet.")), s.body))
    return flow


def story_text(flowables: Iterable[Flowable]) -> list[str]:
    """The plain text of each paragraph in a story (bullets included), for checking."""
    texts = []
    for flowable in flowables:
        if isinstance(flowable, Paragraph):
            bullet = flowable.bulletText
            text = flowable.getPlainText()
            texts.append(f"{bullet} {text}" if bullet else text)
    return texts


class _ListDocument(BaseDocTemplate):
    def __init__(self, path, *, content: ListContent, on_progress, footer_font, **kwargs):
        super().__init__(str(path), **kwargs)
        self._content = content
        self._on_progress = on_progress
        self._footer_font = footer_font
        self._rows = 0
        self._reported = 0
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._footer)])

    def _footer(self, canvas, doc):
        canvas.saveState()
        canvas.setFont(self._footer_font, 8)
        canvas.setFillColor(HexColor("#555555"))
        title = self._content.title
        if len(title) > 90:
            title = title[:89] + "…"
        canvas.drawString(self.leftMargin, 12 * mm, title)
        canvas.drawRightString(self.leftMargin + self.width, 12 * mm, str(doc.page))
        canvas.restoreState()

    def afterFlowable(self, flowable):
        self._rows += getattr(flowable, "signatory_rows", 0)
        if self._rows - self._reported >= PROGRESS_EVERY:
            self._reported = self._rows
            self._on_progress(self._rows)


def write_pdf(path, export: SignatoryExport, *, on_progress: Callable[[int], None]) -> int:
    """Typeset the export's publishable list into `path`. Returns the number of signatories
    printed. Progress is reported while pages are laid out, which is where the time goes."""
    content = list_content(export)
    s = styles()
    flowables = story(content, s)
    document = _ListDocument(
        path,
        content=content,
        on_progress=on_progress,
        footer_font=s.footer_font,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=22 * mm,
        title=content.title,
        subject=content.title,
        creator="Solidarity petition",
        lang=content.language,
    )
    document.build(flowables)
    total = content.organisation_count + content.individual_count
    on_progress(total)
    return total
