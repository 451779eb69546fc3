"""Public pages say in their headers that they are the same for everyone.

A view marked `@shared` answers GET and HEAD with bytes that depend on nothing but its URL: the
statement page, the thanks and signatories pages, counts.json, the public lists, the privacy
notice. SharedCacheMiddleware, which sits above every middleware that could make a response
personal (sessions, CSRF, language), gives their answers:

- 200: `Cache-Control: public` with max-age, s-maxage, stale-while-revalidate and
  stale-if-error, so browsers and shared caches (nginx's micro-cache, a CDN) keep one copy for
  everyone and serve it through an outage; an ETag (a hash of the body) and a Last-Modified
  (when these bytes were first served, kept in the shared cache so that every process says
  the same), for ConditionalGetMiddleware's 304 answers;
- anything else (a form with errors, a 404, a 429, a 503): `no-store`. An error is never
  shared, or one visitor's bad moment would be everyone's for a while.

A marked view's response that carries a cookie or `Vary: Cookie` (a session read, a CSRF token
asked for) is personal after all: it is logged as the bug it is and never shared.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import (
    add_never_cache_headers,
    has_vary_header,
    patch_cache_control,
    set_response_etag,
)
from django.utils.http import http_date

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD"})
# How long the time a body was first served is remembered: far longer than any shared copy
# lives, so a page that has not changed keeps its Last-Modified.
FIRST_SERVED_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Shared:
    # False for answers that say the same in every language (counts.json, robots.txt, the
    # sitemap): then they do not vary on Accept-Language either, and a cache keeps one copy.
    by_language: bool = True


def shared(view: Callable | None = None, *, by_language: bool = True):
    """Mark a view whose GET and HEAD answers are the same for every visitor of its URL."""

    def mark(view: Callable) -> Callable:
        view.shared_cache = Shared(by_language=by_language)
        return view

    return mark(view) if view is not None else mark


def not_shared(request: HttpRequest) -> None:
    """This answer of a shared view is personal after all (the thanks page that names the
    address a signer typed, statements/thanks.py): the middleware leaves its headers alone,
    and the view says `private, no-store` itself."""
    request.shared_cache = None


class SharedCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(request, "shared_cache", None)
        if policy is None or request.method not in SAFE_METHODS:
            return response
        return self._apply(request, response, policy)

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.shared_cache = getattr(view_func, "shared_cache", None)

    def _apply(self, request, response: HttpResponse, policy: Shared) -> HttpResponse:
        if response.status_code != 200:
            add_never_cache_headers(response)
            return response
        if response.cookies or has_vary_header(response, "Cookie"):
            logger.error(
                "%s answered with a cookie or Vary: Cookie; not shared",
                request.resolver_match.view_name if request.resolver_match else request.path,
            )
            add_never_cache_headers(response)
            return response
        patch_cache_control(
            response,
            public=True,
            max_age=settings.PUBLIC_CACHE_SECONDS,
            s_maxage=settings.PUBLIC_CACHE_SECONDS,
            stale_while_revalidate=settings.PUBLIC_STALE_SECONDS,
            stale_if_error=settings.PUBLIC_STALE_IF_ERROR_SECONDS,
        )
        if not policy.by_language:
            _drop_language(response)
        if not response.streaming and not response.has_header("ETag"):
            set_response_etag(response)
        if response.has_header("ETag") and not response.has_header("Last-Modified"):
            stamp = first_served(response["ETag"])
            if stamp:
                response["Last-Modified"] = stamp
        return response


def _drop_language(response: HttpResponse) -> None:
    """LocaleMiddleware marks every answer outside the language prefixes as varying on
    Accept-Language; these do not."""
    kept = [
        value.strip()
        for value in response.get("Vary", "").split(",")
        if value.strip() and value.strip().lower() != "accept-language"
    ]
    if kept:
        response["Vary"] = ", ".join(kept)
    elif response.has_header("Vary"):
        del response["Vary"]
    if response.has_header("Content-Language"):
        del response["Content-Language"]


def first_served(etag: str) -> str | None:
    """The HTTP date at which a body with this ETag was first served, by any process; None
    if the cache cannot tell (then there is no Last-Modified, and the ETag still serves)."""
    key = "first-served:" + hashlib.md5(etag.encode(), usedforsecurity=False).hexdigest()
    try:
        stamp = cache.get(key)
        if stamp is None:
            now = http_date()
            stamp = now if cache.add(key, now, FIRST_SERVED_SECONDS) else cache.get(key, now)
    except Exception:
        logger.warning("cache unavailable; answering without Last-Modified")
        return None
    return stamp
