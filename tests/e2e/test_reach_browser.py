"""In a real browser: the statement in Kazakh with its chart and table by country, and the
print stylesheet for the statement and the signatory list. No console errors, no CSP
violations, no serious accessibility problem."""

import pytest

from statements.content import load_all
from statements.models import Statement
from statements.opendata.services import history_refresh
from tests.e2e.test_journey import Watcher
from tests.factories import OrganisationFactory, SignatureFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed(live_server):
    load_all()
    statement = Statement.objects.get(slug="kazakhstan-2022")
    SignatureFactory.create_batch(3, statement=statement, country="KZ")
    OrganisationFactory(statement=statement, country="AR")
    history_refresh(statement_id=statement.pk)
    return statement


@pytest.fixture
def kazakh_page(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    context = browser.new_context(base_url=live_server.url, locale="kk-KZ")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_kazakh_page_with_history_and_print(kazakh_page, signed):
    page = kazakh_page
    watcher = Watcher(page)
    watcher.visit("/")
    assert page.locator("html").get_attribute("lang") == "kk"
    assert page.locator("h1").inner_text().startswith("Халыққа қарсы қуғын-сүргін")
    assert page.locator("svg.chart polyline").count() == 1
    page.locator(".by-country summary").click()
    assert page.locator(".by-country th[scope=row]").first.inner_text() == "Қазақстан"

    page.emulate_media(media="print")
    assert page.locator("article.statement").is_visible()
    assert page.locator(".demands li").count() == 5
    assert not page.locator("section.sign").is_visible()
    assert not page.locator(".language-switcher").is_visible()
    page.emulate_media(media="screen")
    assert page.locator("section.sign").is_visible()

    watcher.visit(f"/s/{signed.slug}/signatories/")
    page.emulate_media(media="print")
    assert page.locator(".signatory-list").first.is_visible()
    assert not page.locator("form.search").is_visible()
    assert watcher.errors == [] and watcher.violations == []
