from django import template

from statements.forms import SIGN_FORMS

register = template.Library()


@register.simple_tag
def empty_sign_form(kind: str):
    """The sign form of a kind, empty: built only when its cached fragment is rendered anew."""
    return SIGN_FORMS[kind](prefix=kind)
