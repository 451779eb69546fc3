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
    """The statement page as a visitor whose browser prefers `language` first reaches it:
    `/` redirects to the page in that language."""
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=language, follow=True)
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


def test_language_links_lead_to_the_same_page_in_each_language(client, statement):
    body = client.get("/en/s/kazakhstan-2022/signatories/").content.decode()
    switcher = re.search(r'<ul class="language-switcher"[^>]*>(.*?)</ul>', body, re.S).group(1)
    links = re.findall(r'<a href="([^"]+)" hreflang="(\w+)"', switcher)
    assert links == [
        ("/es/s/kazakhstan-2022/signatories/", "es"),
        ("/en/s/kazakhstan-2022/signatories/", "en"),
        ("/ru/s/kazakhstan-2022/signatories/", "ru"),
        ("/kk/s/kazakhstan-2022/signatories/", "kk"),
    ]
    # Plain links: no form, no return address, no token.
    assert "set_language" not in body and 'name="next"' not in body
    assert "csrfmiddlewaretoken" not in body
    assert 'data-language="en" aria-current="true"' in switcher


def test_a_shared_link_opens_in_its_language_for_everyone(client, statement):
    for preferred in ("es", "en", "ru"):
        response = client.get(
            "/ru/s/kazakhstan-2022/",
            HTTP_ACCEPT_LANGUAGE=preferred,
            HTTP_COOKIE=f"django_language={preferred}",
        )
        assert response["Content-Language"] == "ru"
        assert _text("ru")["title"] in html.unescape(response.content.decode())
        assert "Vary" not in response or "Accept-Language" not in response["Vary"]


@pytest.mark.parametrize(
    ("path", "cookie", "accept", "expected"),
    [
        ("/", "", "ru-RU,ru;q=0.9,en;q=0.5", "/ru/"),
        ("/", "", "de-DE,de;q=0.9", "/es/"),  # nothing we have: the original language
        ("/", "", "", "/es/"),
        ("/", "en", "ru", "/en/"),  # the cookie first
        ("/s/kazakhstan-2022/", "", "en-GB", "/en/s/kazakhstan-2022/"),
        ("/s/kazakhstan-2022/thanks/", "ru", "", "/ru/s/kazakhstan-2022/thanks/"),
        (
            "/s/kazakhstan-2022/signatories/?q=abc",
            "",
            "en",
            "/en/s/kazakhstan-2022/signatories/?q=abc",
        ),
        ("/s/kazakhstan-2022/signatories.csv", "", "ru", "/ru/s/kazakhstan-2022/signatories.csv"),
        ("/privacy/", "", "en", "/en/privacy/"),
        ("/confirm/some-token/", "", "ru", "/ru/confirm/some-token/"),
        ("/withdraw/some-token/", "", "en", "/en/withdraw/some-token/"),
    ],
)
def test_addresses_without_a_language_redirect_to_the_visitors(
    client, statement, path, cookie, accept, expected
):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept}
    if cookie:
        headers["HTTP_COOKIE"] = f"django_language={cookie}"
    response = client.get(path, **headers)
    assert response.status_code == 302
    assert response["Location"] == expected
    # The answer depends on both, and says so to caches.
    assert {v.strip() for v in response["Vary"].split(",")} >= {"Accept-Language", "Cookie"}
    assert "Set-Cookie" not in response


def test_choosing_a_language_on_the_staff_pages_sets_the_cookie(client, statement):
    response = client.post(reverse("set_language"), {"language": "ru", "next": "/staff/"})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/").headers["Location"] == "/ru/"


def test_language_switch_refuses_foreign_redirects(client, statement):
    response = client.post(
        reverse("set_language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response.get("Location", "")


def _links(body: str) -> dict[str, str]:
    return dict(re.findall(r'<link rel="alternate" hreflang="([\w-]+)" href="([^"]+)">', body))


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/ru/", "/ru/s/kazakhstan-2022/"),  # the default statement has one canonical address
        ("/ru/s/kazakhstan-2022/", "/ru/s/kazakhstan-2022/"),
        ("/ru/s/kazakhstan-2022/?as=organisation", "/ru/s/kazakhstan-2022/"),
        ("/ru/s/kazakhstan-2022/thanks/", "/ru/s/kazakhstan-2022/thanks/"),
        ("/ru/s/kazakhstan-2022/signatories/?page=2", "/ru/s/kazakhstan-2022/signatories/"),
        ("/ru/privacy/", "/ru/privacy/"),
    ],
)
def test_hreflang_and_canonical(client, statement, settings, path, canonical):
    settings.SITE_URL = "https://petition.example.org"
    # The privacy notice names the contact address (by default that of noreply@localhost).
    settings.CONTACT_EMAIL = "contact@petition.example.org"
    body = client.get(path, HTTP_HOST="localhost").content.decode()
    site = "https://petition.example.org"
    assert f'<link rel="canonical" href="{site}{canonical}">' in body
    rest = canonical.removeprefix("/ru/")
    assert _links(body) == {
        "es": f"{site}/es/{rest}",
        "en": f"{site}/en/{rest}",
        "ru": f"{site}/ru/{rest}",
        "kk": f"{site}/kk/{rest}",
        # The address without a language, which redirects to the visitor's.
        "x-default": f"{site}/{rest}",
    }
    assert "localhost" not in body


def test_staff_pages_have_no_language_alternates(client, statement):
    body = client.get("/accounts/login/").content.decode()
    assert "hreflang" not in body and 'rel="canonical"' not in body
    assert 'action="/i18n/setlang/"' in body


def test_sitemap_lists_every_page_in_every_language(client, statement, settings):
    settings.SITE_URL = "https://petition.example.org"
    response = client.get("/sitemap.xml", HTTP_HOST="localhost")
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    body = response.content.decode()
    locations = re.findall(r"<loc>([^<]+)</loc>", body)
    site = "https://petition.example.org"
    expected = {
        f"{site}/{language}/{page}"
        for language in ("es", "en", "ru", "kk")
        for page in ("s/kazakhstan-2022/", "s/kazakhstan-2022/signatories/", "privacy/")
    }
    assert set(locations) == expected and len(locations) == len(expected)
    assert (
        f'<xhtml:link rel="alternate" hreflang="ru" href="{site}/ru/s/kazakhstan-2022/"/>' in body
    )
    assert f'hreflang="x-default" href="{site}/s/kazakhstan-2022/"' in body
    assert "localhost" not in body
    for location in locations:
        assert client.get(location.removeprefix(site)).status_code == 200


def test_robots_txt_points_to_the_sitemap_and_keeps_private_pages_out(client, settings, db):
    settings.SITE_URL = "https://petition.example.org"
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "Sitemap: https://petition.example.org/sitemap.xml" in lines
    for private in ("/staff/", "/accounts/", "/admin/", "/*/confirm/", "/*/withdraw/"):
        assert f"Disallow: {private}" in lines


def test_page_has_landmarks_and_sharing_tags(client, statement):
    _, body = _page(client, "en")
    for landmark in ("<header", "<main", "<footer", "<nav", "<article"):
        assert landmark in body
    assert 'property="og:title"' in body and 'name="twitter:card"' in body
    assert 'property="og:description"' in body


def test_strict_content_security_policy(client, statement):
    response = client.get("/en/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    body = response.content.decode()
    assert "style=" not in body
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) is None, "inline script found"


def test_unknown_statement_is_404(client, statement):
    assert client.get("/en/s/no-such-statement/").status_code == 404
    assert client.get("/en/s/no-such-statement/", follow=True).status_code == 404
