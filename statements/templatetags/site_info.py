"""{% site_name %} and {% contact_email %}: the site's name in the active language and where
people write to, for pages and emails alike (emails are rendered without a request)."""

from django import template
from django.conf import settings

from statements import site

register = template.Library()


@register.simple_tag
def site_name() -> str:
    return site.site_name()


@register.simple_tag
def contact_email() -> str:
    return settings.CONTACT_EMAIL
