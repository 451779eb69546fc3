"""The whole journey in a real browser, in English and in Spanish: an individual and an
organisation sign, take their emails from a real SMTP server and confirm; a moderator signs in
with TOTP and approves the organisation; an organiser exports the list and downloads it.
Every page is free of console errors and CSP violations, and axe-core finds no serious or
critical accessibility problem on it."""

import csv
import io
import json
import re
import time
from pathlib import Path

import pytest

from accounts.models import StaffRole
from statements.content import load_all
from statements.models import Signature
from tests.accounts.helpers import PASSWORD, make_user, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
LOCALES = {"en": "en-GB", "es": "es-ES"}


class Watcher:
    """Collects console errors and CSP violations, and runs axe-core on each page."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.violations: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.errors.append(f"{self.page.url}: {message.text}")

    def audit(self) -> None:
        """axe-core, evaluated through the debugging protocol (the page's CSP is not relaxed)."""
        self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))"
        )
        for violation in result:
            if violation["impact"] in {"serious", "critical"}:
                self.violations.append(f"{self.page.url}: {violation}")

    def visit(self, path: str) -> None:
        self.page.goto(path)
        self.audit()

    def visit_until(self, path: str, text: str, seconds: float = 15) -> None:
        """Visit a public page until it shows `text`: the browser may keep a copy of it for
        a few seconds (Cache-Control max-age), as a visitor reloading would see."""
        self.visit(path)
        deadline = time.monotonic() + seconds
        while text not in self.page.content() and time.monotonic() < deadline:
            time.sleep(1)
            self.page.reload()
        self.audit()


def _link(sink, to: str, action: str) -> str:
    message = next(m for m in reversed(sink.messages) if m["To"] == to)
    text = message.get_body(preferencelist=("plain",)).get_content()
    url = re.search(rf"https?://\S+/{action}/\S+/", text).group(0)
    return "/" + url.split("/", 3)[3]


def _fill(page, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = page.locator(f'[name="{name}"]')
        if value == "on":
            field.check()
        elif field.evaluate("node => node.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def _sign_in(page, user, watcher: Watcher) -> None:
    watcher.visit("/accounts/login/")
    page.locator('[name="login"]').fill(user.email)
    page.locator('[name="password"]').fill(PASSWORD)
    page.locator('main form button[type="submit"]').first.click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    watcher.audit()
    code = page.locator('[name="code"]')
    code.fill(totp_code(user.totp_secret))
    code.press("Enter")
    page.wait_for_url(re.compile(r"/staff/"))


@pytest.fixture
def smtp_mail(smtp_sink, settings):
    """The site sends through a real SMTP server (aiosmtpd) and the test reads it there."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_sink.port, "timeout": 5},
        }
    }
    return smtp_sink


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_whole_journey(browser, live_server, smtp_mail, settings, tmp_path, language):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `make install` with npm available")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.SITE_URL = live_server.url
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    load_all()
    moderator = make_user(f"moderator-{language}@example.net", role=StaffRole.MODERATOR)
    organiser = make_user(f"organiser-{language}@example.net", role=StaffRole.ORGANISER)

    def new_page():
        context = browser.new_context(
            base_url=live_server.url, locale=LOCALES[language], accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(20000)
        return page, Watcher(page)

    # An individual signs, confirms from the email, and is counted.
    page, watcher = new_page()
    watcher.visit("/")
    assert page.locator("html").get_attribute("lang") == language
    _fill(
        page,
        {
            "individual-full_name": "Ainur Bekova",
            "individual-email": f"ainur-{language}@example.org",
            "individual-country": "KZ",
            "individual-city": "Aktau",
            "individual-show_publicly": "on",
            "individual-consent": "on",
        },
    )
    page.locator('form[action*="/sign/"] button[type="submit"]').click()
    page.wait_for_url(re.compile(r"/thanks/"))
    watcher.audit()
    smtp_mail.wait_for(1)
    watcher.visit(_link(smtp_mail, f"ainur-{language}@example.org", "confirm"))
    page.locator('main form button[type="submit"]').click()
    page.wait_for_load_state()
    watcher.audit()
    assert Signature.objects.get(kind="individual").state == Signature.State.CONFIRMED

    # An organisation endorses it and confirms; it waits for a moderator.
    watcher.visit("/?as=organisation")
    _fill(
        page,
        {
            "organisation-organisation_name": "Mangystau Oil Workers' Union",
            "organisation-organisation_type": "trade_union",
            "organisation-country": "KZ",
            "organisation-city": "Zhanaozen",
            "organisation-full_name": "Serik Ospanov",
            "organisation-contact_role": "Chair",
            "organisation-email": f"union-{language}@example.org",
            "organisation-authorised": "on",
            "organisation-consent": "on",
        },
    )
    page.locator('form[action*="/sign/"] button[type="submit"]').click()
    page.wait_for_url(re.compile(r"/thanks/"))
    smtp_mail.wait_for(2)
    watcher.visit(_link(smtp_mail, f"union-{language}@example.org", "confirm"))
    page.locator('main form button[type="submit"]').click()
    page.wait_for_load_state()
    union = Signature.objects.get(kind="organisation")
    assert union.state == Signature.State.AWAITING_MODERATION
    watcher.visit("/s/kazakhstan-2022/signatories/")
    assert "Ainur Bekova" in page.content()
    assert "Mangystau" not in page.content()

    # A moderator signs in with a TOTP code and approves the organisation.
    mod_page, mod_watcher = new_page()
    _sign_in(mod_page, moderator, mod_watcher)
    mod_watcher.visit("/staff/queue/")
    mod_page.locator(f'button[name="single"][value="{union.pk}"]').click()
    mod_page.wait_for_load_state()
    mod_watcher.audit()
    union.refresh_from_db()
    assert union.state == Signature.State.APPROVED
    watcher.visit_until("/s/kazakhstan-2022/signatories/", "Mangystau Oil Workers' Union")
    assert "Mangystau Oil Workers' Union" in page.content()
    assert f"union-{language}@example.org" not in page.content()

    # An organiser exports the list as CSV and downloads it.
    org_page, org_watcher = new_page()
    _sign_in(org_page, organiser, org_watcher)
    org_watcher.visit("/staff/exports/")
    org_page.locator('[name="format"][value="csv"]').check()
    org_page.locator('main form[method="post"] button[type="submit"]').last.click()
    org_page.wait_for_url(re.compile(r"/staff/exports/[0-9a-f-]{36}/"))
    download_link = org_page.locator("a.download")
    download_link.wait_for(state="visible", timeout=60000)
    org_watcher.audit()
    with org_page.expect_download() as download_info:
        download_link.click()
    rows = list(
        csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text("utf-8-sig")))
    )
    assert {row["email"] for row in rows} == {
        f"ainur-{language}@example.org",
        f"union-{language}@example.org",
    }

    problems = watcher.errors + mod_watcher.errors + org_watcher.errors
    assert problems == [], json.dumps(problems, indent=1)
    violations = watcher.violations + mod_watcher.violations + org_watcher.violations
    assert violations == [], json.dumps(violations, indent=1)
