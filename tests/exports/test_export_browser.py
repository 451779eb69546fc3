"""In a real browser: the export page's progress bar follows the export without a reload and
reveals the download link; the page wears the staff stylesheet; countries are found by
typing (or, without JavaScript, ticked in a plain list); the email can be declined; and it
all fits a phone. Nothing breaks the CSP; axe-core finds nothing serious."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import StaffRole
from exports import services
from exports.models import SignatoryExport
from statements.content import load_all
from statements.models import Statement
from tests.accounts.helpers import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[1] / "e2e" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def organiser(db):
    load_all()
    return make_user("organiser@example.net", role=StaffRole.ORGANISER)


def _signed_in(context, organiser, url: str) -> None:
    client = Client()
    client.force_login(organiser)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": url,
            }
        ]
    )


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" or "Content Security Policy" in m.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _axe(page) -> list[dict]:
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (make e2e-deps)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact}))"
    )
    return [v for v in found if v["impact"] in {"serious", "critical"}]


def _wears_the_staff_stylesheet(page) -> bool:
    return page.evaluate(
        "() => [...document.styleSheets].some(s => (s.href || '').includes('/css/staff'))"
        " && getComputedStyle(document.querySelector('.staff-nav')).display === 'flex'"
    )


def test_progress_bar_follows_the_export_and_reveals_the_download(page, live_server, organiser):
    statement = Statement.objects.get(slug="kazakhstan-2022")
    export = SignatoryExport.objects.create(
        statement=statement,
        requested_by=organiser,
        format="csv",
        filters={"language": "en", "kinds": ["organisation"]},
        state=SignatoryExport.State.RUNNING,
        total_rows=200,
        rows_done=20,
        started_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=7),
    )
    _signed_in(page.context, organiser, live_server.url)
    problems = _watch(page)

    page.goto(f"/staff/exports/{export.pk}/")
    # The page is styled like the rest of the staff area (it was left bare once).
    assert _wears_the_staff_stylesheet(page)
    bar = page.locator("progress#export-progress")
    assert bar.get_attribute("value") == "10"
    download = page.get_by_role("link", name=re.compile("Download"))
    assert not download.is_visible()

    # No reload: the page polls the progress endpoint.
    SignatoryExport.objects.filter(pk=export.pk).update(rows_done=120)
    expect(page.locator('[data-field="rows_done"]')).to_have_text("120")
    expect(bar).to_have_attribute("value", "60")

    path = services.export_path(export)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"id,kind\n1,individual\n")
    SignatoryExport.objects.filter(pk=export.pk).update(
        state=SignatoryExport.State.DONE, rows_done=200, finished_at=timezone.now()
    )
    expect(download).to_be_visible()
    expect(page.locator('[data-field="state_label"]')).to_have_text("Done")
    expect(bar).to_have_attribute("value", "100")

    with page.expect_download() as info:
        download.click()
    # The name says what is inside: statement, kinds, language, date.
    day = timezone.now().date().isoformat()
    assert info.value.suggested_filename == f"kazakhstan-2022_organisations_en_{day}.csv"
    assert Path(info.value.path()).read_bytes() == b"id,kind\n1,individual\n"
    assert _axe(page) == []
    assert problems == []


def test_countries_are_found_by_typing_and_the_email_can_be_declined(page, live_server, organiser):
    _signed_in(page.context, organiser, live_server.url)
    problems = _watch(page)
    page.goto("/staff/exports/")
    assert _wears_the_staff_stylesheet(page)
    # The list comes in the organiser's language (the browser asks for English).
    expect(page.get_by_label("Language of the list")).to_have_value("en")

    search = page.get_by_label("Find a country")
    search.fill("kaz")
    visible = page.locator(".country-choice:visible")
    expect(visible).to_have_count(1)
    page.get_by_label("Kazakhstan", exact=True).check()
    search.fill("argen")
    expect(visible).to_have_count(1)
    page.get_by_label("Argentina", exact=True).check()
    # Enter in the search box does not send the form.
    search.press("Enter")
    assert page.url.endswith("/staff/exports/")
    search.fill("")
    expect(visible).to_have_count(page.locator(".country-choice").count())
    expect(page.locator(".country-chosen")).to_have_text("Chosen: Argentina, Kazakhstan")

    page.get_by_label("Email me when the list is ready").uncheck()
    page.locator('[name="format"][value="csv"]').check()
    assert _axe(page) == []
    page.get_by_role("button", name="Request the list").click()
    page.wait_for_url(re.compile(r"/staff/exports/[0-9a-f-]{36}/"))
    expect(page.locator(".messages")).to_contain_text("This page shows its progress.")
    export = SignatoryExport.objects.get()
    assert sorted(export.filters["countries"]) == ["AR", "KZ"]
    assert export.filters["notify"] is False and export.filters["language"] == "en"
    assert problems == []


def test_the_form_works_without_javascript(browser, live_server, organiser, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(
        base_url=live_server.url, locale="es-ES", java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        _signed_in(context, organiser, live_server.url)
        page.goto("/staff/exports/")
        # No search box without JavaScript, but every country is a labelled checkbox.
        assert page.get_by_label("Buscar un país").count() == 0
        expect(page.get_by_label("Idioma de la lista")).to_have_value("es")
        page.get_by_label("Kazajistán", exact=True).check()
        page.get_by_role("button", name="Solicitar la lista").click()
        page.wait_for_url(re.compile(r"/staff/exports/[0-9a-f-]{36}/"))
        export = SignatoryExport.objects.get()
        assert export.filters["countries"] == ["KZ"] and export.filters["notify"] is True
        assert _wears_the_staff_stylesheet(page)
    finally:
        context.close()


def test_the_export_pages_fit_a_phone(browser, live_server, organiser, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    statement = Statement.objects.get(slug="kazakhstan-2022")
    export = SignatoryExport.objects.create(
        statement=statement,
        requested_by=organiser,
        format="xlsx",
        filters={"language": "ru", "countries": ["KZ", "RU", "UA"]},
        state=SignatoryExport.State.DONE,
        total_rows=1234,
        finished_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=7),
    )
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        _signed_in(context, organiser, live_server.url)
        for path in ("/staff/exports/", f"/staff/exports/{export.pk}/"):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        page.goto("/staff/exports/")
        # The past list reads as one card per export, each value named.
        card = page.locator("table.exports tbody tr").first
        cell = card.locator("td").nth(3)
        assert cell.inner_text() == "Русский"
        label = cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert label == '"Язык списка: "'
        assert card.get_by_role("link").is_visible()
    finally:
        context.close()
