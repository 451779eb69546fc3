"""Request logs that name the route, not the credential in the path.

The links in emails carry credentials in their paths: confirmation and withdrawal tokens, staff
invitation tokens, and allauth's password-reset and email-verification keys. Whoever reads an
access log could otherwise confirm, withdraw, join the staff or set a staff password. So every
request path that reaches a log is rewritten first: a path that resolves to a view keeps its
shape with each credential in it replaced by its name (`/confirm/<token>/`); a path that does
not resolve loses any segment after one of the prefixes such links use.

Used by gunicorn's access log (RouteLogger, `logger_class` in petition/gunicorn.conf.py) and by
Django's request loggers (RouteFilter in LOGGING). Free of Django imports at module level:
gunicorn loads it before the site.
"""

import logging
import re

from gunicorn.glogging import Logger

# URL keyword arguments that are credentials: ours (token) and allauth's (key, uidb36).
SECRET_KWARGS = ("token", "key", "uidb36")
# For paths that do not resolve: whatever follows these prefixes is taken for a credential.
_FALLBACK = re.compile(r"(/(?:confirm|withdraw|join|key|confirm-email)/)[^/?#\s]+")
_PATH = re.compile(r"/[^\s?#\"]*")


def route(path: str) -> str:
    """The path with every credential replaced by its name."""
    if not path or not path.startswith("/"):
        return _FALLBACK.sub(r"\1<redacted>", path or "")
    try:
        from django.urls import Resolver404, resolve
        from django.utils import translation

        # Public pages live under their language; resolve them in it.
        language = translation.get_language_from_path(path)
        with translation.override(language or translation.get_language()):
            match = resolve(path)
    except Resolver404:
        return _FALLBACK.sub(r"\1<redacted>", path)
    except Exception:  # the site is not loaded (gunicorn's master): be safe anyway
        return _FALLBACK.sub(r"\1<redacted>", path)
    for name in SECRET_KWARGS:
        value = match.kwargs.get(name)
        if value:
            path = path.replace(str(value), f"<{name}>")
    return path


def redact(text: str) -> str:
    """Every path in a line of text (a request line, a Referer) rewritten by `route`."""
    if not isinstance(text, str) or "/" not in text:
        return text
    return _PATH.sub(lambda m: route(m.group(0)), text)


# The atoms of gunicorn's access log that hold a path: the path, the request line and the
# Referer (the page a visitor came from). The query string is dropped: it may hold anything.
_PATH_ATOMS = ("U", "f", "{referer}i")


class RouteLogger(Logger):
    """gunicorn's logger, with the path atoms of the access log rewritten by `route`."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _PATH_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        method, _, rest = atoms.get("r", "").partition(" ")
        target, _, protocol = rest.rpartition(" ")
        if target:  # the request line without its query string, which may hold anything
            atoms["r"] = f"{method} {route(target.split('?', 1)[0])} {protocol}"
        atoms["q"] = "-"
        return atoms


class RouteFilter(logging.Filter):
    """For Django's request loggers ("Not Found: /confirm/…/"): paths in the arguments of a
    record are rewritten by `route`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True
