"""The printable signatory list: a tagged, accessible PDF for publication, typeset by Typst.

It holds what may be published and nothing else: the statement's title, its link and demands
in the chosen language, when the list was made and how many it names, the approved
organisations grouped by country, and the individuals who chose to be listed, grouped by
country too. Never an email address.

Why Typst (the `typst` package, which carries the compiler) rather than reportlab: the PDF
must be tagged — a structure tree of headings, lists and paragraphs in reading order, the
document's language and title, page furniture marked as such — so that screen readers can
read it. reportlab's open-source toolkit writes untagged PDFs and has no API for marked
content or a structure tree. Typst tags every PDF it writes, checks the PDF/UA-1 rules when
asked to (we ask), lays out thousands of entries in about a second, and needs no system
library. Its fonts are DejaVu Sans where the system has it (the Debian package
fonts-dejavu-core, installed by the Dockerfile and .ci/run) and otherwise Libertinus Serif,
which the compiler carries; both cover Latin, Cyrillic and Greek.

Texts reach the template as JSON data (`sys.inputs`), never as markup, so a name such as
`*bold*`, `#let` or `<b>` prints as written.
"""

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import typst
from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from exports.cells import code_names
from exports.models import SignatoryExport
from exports.selectors import ExportFilters, export_queryset
from statements.models import Signature
from statements.selectors import statement_text

logger = logging.getLogger(__name__)

TEMPLATE = Path(__file__).with_name("signatories.typ")
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
)
# Tried in order for each character; the last one is built into the compiler.
FONTS = ("DejaVu Sans", "Libertinus Serif")
# Names of individuals run on in paragraphs of this many, as printed lists usually do.
NAMES_PER_PARAGRAPH = 40
# The compiler lays the whole list out in memory: 10,000 entries take about a second and
# 200 MB, 100,000 about 13 s and 1 GB. A printed list longer than this (some thousand
# pages) is refused with a word to use CSV or XLSX, rather than taking a worker's memory.
MAX_ENTRIES = 50_000
PROGRESS_EVERY = 2000
AUTHOR = "Solidarity petition"


@cache
def font_paths() -> tuple[str, ...]:
    """Folders that hold DejaVu Sans. Without one the list is set in the compiler's own
    Libertinus Serif, which covers the same scripts; the log says so."""
    found = tuple(str(d) for d in FONT_DIRS if (d / "DejaVuSans.ttf").is_file())
    if not found:
        logger.warning(
            "DejaVu Sans not found (install fonts-dejavu-core): PDF exports use Libertinus Serif"
        )
    return found


@dataclass
class Entry:
    name: str
    details: str


@dataclass
class CountryGroup:
    country: str
    # Sorted by name; details are the type, affiliation and city.
    entries: list[Entry] = field(default_factory=list)


@dataclass
class ListContent:
    """Everything the PDF prints, already in the list's language."""

    language: str
    title: str
    link: str
    demands_intro: str
    demands: list[str]
    organisations: list[CountryGroup]
    individuals: list[CountryGroup]
    as_of: str

    @property
    def organisation_count(self) -> int:
        return sum(len(g.entries) for g in self.organisations)

    @property
    def individual_count(self) -> int:
        return sum(len(g.entries) for g in self.individuals)


def _group(rows: Iterable[tuple[str, str, str]]) -> list[CountryGroup]:
    """(country name, name, details) rows → groups sorted by country name, then by name."""
    groups: dict[str, list[Entry]] = {}
    for country, name, details in rows:
        groups.setdefault(country, []).append(Entry(name, details))
    return [
        CountryGroup(country, sorted(entries, key=lambda e: (e.name.casefold(), e.name, e.details)))
        for country, entries in sorted(groups.items(), key=lambda g: (g[0].casefold(), g[0]))
    ]


def publishable_rows(export: SignatoryExport) -> tuple:
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


class TooLongToPrint(Exception):
    """More than MAX_ENTRIES signatories to print."""


def _counted(rows: Iterator, on_progress: Callable[[int], None], start: int = 0) -> Iterator:
    done = start
    for row in rows:
        done += 1
        if done % PROGRESS_EVERY == 0:
            on_progress(done)
        yield row


