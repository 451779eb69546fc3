"""The share step after confirming, and the picture a shared link shows."""

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from statements import selectors, tokens
from statements.models import Signature
from statements.sharing.links import share_links
from tests.factories import SignatureFactory

URL = "https://petition.example.org/kk/s/kazakhstan-2022/"


@pytest.fixture(autouse=True)
def _fresh_memo():
    selectors._memo.clear()
    yield
    selectors._memo.clear()


def test_each_network_gets_the_address_and_the_text():
    links = {
        link.network: link.href
        for link in share_links(url=URL, text="Қол қойыңыз", subject="Мәлімдеме")
    }
    assert list(links) == ["telegram", "whatsapp", "vk", "x", "facebook", "email"]

    def query(href):
        return parse_qs(urlsplit(href).query)

    assert urlsplit(links["telegram"]).netloc == "t.me"
    assert query(links["telegram"]) == {"url": [URL], "text": ["Қол қойыңыз"]}
    assert query(links["whatsapp"]) == {"text": [f"Қол қойыңыз {URL}"]}
    assert query(links["vk"])["url"] == [URL]
    assert query(links["x"])["url"] == [URL]
    assert query(links["facebook"]) == {"u": [URL]}
    # mailto: spaces as %20 (RFC 6068), never "+".
    assert links["email"].startswith("mailto:?subject=")
    assert "+" not in links["email"] and "%20" in links["email"]


def test_the_confirmation_page_offers_the_share_step(client, statement, settings):
    settings.SITE_URL = "https://petition.example.org"
    signature = SignatureFactory(statement=statement, state=Signature.State.PENDING, language="kk")
    token = tokens.make_token(signature, tokens.CONFIRM)
    page = client.post(f"/kk/confirm/{token}/", headers={"Sec-Fetch-Site": "same-origin"})
    assert page.status_code == 200
    text = page.text
    assert 'class="share"' in text
    assert "https://t.me/share/url?url=https%3A%2F%2Fpetition.example.org%2Fkk%2F" in text
    for network in ("whatsapp", "vk", "x", "facebook", "email"):
        assert f'class="share-{network}"' in text
    # No script of theirs on our page.
    assert "<script" not in text.replace('<script src="/static/', "")


def test_the_statement_page_names_its_share_picture(client, statement, settings):
    settings.SITE_URL = "https://petition.example.org"
    page = client.get("/ru/").text
    picture = "https://petition.example.org/ru/s/kazakhstan-2022/share.png"
    assert f'<meta property="og:image" content="{picture}">' in page
    assert f'<meta name="twitter:image" content="{picture}">' in page
    assert '<meta property="og:image:width" content="1200">' in page


def test_the_share_picture_is_a_png_of_the_right_size_and_kept(
    client, statement, django_assert_max_num_queries
):
    SignatureFactory.create_batch(3, statement=statement)
    response = client.get("/kk/s/kazakhstan-2022/share.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "max-age=300" in response["Cache-Control"] and "public" in response["Cache-Control"]
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (1200, 630) and image.format == "PNG"
    # Drawn once: the next request is the same bytes from the cache, even with a new count.
    SignatureFactory(statement=statement)
    again = client.get("/kk/s/kazakhstan-2022/share.png")
    assert again.content == response.content
    # Each language has its own.
    assert client.get("/es/s/kazakhstan-2022/share.png").content != response.content


def test_the_share_picture_follows_the_count_once_it_expires(client, statement, settings):
    from django.core.cache import cache

    first = client.get("/en/s/kazakhstan-2022/share.png").content
    SignatureFactory.create_batch(2, statement=statement)
    cache.clear()
    from statements import counters

    counters._memo.clear()
    assert client.get("/en/s/kazakhstan-2022/share.png").content != first


def test_the_share_picture_draws_the_title_and_the_current_count(client, statement):
    """The bytes served are the picture of this language's title and this moment's count
    (individuals and organisations that count publicly), in that language's words."""
    from django.utils import translation

    from statements.sharing.image import render_png
    from statements.sharing.views import count_line
    from tests.factories import OrganisationFactory

    SignatureFactory.create_batch(3, statement=statement)
    OrganisationFactory(statement=statement)
    SignatureFactory(statement=statement, state=Signature.State.PENDING)
    served = client.get("/kk/s/kazakhstan-2022/share.png").content
    title = statement.translations.get(language="kk").title
    with translation.override("kk"):
        line = count_line(4)
        expected = render_png(title=title, count_line=line, site_name="Ынтымақтастық петициясы")
    assert line == "4 қолтаңба"
    assert served == expected
