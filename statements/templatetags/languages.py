"""The same page in every language: for the language links, hreflang and canonical."""

from dataclasses import dataclass

from django import template
from django.conf import settings
from django.urls import reverse, translate_url
from django.utils.translation import get_language, get_language_from_path, get_language_info

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


def _versions(path: str) -> list[LanguageVersion]:
    current = get_language()
    versions = []
    for code, _name in settings.LANGUAGES:
        translated = translate_url(path, code)
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
    versions = _versions(path)
    by_code = {version.code: version for version in versions}
    current = by_code.get(get_language())
    default = by_code.get(settings.LANGUAGE_CODE, versions[0])
    return PageLanguages(
        versions=versions,
        canonical=(current or default).url,
        x_default=settings.SITE_URL + default.path.replace(f"/{default.code}/", "/", 1),
    )


@register.simple_tag
def language_homes() -> list[LanguageVersion]:
    """The statement in each language, for the pages whose address has no language."""
    return _versions(reverse("statements:home"))
