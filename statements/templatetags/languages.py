"""The same page in every language the site offers: for the language links, hreflang and
canonical."""

import contextlib
from dataclasses import dataclass

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, Resolver404, ResolverMatch, resolve, reverse
from django.utils.translation import (
    get_language,
    get_language_from_path,
    get_language_info,
    override,
)

from statements import languages

register = template.Library()


@dataclass(frozen=True)
class LanguageVersion:
    code: str
    name: str
    path: str
    url: str
    current: bool


@dataclass(frozen=True)
class PageLanguages:
    versions: list[LanguageVersion]
    canonical: str
    # For visitors whose language is none of these: the address without a language, which
    # redirects to theirs (or the original); Django's sitemap says the same.
    x_default: str


def _versions(path: str, match: ResolverMatch | None = None) -> list[LanguageVersion]:
    """As translate_url(path, code) for each language, resolving the path once (or not at
    all, given the request's own match): a signer's own pages are rendered afresh each time."""
    current = get_language()
    if match is None:
        try:
            match = resolve(path)
        except Resolver404:
            match = None
    versions = []
    for code in languages.site_languages():
        translated = path
        if match is not None:
            with override(code), contextlib.suppress(NoReverseMatch):
                translated = reverse(match.view_name, args=match.args, kwargs=match.kwargs)
        versions.append(
            LanguageVersion(
                code=code,
                name=get_language_info(code)["name_local"],
                path=translated,
                # From SITE_URL, never from the request's Host.
                url=settings.SITE_URL + translated,
                current=code == current,
            )
        )
    return versions


def _without_language(path: str) -> str:
    language = get_language_from_path(path)
    return path.replace(f"/{language}/", "/", 1) if language else path


@register.simple_tag
def offered_languages() -> str:
    """The languages the site offers, as a key for cached fragments that list them."""
    return ",".join(languages.site_languages())


@register.simple_tag(takes_context=True)
def page_languages(context, path: str | None = None) -> PageLanguages | None:
    """This page's address in each language, or None for pages whose address has no language
    (staff, sign-in).

    `path` names the page when it is known by another address too (the default statement at
    `/es/` is `/es/s/<slug>/`); by default it is the address asked for, without its query,
    which no public page depends on for its links.
    """
    request = context.get("request")
    path = path or (request.path_info if request is not None else "")
    if not path or get_language_from_path(path) is None:
        return None
    # Asked for twice by a page (its head and its language links): worked out once.
    memo = getattr(request, "_page_languages", None) if request is not None else None
    key = (path, get_language())
    if memo is not None and key in memo:
        return memo[key]
    match = getattr(request, "resolver_match", None)
    own = request is not None and path == request.path_info and match is not None
    versions = _versions(path, match if own else None)
    current = next((version for version in versions if version.current), None)
    found = PageLanguages(
        versions=versions,
        canonical=current.url if current else settings.SITE_URL + path,
        x_default=settings.SITE_URL + _without_language(path),
    )
    if request is not None:
        if memo is None:
            memo = request._page_languages = {}
        memo[key] = found
    return found


@register.simple_tag
def language_homes() -> list[LanguageVersion]:
    """The statement in each language, for the pages whose address has no language."""
    return _versions(reverse("statements:home"))