def statement_link(export: SignatoryExport, language: str) -> str:
    """The statement's public page, in the list's language where the site has one."""
    with translation.override(language):
        return settings.SITE_URL + reverse(
            "statements:detail", kwargs={"slug": export.statement.slug}
        )


def list_content(
    export: SignatoryExport, *, on_progress: Callable[[int], None] = lambda n: None, now=None
) -> ListContent:
    """Read what the PDF prints. Rows stream from the database in chunks; the grouped list is
    kept in memory, as the layout needs it whole (a publication list, not a data dump)."""
    filters = ExportFilters.from_json(export.filters)
    organisations, individuals = publishable_rows(export)
    names = code_names(filters.language)
    countries, types = names.country, names.organisation_type
    now = now or timezone.now()

    def details(*parts: str) -> str:
        return ", ".join(p for p in parts if p)

    org_rows = [
        (countries.get(c, c), name, details(types.get(kind, kind), city))
        for c, name, kind, city in _counted(organisations.iterator(chunk_size=2000), on_progress)
    ]
    person_rows = (
        (countries.get(c, c), name, details(affiliation, city))
        for c, name, affiliation, city in _counted(
            individuals.iterator(chunk_size=2000), on_progress, start=len(org_rows)
        )
    )
    with translation.override(filters.language):
        text = statement_text(export.statement, filters.language)
        as_of = _("List as of %(date)s, %(time)s UTC") % {
            "date": formats.date_format(now, "DATE_FORMAT"),
            "time": formats.time_format(now, "H:i"),
        }
    return ListContent(
        language=text.language,
        title=text.text.title,
        link=statement_link(export, text.language),
        demands_intro=text.text.demands_intro,
        demands=[demand.text for demand in text.demands],
        organisations=_group(org_rows),
        individuals=_group(person_rows),
        as_of=as_of,
    )


def document_data(content: ListContent) -> dict:
    """The JSON the template reads: every text already translated."""
    with translation.override(content.language):
        organisations, individuals = content.organisation_count, content.individual_count
        totals = ngettext("%(count)s organisation", "%(count)s organisations", organisations) % {
            "count": organisations
        }
        totals += " · " + ngettext("%(count)s individual", "%(count)s individuals", individuals) % {
            "count": individuals
        }
        return {
            "language": content.language,
            "title": content.title,
            "author": AUTHOR,
            "fonts": list(FONTS),
            "as_of": content.as_of,
            "totals": totals,
            "link_label": _("The statement:"),
            "link": content.link,
            "demands_intro": content.demands_intro,
            "demands": content.demands,
            "organisations_heading": _("Organisations (%(count)s)") % {"count": organisations},
            "individuals_heading": _("Individuals (%(count)s)") % {"count": individuals},
            "organisations": [asdict(g) for g in content.organisations],
            "individuals": [
                {
                    "country": g.country,
                    "batches": [
                        [asdict(e) for e in g.entries[i : i + NAMES_PER_PARAGRAPH]]
                        for i in range(0, len(g.entries), NAMES_PER_PARAGRAPH)
                    ],
                }
                for g in content.individuals
            ],
            "empty": _("No signatories match this list yet."),
            "footer": f"{content.title} · {content.as_of}",
            "page_label": _("Page {page} of {pages}"),
        }


def render(content: ListContent) -> bytes:
    """The PDF's bytes: tagged, and checked against PDF/UA-1 by the compiler."""
    return typst.compile(
        TEMPLATE.read_bytes(),
        root=str(TEMPLATE.parent),
        font_paths=list(font_paths()),
        ignore_system_fonts=True,
        sys_inputs={"list": json.dumps(document_data(content), ensure_ascii=False)},
        pdf_standards=["ua-1"],
    )


def write_pdf(path, export: SignatoryExport, *, on_progress: Callable[[int], None]) -> int:
    """Typeset the export's publishable list into `path`. Returns the number of signatories
    printed. Progress is reported as the rows are read; typesetting then takes about a second
    per ten thousand entries."""
    if publishable_count(export) > MAX_ENTRIES:
        raise TooLongToPrint
    content = list_content(export, on_progress=on_progress)
    Path(path).write_bytes(render(content))
    total = content.organisation_count + content.individual_count
    on_progress(total)
    return total
