"""Text cells that are safe to open in a spreadsheet program, and country names by language:
shared by the public signatory lists and the organisers' exports.

Defends against formula injection: a spreadsheet program treats a cell that begins with `=`,
`+`, `-` or `@` (or a tab, carriage return or NUL that it skips) as a formula, so a signer
named `=HYPERLINK(...)` could run code on the computer of whoever opens the list. Every text
cell that begins with one of those characters gets an apostrophe in front (OWASP's advice),
which spreadsheet programs show as text.
"""

from django.utils import translation
from django_countries import countries

# First characters that make a spreadsheet cell a formula. The full-width forms are read as
# formulas by some spreadsheet programs in East Asian locales, so they are neutralised too.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\x00＝＋－＠")


def neutralise(value: str) -> str:
    """Make a text cell inert in spreadsheet programs (see the module docstring)."""
    if value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def country_names(language: str) -> dict[str, str]:
    """Country names in `language`."""
    with translation.override(language):
        return {code: str(name) for code, name in countries}
