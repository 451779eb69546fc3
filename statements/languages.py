"""Which languages the site offers, and which one a visitor gets.

settings.LANGUAGES lists every language Django knows (petition/languages.py), so that a
language an organiser adds in the admin can be activated without a code change. The site
offers a smaller set: the languages of its interface catalogues and every language in which
a statement has a text. Only those appear in the language switcher and the sitemap, and a
visitor's browser preferences are matched against those alone: a German browser on a site
without German gets the statement's original language, not an untranslated page.
"""

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from django.utils.translation import get_language_info

from petition.languages import INTERFACE_LANGUAGES
from statements import selectors
from statements.models import Statement, StatementTranslation


def _known() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def site_languages() -> list[str]:
    """The interface languages, then every other language a statement text is written in,
    in a stable order; read at most PAGE_CACHE_SECONDS ago."""

    def compute() -> list[str]:
        known = _known()
        texts = set(StatementTranslation.objects.values_list("language", flat=True).distinct())
        extra = sorted(code for code in texts if code in known and code not in INTERFACE_LANGUAGES)
        return [code for code in INTERFACE_LANGUAGES if code in known] + extra

    try:
        return selectors.remembered(("site-languages",), compute)
    except DatabaseError:
        # The language of an error page or a health check must not need the database.
        return [code for code in INTERFACE_LANGUAGES if code in _known()]


def language_choices() -> list[tuple[str, str]]:
    """(code, name in that language) for forms that offer the site's languages."""
    return [(code, get_language_info(code)["name_local"]) for code in site_languages()]


def default_language() -> str:
    """The default statement's original language: what a visitor without a preference gets."""

    def compute() -> str:
        found = Statement.objects.values_list("original_language", flat=True).first()
        return found or "es"

    try:
        return selectors.remembered(("default-language",), compute)
    except DatabaseError:
        return "es"


def _accepted(header: str) -> list[str]:
    """The language ranges of an Accept-Language header, most wanted first (RFC 9110 §12.5.4);
    ranges with q=0 are refused ones and dropped."""
    ranked = []
    for position, item in enumerate(header.split(",")[:20]):
        parts = [p.strip() for p in item.split(";")]
        tag = parts[0].lower()
        quality = 1.0
        for parameter in parts[1:]:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _q, _p, tag in sorted(ranked)]


def best_match(header: str, offered: list[str]) -> str | None:
    """The offered language that best fits an Accept-Language header: an exact tag first,
    then the tag's primary language ("kk-KZ" → "kk"), then an offered regional variant."""
    offered_set = set(offered)
    for tag in _accepted(header):
        if tag in offered_set:
            return tag
        primary = tag.split("-")[0]
        if primary in offered_set:
            return primary
        for code in offered:
            if code.split("-")[0] == primary:
                return code
    return None


def choose(request: HttpRequest) -> str:
    """The visitor's language: the one they chose (the language cookie), else the best fit
    for their browser among the offered ones, else the original language."""
    offered = site_languages()
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in offered:
        return chosen
    match = best_match(request.headers.get("Accept-Language", ""), offered)
    return match or default_language()
