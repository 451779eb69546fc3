import html
import re
import tomllib

import pytest
from django.urls import reverse

from statements.content import CONTENT_DIR


def _text(language: str) -> dict:
    path = CONTENT_DIR / "kazakhstan-2022" / f"{language}.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _page(client, language: str):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response, html.unescape(response.content.decode())


@pytest.mark.parametrize("language", ["es", "en", "ru", "kk"])
def test_statement_page_in_each_language(client, statement, language):
    response, body = _page(client, language)
    text = _text(language)
    assert f'<html lang="{language}"' in body
    assert response["Content-Language"] == language
    for line in [
        text["title"],
        *text["body"],
        *text["slogans"],
        text["signed_by"],
        text["date_line"],
    ]:
        assert line in body
    ordered = re.search(r"<ol>(.*?)</ol>", body, re.S).group(1)
    items = [html.unescape(item).strip() for item in re.findall(r"<li>(.*?)</li>", ordered, re.S)]
    assert items == text["demands"]
    assert text["demands_intro"] in body


def test_spanish_is_the_default_and_shown_verbatim(client, statement):
    _, body = _page(client, "")
    original = (CONTENT_DIR / "kazakhstan-2022" / "original-es.txt").read_text(encoding="utf-8")
    for line in filter(None, original.split("\n")):
        assert line.removeprefix("– ") in body


def test_translations_say_they_are_translations(client, statement):
    _, english = _page(client, "en")
    _, spanish = _page(client, "es")
    assert _text("en")["translation_note"] in english
    assert 'class="translation-note"' not in spanish


def test_language_switcher_choice_sticks(client, statement):
    _, body = _page(client, "en")
    assert 'value="ru" lang="ru"' in body and 'value="es" lang="es"' in body
    response = client.post(reverse("set_language"), {"language": "ru", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    _, body = _page(client, "en")
    assert '<html lang="ru"' in body
    assert _text("ru")["title"] in body


def test_language_switch_refuses_foreign_redirects(client, statement):
    response = client.post(
        reverse("set_language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response.get("Location", "")


def test_page_has_landmarks_and_sharing_tags(client, statement):
    _, body = _page(client, "en")
    for landmark in ("<header", "<main", "<footer", "<nav", "<article"):
        assert landmark in body
    assert 'property="og:title"' in body and 'name="twitter:card"' in body
    assert 'property="og:description"' in body


def test_strict_content_security_policy(client, statement):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    body = response.content.decode()
    assert "style=" not in body
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) is None, "inline script found"


def test_unknown_statement_is_404(client, statement):
    assert client.get("/s/no-such-statement/").status_code == 404
