"""Languages in a real browser: a link shared in Russian opens in Russian whatever the
browser prefers, the language links lead to the same page in another language, and the one
chosen is remembered for the addresses without a language (`/`)."""

import re

import pytest

from statements.content import load_all

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_russian_link_opens_in_russian_and_the_choice_is_remembered(browser, live_server):
    load_all()
    context = browser.new_context(base_url=live_server.url, locale="es-ES")
    page = context.new_page()
    page.set_default_timeout(15000)
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))

    page.goto("/ru/s/kazakhstan-2022/")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert "Прекратить репрессии" in page.locator("h1").inner_text()

    # The browser prefers Spanish: `/` opens in Spanish until another language is chosen.
    page.goto("/")
    assert re.search(r"/es/$", page.url)
    page.locator('.language-switcher a[hreflang="en"]').click()
    page.wait_for_url(re.compile(r"/en/s/kazakhstan-2022/$"))
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/")
    assert re.search(r"/en/$", page.url)
    assert errors == []
    context.close()
