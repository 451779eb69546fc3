"""Building the public lists' files: signatories.csv and signatories.json, each language.

Run by the Celery task `public_lists_build` (worker side; statements/public_lists.py queues
it). They publish what the public page shows and nothing more: approved organisations and the
individuals who chose to be listed — names, organisation type, affiliation, city, country,
website — never an email address.

The files sit where their address says, under PUBLIC_LISTS_ROOT
(`<language>/s/<slug>/signatories.csv`), beside a gzip copy that nginx sends to clients that
accept it (gzip_static), and replace the old ones atomically. The rows are read once, from a
server-side cursor, and written to every file as they come: memory stays flat, and a list of
a million rows costs one pass over the table for all six files.
"""

import csv
import gzip
import io
import json
import logging
import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from statements import selectors
from statements.models import Statement
from statements.spreadsheet import country_names, neutralise

logger = logging.getLogger(__name__)

FORMATS = ("csv", "json")
CSV_HEADER = (
    "type",
    "name",
    "organisation_type",
    "affiliation",
    "city",
    "country",
    "country_name",
    "website",
)
ROWS_PER_WRITE = 2000
# Fast enough to keep up with a rebuild a minute; most of the gain of level 9 at a third of
# its time.
GZIP_LEVEL = 6


def _pending_key(statement_id: int) -> str:
    return f"public-lists:pending:{statement_id}"


def built_key(statement_id: int) -> str:
    return f"public-lists:built:{statement_id}"


def claim_build(statement_id: int) -> int | None:
    """Hold the statement's next build: the countdown to queue it with (it runs
    PUBLIC_LISTS_SECONDS after the previous build at the earliest), or None when a build is
    already queued. Raises if the cache cannot be reached."""
    interval = settings.PUBLIC_LISTS_SECONDS
    # Held until the queued build starts (it removes it); the timeout only frees it if that
    # build was lost.
    if not cache.add(_pending_key(statement_id), 1, interval * 3):
        return None
    built = cache.get(built_key(statement_id))
    return 0 if built is None else max(0, round(built + interval - time.time()))


def build_started(statement_id: int) -> None:
    """A build begins: changes from now on queue the next one."""
    try:
        cache.set(built_key(statement_id), time.time(), 24 * 3600)
        cache.delete(_pending_key(statement_id))
    except Exception:
        logger.warning("cache unavailable while building the public lists")


def list_path(slug: str, language: str, format: str) -> Path:
    return Path(settings.PUBLIC_LISTS_ROOT) / language / "s" / slug / f"signatories.{format}"


def _languages() -> list[str]:
    """The languages the site offers (not every one Django knows)."""
    from statements.languages import site_languages

    return site_languages()


def _csv_cells(cells: list[str]) -> str:
    """One CSV line's cells, neutralised for spreadsheets, without the line end."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(
        [neutralise(value) if value else value for value in cells]
    )
    return buffer.getvalue()


class _Output:
    """One file being written: a temporary file beside its final name, and its gzip copy."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.plain = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in finish()/discard()
            dir=path.parent, prefix=f".{path.name}.", delete=False
        )
        self.zipped_file = tempfile.NamedTemporaryFile(  # noqa: SIM115
            dir=path.parent, prefix=f".{path.name}.gz.", delete=False
        )
        self.zipped = gzip.GzipFile(
            fileobj=self.zipped_file, mode="wb", compresslevel=GZIP_LEVEL, mtime=0
        )
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)
        if len(self.lines) >= ROWS_PER_WRITE:
            self.flush()

    def flush(self) -> None:
        data = "".join(self.lines).encode()
        self.lines.clear()
        self.plain.write(data)
        self.zipped.write(data)

    def finish(self) -> None:
        self.flush()
        self.zipped.close()
        for handle, final in ((self.plain, self.path), (self.zipped_file, _gz(self.path))):
            handle.close()
            # Readable by the web server, as the files collectstatic writes.
            os.chmod(handle.name, 0o644)
            os.replace(handle.name, final)

    def discard(self) -> None:
        for handle in (self.plain, self.zipped_file):
            handle.close()
            Path(handle.name).unlink(missing_ok=True)


