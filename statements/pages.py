"""The statement page, rendered once and completed per request.

When a statement goes viral, nearly every request is an anonymous visitor loading the same
page. Rendering it costs tens of milliseconds (the sign form alone lists every country in the
visitor's language); serving it must cost far less. So the page is rendered once per
statement, address, language and form kind, with markers where the per-visitor parts go, and
kept for PAGE_CACHE_SECONDS in this process. Each request then fills in:

- its own CSRF token (a fresh masked token for this visitor's secret: no two visitors ever
  share a secret, and the cookie is set by the CSRF middleware as usual);
- the address the language switcher returns to (the request's own path and query);
- the current counts (a small fragment per language and pair of numbers).

The cached page is rendered without the request, so nothing of one visitor can end up in the
page another one receives. A sign form with errors is rendered the same way but not kept.
"""

import os
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from statements import counters, goals, selectors
from statements.forms import SIGN_FORMS
from statements.models import Signature, Statement

Kind = Signature.Kind

# Markers for the per-request parts: random per process, letters and digits only, so that
# escaping leaves them alone and no text can contain them by chance.
CSRF = "csrf" + secrets.token_hex(12)
NEXT = "next" + secrets.token_hex(12)
COUNTS = "counts" + secrets.token_hex(12)
_SLOTS = (CSRF, NEXT, COUNTS)


class PageTemplate:
    """A rendered page cut at its markers: bytes to send as they are, and slot names."""

    __slots__ = ("parts",)

    def __init__(self, html: str):
        parts: list[bytes | str] = []
        rest = html
        while True:
            found = [(rest.find(slot), slot) for slot in _SLOTS if slot in rest]
            if not found:
                parts.append(rest.encode())
                break
            at, slot = min(found)
            parts += [rest[:at].encode(), slot]
            rest = rest[at + len(slot) :]
        self.parts = tuple(parts)

    def fill(self, values: dict[str, bytes]) -> bytes:
        return b"".join(values[part] if type(part) is str else part for part in self.parts)


def _kinds() -> list[tuple[str, str]]:
    return [
        (Kind.INDIVIDUAL, _("I sign as an individual")),
        (Kind.ORGANISATION, _("I sign on behalf of an organisation")),
    ]


def _unbound_fields(language: str, kind: str) -> str:
    """The empty sign form's fields: they depend on nothing but the language."""

    def render() -> str:
        form = SIGN_FORMS[kind](prefix=kind)
        return mark_safe(  # noqa: S308 - rendered by Django's form templates, escaped there
            render_to_string("statements/_sign_fields.html", {"form": form})
        )

    return _fields.get((language, kind)) or _fields.setdefault((language, kind), render())


_fields: dict[tuple[str, str], str] = {}
selectors.forget_with_reads(_fields.clear)


def _template(template_name: str, context: dict, language: str) -> PageTemplate:
    """The page without the request: nothing of a visitor can get into it."""
    with translation.override(language):
        context = {**context, "csrf_token": CSRF, "next_path": NEXT}
        return PageTemplate(render_to_string(template_name, context))


def _render(statement: Statement, path: str, language: str, kind: str, form, notice: str):
    with translation.override(language):
        context = {
            "st": selectors.statement_text_cached(statement, language),
            "form": form or SIGN_FORMS[kind](prefix=kind),
            "fields_html": None if form is not None else _unbound_fields(language, kind),
            "kind": kind,
            "kinds": _kinds(),
            "latest": selectors.latest_endorsements(statement),
            "notice": notice,
            "page_url": settings.SITE_URL + path,
            "counts_html": mark_safe(COUNTS),  # noqa: S308 - a marker, replaced below
        }
    return _template("statements/detail.html", context, language)


def statement_template(
    statement: Statement, *, path: str, language: str, kind: str, form=None, notice: str = ""
) -> PageTemplate:
    """The statement page with its markers; kept unless it shows a filled-in form."""
    if form is not None or notice:
        return _render(statement, path, language, kind, form, notice)
    key = ("page", statement.pk, statement.updated_at, path, language, kind)
    return selectors.remembered(key, lambda: _render(statement, path, language, kind, None, notice))


def counts_fragment(language: str, counts: dict[str, int], goal: int | None = None) -> bytes:
    key = (language, *(counts[name] for name in counters.NAMES), goal)
    fragment = _fragments.get(key)
    if fragment is None:
        context = {"counts": counts, "progress": goals.progress(counts, goal)}
        with translation.override(language):
            fragment = render_to_string("statements/_counts.html", context).encode()
        if len(_fragments) > 1000:
            _fragments.clear()
        _fragments[key] = fragment
    return fragment


_fragments: dict[tuple, bytes] = {}
selectors.forget_with_reads(_fragments.clear)


_INDEX = {char: i for i, char in enumerate(CSRF_ALLOWED_CHARS)}


def _random_chars(count: int) -> str:
    """`count` characters drawn uniformly from CSRF_ALLOWED_CHARS, from one read of the
    system's random source (bytes past the largest multiple of the alphabet are dropped)."""
    size = len(CSRF_ALLOWED_CHARS)
    limit = 256 - 256 % size
    chars: list[str] = []
    while len(chars) < count:
        chars += [CSRF_ALLOWED_CHARS[b % size] for b in os.urandom(count + 8) if b < limit]
    return "".join(chars[:count])


def csrf_token(request: HttpRequest) -> str:
    """django.middleware.csrf.get_token(), the same token by the same rules, drawing its random
    characters in one system call instead of one per character: for a new visitor that is 64
    calls, which cost more than the rest of the page. The CSRF middleware then sets the
    cookie as it does for get_token()."""
    if settings.CSRF_USE_SESSIONS:
        return get_token(request)
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = _random_chars(CSRF_SECRET_LENGTH)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _random_chars(CSRF_SECRET_LENGTH)
    size = len(CSRF_ALLOWED_CHARS)
    cipher = "".join(
        CSRF_ALLOWED_CHARS[(_INDEX[s] + _INDEX[m]) % size]
        for s, m in zip(secret, mask, strict=True)
    )
    return mask + cipher


def _fill(request: HttpRequest, template: PageTemplate, **values: bytes) -> bytes:
    return template.fill(
        {
            CSRF: csrf_token(request).encode(),
            NEXT: escape(request.get_full_path()).encode(),
            **values,
        }
    )


def page_response(
    request: HttpRequest, template_name: str, context: dict, *, key: tuple, status: int = 200
) -> HttpResponse:
    """A page that every visitor sees the same but for its CSRF token and the address its
    language switcher returns to, kept per `key` (which must name everything the context
    holds) and language for PAGE_CACHE_SECONDS."""
    language = translation.get_language()
    template = selectors.remembered(
        ("page", template_name, language, *key),
        lambda: _template(template_name, context, language),
    )
    return HttpResponse(_fill(request, template), status=status)


def personal_response(
    request: HttpRequest, template_name: str, context: dict, *, status: int = 200
) -> HttpResponse:
    """A page that shows one signer their own details: rendered for this request only (never
    kept), still without the request in the template, like every page of these views."""
    template = _template(template_name, context, translation.get_language())
    return HttpResponse(_fill(request, template), status=status)


def statement_response(
    request: HttpRequest,
    statement: Statement,
    *,
    kind: str,
    form=None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    language = translation.get_language()
    template = statement_template(
        statement, path=request.path, language=language, kind=kind, form=form, notice=notice
    )
    counts = counts_fragment(language, counters.get_counts(statement.pk), statement.signature_goal)
    return HttpResponse(_fill(request, template, **{COUNTS: counts}), status=status)
