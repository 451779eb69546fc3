"""Cross-site request forgery protection for the anonymous forms, without a token.

The sign, confirm and withdraw forms are on pages that are the same bytes for everyone, so they
cannot carry a per-visitor CSRF token. Browsers say where a request comes from instead, and
that is what this checks (the Fetch Metadata approach):

- `Sec-Fetch-Site` (every current browser sends it): `same-origin`, or `none` (the visitor
  typed or bookmarked the address), is accepted; `same-site`, `cross-site` or anything else
  is refused;
- without it (older browsers), `Origin`: accepted if it is the site's own (`SITE_URL`) or one
  of `CSRF_TRUSTED_ORIGINS`, refused otherwise (`null` included);
- with neither, as curl or a very old browser sends, accepted: a forged request needs a
  victim's browser, and every browser that could be made to send one sends one of the two.

Nothing on these forms rides on a login: a signature counts only once the emailed link is
followed (double opt-in), and the confirm and withdraw forms need the token in their link.
The staff area, allauth and the admin keep Django's token-based CSRF protection.
"""

import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
ACCEPTED_SITES = frozenset({"same-origin", "none"})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_trusted(origin: str) -> bool:
    """The site's own origin and CSRF_TRUSTED_ORIGINS, with Django's `https://*.example.org`
    form for subdomains."""
    origin = origin.lower()
    if origin == _origin(settings.SITE_URL):
        return True
    scheme, _, host = origin.partition("://")
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        trusted = trusted.lower().rstrip("/")
        if origin == trusted:
            return True
        trusted_scheme, _, trusted_host = trusted.partition("://")
        wildcard = trusted_host.startswith("*.") and scheme == trusted_scheme
        if wildcard and host.endswith(trusted_host[1:]):
            return True
    return False


def cross_site_reason(request: HttpRequest) -> str | None:
    """Why this request must be refused as cross-site, or None if it may go on."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return None if site in ACCEPTED_SITES else "Sec-Fetch-Site"
    origin = request.headers.get("Origin")
    if origin is None or origin_trusted(origin):
        return None
    return "Origin"


def refused(request: HttpRequest) -> HttpResponse:
    response = render(request, "statements/cross_site.html", status=403)
    add_never_cache_headers(response)
    return response


def refuse_cross_site(view: Callable) -> Callable:
    """Refuse unsafe requests that a browser says come from another site, before the view
    runs, so nothing is written; in place of Django's token check (the view is csrf_exempt)."""

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            reason = cross_site_reason(request)
            if reason is not None:
                # Not the path: confirmation and withdrawal links hold tokens.
                logger.warning("refused a cross-site %s (%s)", request.method, reason)
                return refused(request)
        return view(request, *args, **kwargs)

    return csrf_exempt(checked)
