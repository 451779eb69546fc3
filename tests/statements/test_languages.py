"""Kazakh, languages added in the admin, and the English fallback of the interface."""

import html
import re
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from statements.models import Demand, DemandTranslation, StatementTranslation
from tests.conftest import ROOT

CATALOGUES = [ROOT / "locale" / code / "LC_MESSAGES" / "django.po" for code in ("es", "ru", "kk")]


def _page(language: str, path: str = "/") -> str:
    """The page a browser preferring `language` reaches from `path` (`/` redirects)."""
    response = Client().get(path, HTTP_ACCEPT_LANGUAGE=language, follow=True)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: p.parts[-3])
def test_interface_catalogues_are_complete(catalogue: Path):
    """msgfmt counts translated, fuzzy and untranslated messages: all must be translated."""
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(catalogue)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr
    assert "#, fuzzy" not in catalogue.read_text(encoding="utf-8")


def test_kazakh_page_speaks_kazakh(statement):
    body = _page("kk-KZ,kk;q=0.9")
    assert '<html lang="kk"' in body
    assert "Мәлімдемеге қол қою" in body  # "Sign the statement"
    assert "Испан тіліндегі түпнұсқаның аудармасы." in body
    # Country names in the page's language, sorted in it (django-countries has no Kazakh).
    assert ">Қазақстан</option>" in body and ">Ресей</option>" in body
    assert ">Kazakhstan</option>" not in body


def test_kazakh_form_errors_are_kazakh(statement):
    response = Client().post(
        f"/kk/s/{statement.slug}/sign/",
        {"kind": "individual", "individual-email": "not-an-address"},
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert "Жарамды электрондық пошта мекенжайын енгізіңіз." in body
    assert "Бұл өрісті толтыру міндетті." in body


def _offered(body: str) -> list[str]:
    switcher = re.search(r'<ul class="language-switcher"[^>]*>(.*?)</ul>', body, re.S).group(1)
    return re.findall(r'hreflang="([\w-]+)"', switcher)


def test_switcher_offers_the_four_interface_languages(statement):
    body = _page("en")
    assert _offered(body) == ["es", "en", "ru", "kk"]
    assert 'lang="kk" data-language="kk">Қазақ</a>' in body


def _add_language(statement, code: str, title: str) -> None:
    """What an organiser does in the admin: a text and the demands in a new language."""
    StatementTranslation.objects.create(
        statement=statement, language=code, title=title, body="Paragraph one.\n\nTwo."
    )
    for demand in Demand.objects.filter(statement=statement):
        DemandTranslation.objects.create(demand=demand, language=code, text=f"{code} demand")


def test_language_added_in_the_admin_is_offered_without_a_code_change(statement, settings):
    _add_language(statement, "uz", "Ўзбекча сарлавҳа")
    settings.PAGE_CACHE_SECONDS = 10  # a new setting value drops what the process remembered
    body = _page("uz")
    assert '<html lang="uz"' in body
    assert "Ўзбекча сарлавҳа" in body
    # No Uzbek catalogue of ours: the interface falls back to English, not Spanish.
    assert "Sign the statement" in body and "Firmar" not in body
    assert _offered(body) == ["es", "en", "ru", "kk", "uz"]
    assert '<link rel="alternate" hreflang="uz"' in body


def test_language_without_a_text_is_not_negotiated(statement):
    """A German browser on a site without German gets the original, in Spanish."""
    body = _page("de-DE,de;q=0.9")
    assert '<html lang="es"' in body
    body = _page("de-DE,de;q=0.9,ru;q=0.5")
    assert '<html lang="ru"' in body
    # Nor is there an address for it.
    assert Client().get(f"/de/s/{statement.slug}/").status_code == 404


def test_switcher_choice_of_an_added_language_sticks(statement, settings):
    _add_language(statement, "uz", "Ўзбекча сарлавҳа")
    client = Client()
    response = client.post(reverse("set_language"), {"language": "uz", "next": "/"})
    assert response.status_code == 302
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.redirect_chain[-1][0] == "/uz/"
    body = html.unescape(response.content.decode())
    assert '<html lang="uz"' in body and "Ўзбекча сарлавҳа" in body
