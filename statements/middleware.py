"""A database outage shows a friendly 503 page, never a server error.

Defends against: a PostgreSQL restart or failover turning every request into a 500 and a
stack of error reports; the page asks people to retry, and nothing half-written is saved
because every write runs in one transaction.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, HttpResponseServerError
from django.template.loader import render_to_string
from django.utils import translation
from django.views.defaults import server_error as default_server_error

from statements import languages

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)


def unavailable(request) -> HttpResponse:
    body = render_to_string("503.html", request=request)
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "30"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_DOWN):
            return None
        logger.warning("database unavailable: %s", type(exception).__name__)
        return unavailable(request)


def server_error(request, template_name: str = "500.html") -> HttpResponse:
    """handler500: errors raised outside views (in middleware) by a database outage are 503s
    too; anything else is the ordinary 500 page."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        logger.warning("database unavailable: %s", type(sys.exc_info()[1]).__name__)
        try:
            return unavailable(request)
        except Exception:
            return HttpResponse("Service unavailable", status=503, content_type="text/plain")
    try:
        return default_server_error(request, template_name)
    except Exception:
        return HttpResponseServerError("Server error", content_type="text/plain")


class SiteLanguageMiddleware:
    """After Django's LocaleMiddleware: narrow its choice to the languages the site offers.

    LANGUAGES lists every language Django knows, so that an organiser's new language can be
    activated; LocaleMiddleware would then pick, say, German for a German browser although no
    text exists in German. So:

    - an address under a language (`/ru/…`) is in that language, whatever the visitor's
      cookie or browser prefers (a shared link opens in its language for everyone), and an
      address under a language the site does not offer is not found;
    - anywhere else (`/`, the addresses of old links, the staff pages) the language is
      chosen again, by the same rules but among the offered languages only
      (statements/languages.py); LocaleMiddleware redirects the public addresses without a
      language to the active language, which is this choice.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from_path = translation.get_language_from_path(request.path_info)
        if from_path is not None:
            if from_path not in languages.site_languages():
                raise Http404("This language is not offered")
            language = from_path
        else:
            language = languages.choose(request)
        if language != translation.get_language():
            translation.activate(language)
        request.LANGUAGE_CODE = language
        return self.get_response(request)
