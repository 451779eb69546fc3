"""A language an organiser adds in the admin (a statement text in it) appears in the sitemap
and in every page's hreflang links, with no code change."""

import pytest
from django.core.cache import caches

from statements import selectors
from statements.models import StatementTranslation


@pytest.fixture(autouse=True)
def _fresh():
    selectors._memo.clear()
    caches["fragments"].clear()
    yield
    selectors._memo.clear()
    caches["fragments"].clear()


def test_an_added_language_reaches_the_sitemap_and_hreflang(client, statement, settings):
    settings.SITE_URL = "https://petition.example.org"
    before = client.get("/sitemap.xml").text
    assert "https://petition.example.org/de/" not in before
    StatementTranslation.objects.create(
        statement=statement,
        language="de",
        title="Solidarität mit den Arbeitern Kasachstans",
        body="Ein Absatz.",
    )
    selectors._memo.clear()
    sitemap = client.get("/sitemap.xml").text
    assert "<loc>https://petition.example.org/de/s/kazakhstan-2022/</loc>" in sitemap
    assert 'hreflang="de" href="https://petition.example.org/de/s/kazakhstan-2022/"' in sitemap
    page = client.get("/en/s/kazakhstan-2022/").text
    assert (
        '<link rel="alternate" hreflang="de" href="https://petition.example.org/de/s/kazakhstan-2022/">'
        in page
    )
    assert client.get("/de/s/kazakhstan-2022/").status_code == 200
