"""Load a web process before it takes traffic.

Django loads lazily: the URL configuration (and with it every view module and what they
import, reportlab included) on the first request, each template when first rendered, each
language's translation catalogue when first activated; the database pool and the Redis client
connect on first use. A fresh process's first visitor paid for all of it (a second and more;
where bytecode is not precompiled, the compiling too). gunicorn calls `warm()` in each worker
before it accepts connections (petition/gunicorn.conf.py).

It loads the URL configuration, the project's templates and every language's catalogue, then
passes one GET of the site's root per language through the WSGI application itself, as a
visitor's request would go (following the site's own redirects), so that middleware, views,
the database pool and the caches are ready too. Nothing here may stop a process from starting:
a failure is logged and the process starts cold.
"""

import io
import logging
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

from django.conf import settings
from django.template import engines
from django.template.loader import get_template
from django.urls import get_resolver
from django.utils import translation

from petition.languages import INTERFACE_LANGUAGES

logger = logging.getLogger(__name__)

# Give up on the requests after this long (the database may be unreachable): the gunicorn
# master kills a worker that stays silent for its timeout.
REQUESTS_BUDGET_SECONDS = 10
MAX_REDIRECTS = 3


def warm(application: Callable | None = None) -> dict[str, int]:
    started = time.monotonic()
    done = {
        "urls": _load_urls(),
        "templates": _load_templates(),
        "languages": _load_catalogues(),
        "requests": _request_pages(application) if application is not None else 0,
    }
    logger.info(
        "process warmed in %.2f s: %s",
        time.monotonic() - started,
        ", ".join(f"{count} {part}" for part, count in done.items()),
    )
    return done


def _load_urls() -> int:
    resolver = get_resolver()
    count = len(resolver.url_patterns)  # imports the URL configuration and the views
    # Reversing fills the name → pattern tables, the root's and each namespace's.
    count += len(resolver.reverse_dict)
    for _prefix, namespace in resolver.namespace_dict.values():
        count += len(namespace.reverse_dict)
    return count


def _project_template_dirs() -> list[Path]:
    """Template folders of the project itself (not of installed packages)."""
    root = Path(settings.BASE_DIR).resolve()
    found = []
    for engine in engines.all():
        for folder in engine.template_dirs:
            path = Path(folder).resolve()
            if path.is_relative_to(root) and not any(
                part.startswith(".") for part in path.relative_to(root).parts
            ):
                found.append(path)
    return found


def _load_templates() -> int:
    count = 0
    for folder in _project_template_dirs():
        for path in sorted(folder.rglob("*")):
            if path.suffix not in {".html", ".txt", ".xml"} or not path.is_file():
                continue
            try:
                get_template(path.relative_to(folder).as_posix())
                count += 1
            except Exception:
                logger.warning("warm-up: template %s did not load", path.name, exc_info=True)
    return count


def _languages() -> list[str]:
    """The languages the interface has catalogues for (settings.LANGUAGES lists every language
    Django knows, so that organisers can add statement texts in any of them)."""
    return [code for code in INTERFACE_LANGUAGES if code in dict(settings.LANGUAGES)]


def _load_catalogues() -> int:
    for code in _languages():
        with translation.override(code):
            translation.gettext("Signatures")
    return len(_languages())


def _request_pages(application: Callable) -> int:
    site = urlsplit(settings.SITE_URL)
    deadline = time.monotonic() + REQUESTS_BUDGET_SECONDS
    answered = 0
    # A visitor without a preference, then one per interface language.
    for code in ["", *_languages()]:
        path = "/"
        for _ in range(MAX_REDIRECTS + 1):
            if time.monotonic() > deadline:
                logger.warning("warm-up: requests stopped after %d s", REQUESTS_BUDGET_SECONDS)
                return answered
            status, location = _get(application, site, path, code)
            answered += 1
            if status >= 500:
                logger.warning("warm-up: GET %s answered %d; starting without it", path, status)
                return answered
            target = urlsplit(location or "")
            if not (300 <= status < 400 and target.path and target.netloc in {"", site.netloc}):
                break
            path = target.path
    return answered


def _get(application: Callable, site, path: str, language: str) -> tuple[int, str | None]:
    from ops.middleware import WARMUP

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": site.hostname or "localhost",
        "SERVER_PORT": str(site.port or (443 if site.scheme == "https" else 80)),
        "HTTP_HOST": site.netloc,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": site.scheme or "http",
        "wsgi.input": io.BytesIO(),
        WARMUP: True,
    }
    if language:
        environ["HTTP_ACCEPT_LANGUAGE"] = language
    setup_testing_defaults(environ)
    answer: dict[str, object] = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split(" ", 1)[0])
        answer["location"] = dict(headers).get("Location")
        return lambda data: None

    body = application(environ, start_response)
    try:
        for _chunk in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["location"]
