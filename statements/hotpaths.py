"""The public statement pages, answered through a short middleware stack.

A statement that goes viral brings its public pages by the hundred thousand: the statement
page, loaded by each new visitor, counts.json, polled by every open page, and the sign and
confirmation forms. None of these views reads the session, the user or any message, yet
through the full stack much of such a request's time goes to middleware that serves those.
This middleware, first in MIDDLEWARE, answers these views itself with only what they need,
and gives the response the full stack would give:

- the HTTPS redirect, host validation and the "www." redirect: Django's SecurityMiddleware
  and CommonMiddleware, as they are (either one answering sends the request the full way);
- the language (LocaleMiddleware's choice: cookie, then Accept-Language) with its
  Content-Language and Vary headers;
- CSRF protection and the CSRF cookie: CsrfViewMiddleware's own checks, as they are (a
  refused POST goes the full way, and is refused there);
- the headers that depend on nothing but the settings and HTTPS (security headers, CSP,
  X-Frame-Options): Django's own middleware computes them once and they are copied after.

Visitors with a session or a pending message go the full way (logged-in staff, say), as does
any other view or method. An error in a view becomes Django's usual error response (the
handler500 turns a database outage into the 503 page). If MIDDLEWARE holds a middleware this
module does not know, everything goes the full way, because the short path could not know
what that middleware would have done.
"""

import logging

from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import patch_vary_headers

from statements import languages

logger = logging.getLogger(__name__)

# View name: the methods answered here.
ROUTES = {
    "statements:home": {"GET"},
    "statements:detail": {"GET"},
    "statements:counts_json": {"GET"},
    "statements:sign": {"POST"},
    "statements:thanks": {"GET"},
    "statements:confirm": {"GET", "POST"},
    "statements:withdraw": {"GET", "POST"},
}
# Numbers for everyone: no translated text and no form, so no language and no CSRF cookie (nor
# the Vary: Accept-Language that would split a cache's copy by language). Answered here even
# for visitors with a session (logged-in staff): nothing of the session is used.
COUNTS = "statements:counts_json"

# What becomes of each middleware of the site on the short path.
KNOWN = {
    "ops.middleware.OperationsMiddleware": "runs before this one, around it",
    "statements.bodies.RequestBodyLimitMiddleware": "runs before this one",
    f"{__name__}.PublicReadsMiddleware": "this one",
    "django.middleware.security.SecurityMiddleware": "run, and headers copied",
    "django.middleware.csp.ContentSecurityPolicyMiddleware": "header copied (no nonce used)",
    "django.middleware.locale.LocaleMiddleware": "language chosen as it does",
    "statements.middleware.SiteLanguageMiddleware": "language chosen as it does",
    "django.middleware.common.CommonMiddleware": "run",
    "django.middleware.csrf.CsrfViewMiddleware": "run (not for counts.json)",
    "django.middleware.clickjacking.XFrameOptionsMiddleware": "header copied",
    "whitenoise.middleware.WhiteNoiseMiddleware": "not needed: serves /static/ only",
    "django.contrib.sessions.middleware.SessionMiddleware": "not needed: no session is read",
    "django.contrib.auth.middleware.AuthenticationMiddleware": "not needed: no user is read",
    "django.contrib.messages.middleware.MessageMiddleware": "not needed: no message is shown",
    "allauth.account.middleware.AccountMiddleware": "not needed: login flows, in the session",
    "statements.middleware.DatabaseUnavailableMiddleware": "handler500 does the same",
}
_MESSAGES_COOKIE = "messages"


def _unused(request):  # pragma: no cover - only the middleware's hooks are called
    raise AssertionError("a middleware on the short path called the rest of the chain")


class PublicReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        unknown = [path for path in settings.MIDDLEWARE if path not in KNOWN]
        if unknown:
            logger.warning("the short path for public reads is off: %s", ", ".join(unknown))
        # With CSRF_USE_SESSIONS the CSRF secret lives in the session.
        self.enabled = not unknown and not settings.CSRF_USE_SESSIONS
        self.security = SecurityMiddleware(_unused)
        self.common = CommonMiddleware(_unused)
        self.csrf = CsrfViewMiddleware(_unused)
        self.copied = (
            ContentSecurityPolicyMiddleware(_unused),
            XFrameOptionsMiddleware(_unused),
            self.security,
        )
        self.headers: dict[bool, tuple[tuple[str, str], ...]] = {}
        self.routes: dict[str, object] = {}

    def _route(self, path: str):
        """The resolved view for a path, if it is one answered here (memoised per path)."""
        try:
            return self.routes[path]
        except KeyError:
            pass
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        if match is not None and match.view_name not in ROUTES:
            match = None
        if len(self.routes) > 1000:  # any path may be asked for; keep the memo small
            self.routes.clear()
        self.routes[path] = match
        return match

    def _copied_headers(self, request) -> tuple[tuple[str, str], ...]:
        """What the header-only middleware adds to a response, given HTTPS or not."""
        secure = request.is_secure()
        if secure not in self.headers:
            sample = HttpResponse()
            for middleware in self.copied:
                if hasattr(middleware, "process_request"):
                    middleware.process_request(request)
                sample = middleware.process_response(request, sample)
            names = ("Content-Type",)
            self.headers[secure] = tuple((k, v) for k, v in sample.items() if k not in names)
        return self.headers[secure]

    def __call__(self, request):
        if not self.enabled:
            return self.get_response(request)
        match = self._route(request.path_info)
        if match is None or request.method not in ROUTES[match.view_name]:
            return self.get_response(request)
        if match.view_name != COUNTS and (
            settings.SESSION_COOKIE_NAME in request.COOKIES or _MESSAGES_COOKIE in request.COOKIES
        ):
            return self.get_response(request)
        try:
            ready = self._before(request, match)
        except Exception:
            ready = False  # e.g. a disallowed host: the full stack raises it again
        if not ready:
            return self.get_response(request)
        try:
            response = match.func(request, *match.args, **match.kwargs)
        except Exception as exc:
            response = response_for_exception(request, exc)
        return self._after(request, match, response)

    def _before(self, request, match) -> bool:
        """The request side of the short stack; False if a middleware would answer itself."""
        if self.security.process_request(request) or self.common.process_request(request):
            return False  # a redirect
        if match.view_name != COUNTS:
            request.LANGUAGE_CODE = languages.choose(request)
            translation.activate(request.LANGUAGE_CODE)
            self.csrf.process_request(request)
        request.resolver_match = match
        if match.view_name != COUNTS:
            refused = self.csrf.process_view(request, match.func, match.args, match.kwargs)
            if refused is not None:
                return False
        return True

    def _after(self, request, match, response):
        if match.view_name != COUNTS:
            response = self.csrf.process_response(request, response)
            patch_vary_headers(response, ("Accept-Language",))
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        response = self.common.process_response(request, response)
        for name, value in self._copied_headers(request):
            response.headers.setdefault(name, value)
        return response
