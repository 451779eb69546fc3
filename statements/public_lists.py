"""The public signatory lists, `signatories.csv` and `signatories.json` under a statement.

They publish what the public page shows and nothing more: approved organisations and the
individuals who chose to be listed — names, organisation type, affiliation, city, country,
website — never an email address. Responses are cached (in the cache and by HTTP) and
streamed from the database in chunks when the cache is cold, so a long list neither holds a
web worker's memory nor hits the database on every request.
"""

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from ops.routers import reads_from_replica
from statements import selectors
from statements.models import Statement
from statements.spreadsheet import country_names, neutralise

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300
# Lists larger than this are streamed every time rather than kept in the cache.
CACHE_MAX_BYTES = 8 * 1024 * 1024
ROWS_PER_CHUNK = 1000
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


def _cache_key(statement: Statement, kind: str, language: str) -> str:
    return f"exports:public:v1:{statement.pk}:{kind}:{language}"


def _organisations(statement: Statement) -> Iterator[tuple]:
    rows = selectors.public_organisations(statement).values_list(
        "organisation_name", "organisation_type", "city", "country", "website"
    )
    return rows.iterator(chunk_size=2000)


def _individuals(statement: Statement) -> Iterator[tuple]:
    rows = selectors.public_individuals(statement).values_list(
        "full_name", "affiliation", "city", "country"
    )
    return rows.iterator(chunk_size=2000)


def _csv_chunks(statement: Statement, language: str) -> Iterator[str]:
    names = country_names(language)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)

    def rows() -> Iterator[tuple]:
        for name, kind, city, country, website in _organisations(statement):
            yield ("organisation", name, kind, "", city, country, names.get(country), website)
        for name, affiliation, city, country in _individuals(statement):
            yield ("individual", name, "", affiliation, city, country, names.get(country), "")

    for number, row in enumerate(rows(), 1):
        # Spreadsheet programs open this file too: no cell may start a formula.
        writer.writerow([neutralise(value) if value else value for value in row])
        if number % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_chunks(statement: Statement, language: str) -> Iterator[str]:
    names = country_names(language)
    yield f'{{"statement": {json.dumps(statement.slug)},\n"organisations": ['
    for number, (name, kind, city, country, website) in enumerate(_organisations(statement)):
        record = {
            "name": name,
            "organisation_type": kind,
            "city": city,
            "country": country,
            "country_name": names.get(country),
            "website": website,
        }
        yield ("\n" if number == 0 else ",\n") + json.dumps(record, ensure_ascii=False)
    yield '\n],\n"individuals": ['
    for number, (name, affiliation, city, country) in enumerate(_individuals(statement)):
        record = {
            "name": name,
            "affiliation": affiliation,
            "city": city,
            "country": country,
            "country_name": names.get(country),
        }
        yield ("\n" if number == 0 else ",\n") + json.dumps(record, ensure_ascii=False)
    yield "\n]}\n"


def _stream_and_cache(chunks: Iterable[str], key: str) -> Iterator[bytes]:
    """Pass the encoded chunks on, and keep a copy for the cache while the list is small."""
    kept: list[bytes] | None = []
    size = 0
    for chunk in chunks:
        data = chunk.encode()
        if kept is not None:
            size += len(data)
            if size <= CACHE_MAX_BYTES:
                kept.append(data)
            else:
                kept = None
        yield data
    if kept is not None:
        try:
            cache.set(key, b"".join(kept), CACHE_SECONDS)
        except Exception:
            logger.warning("cache unavailable; public signatory list not cached")


def _respond(request, statement, kind: str, content_type: str, chunks) -> HttpResponse:
    language = get_language()
    key = _cache_key(statement, kind, language)
    try:
        cached = cache.get(key)
    except Exception:
        logger.warning("cache unavailable; public signatory list built from the database")
        cached = None
    if cached is not None:
        response = HttpResponse(cached, content_type=content_type)
    else:
        response = StreamingHttpResponse(
            _stream_and_cache(chunks(statement, language), key), content_type=content_type
        )
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response["Content-Disposition"] = f'inline; filename="{statement.slug}-signatories.{kind}"'
    # Country names follow the visitor's language.
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response


@require_safe
@reads_from_replica
def signatories_csv(request: HttpRequest, slug: str) -> HttpResponse:
    statement = selectors.statement_get(slug)
    return _respond(request, statement, "csv", "text/csv; charset=utf-8", _csv_chunks)


@require_safe
@reads_from_replica
def signatories_json(request: HttpRequest, slug: str) -> HttpResponse:
    statement = selectors.statement_get(slug)
    return _respond(request, statement, "json", "application/json", _json_chunks)
