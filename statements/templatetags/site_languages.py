"""{% site_languages as languages %}: the languages the site offers, for the switcher."""

from django import template
from django.utils.translation import get_language_info

from statements import languages

register = template.Library()


@register.simple_tag
def site_languages() -> list[dict]:
    return [{**get_language_info(code), "code": code} for code in languages.site_languages()]
