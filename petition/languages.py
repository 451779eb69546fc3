"""The languages the site can be shown in, for settings.LANGUAGES.

Django activates only languages listed in LANGUAGES, and the list is fixed when a process
starts. Organisers add languages in the admin (a statement text and demands in a new language
code), so LANGUAGES holds every language Django itself knows, with our four interface
languages first; which of them the site actually offers (switcher, sitemap, negotiation) is
decided at run time from the statement texts (statements/languages.py). LANGUAGE_CODE is
English, so a language without a catalogue of ours shows the interface in English (Django
falls back to LANGUAGE_CODE's catalogue for every message a catalogue lacks).
"""

from django.conf import global_settings
from django.utils.translation import gettext_lazy

# Languages with a complete interface catalogue in locale/, in the switcher's order.
INTERFACE_LANGUAGES = ("es", "en", "ru", "kk")


def all_languages() -> list[tuple[str, str]]:
    names = dict(global_settings.LANGUAGES)
    first = [(code, gettext_lazy(names[code])) for code in INTERFACE_LANGUAGES]
    rest = [
        (code, gettext_lazy(name))
        for code, name in global_settings.LANGUAGES
        if code not in INTERFACE_LANGUAGES
    ]
    return first + rest
