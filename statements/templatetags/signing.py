from django import template

from statements.forms import SIGN_FORMS

register = template.Library()

# Fields whose length a live counter follows (static/js/signing.js).
COUNTED = frozenset({"comment"})


@register.simple_tag
def empty_sign_form(kind: str):
    """The sign form of a kind, empty: built only when its cached fragment is rendered anew."""
    return SIGN_FORMS[kind](prefix=kind)


@register.simple_tag
def sign_widget(field):
    """The field's input, described by its errors, its help and its counter, in that order
    (statements/_sign_fields.html gives them these ids)."""
    described_by = []
    if field.errors:
        described_by.append(f"{field.auto_id}_errors")
    if field.help_text:
        described_by.append(f"{field.auto_id}_helptext")
    if field.name in COUNTED:
        described_by.append(f"{field.auto_id}_counter")
    attrs = {"aria-describedby": " ".join(described_by)} if described_by else None
    return field.as_widget(attrs=attrs)


@register.filter
def counted(field) -> bool:
    return field.name in COUNTED