def _gz(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def build(statement: Statement) -> int:
    """Write the statement's public lists in every language; returns the rows listed."""
    started = time.monotonic()
    languages = _languages()
    names = {language: country_names(language) for language in languages}
    # Each row's cells are encoded once; only the country's name differs between languages.
    csv_names = {lang: {code: _csv_cells([n]) for code, n in names[lang].items()} for lang in names}
    json_names = {
        lang: {code: json.dumps(n, ensure_ascii=False) for code, n in names[lang].items()}
        for lang in names
    }
    outputs = {
        (language, format): _Output(list_path(statement.slug, language, format))
        for language in languages
        for format in FORMATS
    }
    rows = 0
    try:
        for (_language, format), output in outputs.items():
            if format == "csv":
                output.write(",".join(CSV_HEADER) + "\n")
            else:
                output.write(f'{{"statement": {json.dumps(statement.slug)},\n"organisations": [')
        organisations = selectors.public_organisations(statement).values_list(
            "organisation_name", "organisation_type", "city", "country", "website"
        )
        for number, (name, kind, city, country, website) in enumerate(
            organisations.iterator(chunk_size=ROWS_PER_WRITE)
        ):
            head = _csv_cells(["organisation", name, kind, "", city, country])
            # (A row of one empty cell would be written as "": the cell stands alone here.)
            tail = _csv_cells([website]) if website else ""
            record = json.dumps(
                {"name": name, "organisation_type": kind, "city": city, "country": country},
                ensure_ascii=False,
            )[:-1]
            website_json = json.dumps(website, ensure_ascii=False)
            separator = "\n" if number == 0 else ",\n"
            for language in languages:
                country_csv = csv_names[language].get(country, "")
                country_json = json_names[language].get(country, "null")
                outputs[language, "csv"].write(f"{head},{country_csv},{tail}\n")
                outputs[language, "json"].write(
                    f'{separator}{record}, "country_name": {country_json}, '
                    f'"website": {website_json}}}'
                )
            rows += 1
        for output in _json_outputs(outputs):
            output.write('\n],\n"individuals": [')
        individuals = selectors.public_individuals(statement).values_list(
            "full_name", "affiliation", "city", "country"
        )
        for number, (name, affiliation, city, country) in enumerate(
            individuals.iterator(chunk_size=ROWS_PER_WRITE)
        ):
            head = _csv_cells(["individual", name, "", affiliation, city, country])
            record = json.dumps(
                {"name": name, "affiliation": affiliation, "city": city, "country": country},
                ensure_ascii=False,
            )[:-1]
            separator = "\n" if number == 0 else ",\n"
            for language in languages:
                country_csv = csv_names[language].get(country, "")
                country_json = json_names[language].get(country, "null")
                outputs[language, "csv"].write(f"{head},{country_csv},\n")
                outputs[language, "json"].write(
                    f'{separator}{record}, "country_name": {country_json}}}'
                )
            rows += 1
        for output in _json_outputs(outputs):
            output.write("\n]}\n")
        for output in outputs.values():
            output.finish()
    except BaseException:
        for output in outputs.values():
            output.discard()
        raise
    logger.info(
        "public lists of statement %d built: %d rows in %.1f s",
        statement.pk,
        rows,
        time.monotonic() - started,
    )
    return rows


def _json_outputs(outputs: dict) -> list[_Output]:
    return [output for (_language, format), output in outputs.items() if format == "json"]


def missing(statement: Statement) -> bool:
    return any(
        not list_path(statement.slug, language, format).exists()
        for language in _languages()
        for format in FORMATS
    )


def age_seconds(statement: Statement) -> float | None:
    """How long ago the oldest of the statement's list files was written; None if one is
    missing."""
    try:
        oldest = min(
            list_path(statement.slug, language, format).stat().st_mtime
            for language in _languages()
            for format in FORMATS
        )
    except FileNotFoundError:
        return None
    return time.time() - oldest
