"""The public read API's open-data views: the hourly history and the OpenAPI document.

Every public read endpoint is the same for every visitor, so it says so to caches (a CDN can
hold it: `public`, `s-maxage`, `stale-while-revalidate`, an ETag answered with 304) and may be
read by pages on other sites (`Access-Control-Allow-Origin: *`; no credentials are involved,
and nothing personal is in these answers).
"""

import json
from functools import cache, wraps
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition, require_safe

from statements import selectors as statement_selectors
from statements.opendata import selectors

OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.json"


def allow_any_origin(view):
    """CORS for a public read endpoint: any site's pages may read it (no credentials)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapped


def public_read(*, max_age: int, shared_max_age: int | None = None, stale: int = 60):
    """Cache headers for a CDN and CORS for any origin, on a read-only endpoint."""

    def decorator(view):
        @allow_any_origin
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code in (200, 304):
                patch_cache_control(
                    response,
                    public=True,
                    max_age=max_age,
                    s_maxage=shared_max_age if shared_max_age is not None else max_age,
                    stale_while_revalidate=stale,
                )
            return response

        return wrapped

    return decorator


def _history_etag(fmt: str):
    def etag(request: HttpRequest, slug: str) -> str:
        statement = statement_selectors.statement_get_cached(slug)
        return selectors.history_file(statement, fmt)[1]

    return etag


def _history(fmt: str, content_type: str):
    @require_safe
    @public_read(max_age=300, stale=600)
    @condition(etag_func=_history_etag(fmt))
    def view(request: HttpRequest, slug: str) -> HttpResponse:
        statement = statement_selectors.statement_get_cached(slug)
        body, _etag = selectors.history_file(statement, fmt)
        response = HttpResponse(body, content_type=content_type)
        if fmt == "csv":
            response["Content-Disposition"] = f'inline; filename="{statement.slug}-history.csv"'
        return response

    return view


history_json = _history("json", "application/json")
history_csv = _history("csv", "text/csv; charset=utf-8")


@cache
def _openapi_body(site_url: str) -> bytes:
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    document["servers"] = [{"url": site_url}]
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


@require_safe
@public_read(max_age=3600, stale=3600)
def openapi(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_openapi_body(settings.SITE_URL), content_type="application/json")
