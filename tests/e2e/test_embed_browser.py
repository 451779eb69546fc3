"""In a real browser: a partner's page on another site frames the sign form; a new signer
signs in Kazakh through it with the partner's referral code, confirms from the email, sees
the share step; the organiser sees the signature under the partner's referral on the
dashboard, in an export and in the hourly history. No console errors, no CSP violations, no
serious accessibility problem, in the partner's page, the frame and ours. A site that is not
on the organisers' list cannot frame the form, nor can any site frame another page."""

import csv
import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from accounts.models import StaffRole
from statements import selectors
from statements.content import load_all
from statements.models import Partner, Signature, Statement
from statements.opendata.services import history_refresh
from tests.accounts.helpers import make_user
from tests.e2e.test_journey import AXE, Watcher, _link, _sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _audit_frame(frame, watcher: Watcher) -> None:
    frame.evaluate(AXE.read_text(encoding="utf-8"))
    result = frame.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))"
    )
    watcher.violations.extend(
        f"{frame.url}: {v}" for v in result if v["impact"] in {"serious", "critical"}
    )


def _site(page: bytes):
    """A site of its own on this host that answers every GET with `page`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _framing_page(frame_url: str) -> bytes:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Metalworkers</title>'
        "</head><body><main><h1>Metalworkers for Kazakhstan</h1>"
        f'<iframe src="{frame_url}" title="Sign the statement" width="560" height="1500">'
        "</iframe></main></body></html>"
    ).encode()


@pytest.fixture
def partner_site(live_server):
    """A partner's page on another site (localhost, not 127.0.0.1: another site, not only
    another origin) that frames the embedded form in Kazakh with its referral code."""
    server = _site(_framing_page(f"{live_server.url}/kk/embed/kazakhstan-2022/?ref=metal-kz"))
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_mail(smtp_sink, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_sink.port, "timeout": 5},
        }
    }
    return smtp_sink


def test_sign_in_kazakh_through_a_partners_frame(
    browser, live_server, partner_site, smtp_mail, settings, tmp_path
):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `make install` with npm available")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.SITE_URL = live_server.url
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    load_all()
    selectors._memo.clear()
    statement = Statement.objects.get(slug="kazakhstan-2022")
    partner = Partner.objects.create(
        name="Metalworkers' Union", code="metal-kz", origins=partner_site
    )
    organiser = make_user("organiser-embed@example.net", role=StaffRole.ORGANISER)

    context = browser.new_context(base_url=live_server.url, locale="kk-KZ")
    page = context.new_page()
    page.set_default_timeout(20000)
    watcher = Watcher(page)
    page.goto(partner_site)
    watcher.audit()
    frame_element = page.locator("iframe")
    frame_element.wait_for()
    frame = frame_element.element_handle().content_frame()
    frame.wait_for_selector("form")
    assert frame.locator("html").get_attribute("lang") == "kk"
    _audit_frame(frame, watcher)

    frame.locator('[name="individual-full_name"]').fill("Айгерім Бекова")
    frame.locator('[name="individual-email"]').fill("aigerim@example.kz")
    frame.locator('[name="individual-country"]').select_option("KZ")
    frame.locator('[name="individual-consent"]').check()
    updates = frame.locator('[name="individual-wants_updates"]')
    assert not updates.is_checked()
    updates.check()
    frame.locator('form button[type="submit"]').click()
    frame.wait_for_url(re.compile(r"/kk/embed/kazakhstan-2022/thanks/"))
    _audit_frame(frame, watcher)
    signature = Signature.objects.get()
    assert signature.referrer == partner and signature.language == "kk"
    assert signature.wants_updates and signature.updates_consent_at is not None

    # The email, in Kazakh, links to the confirmation page on our site.
    smtp_mail.wait_for(1)
    confirm = _link(smtp_mail, "aigerim@example.kz", "confirm")
    assert confirm.startswith("/kk/")
    own = context.new_page()
    own_watcher = Watcher(own)
    own_watcher.visit(confirm)
    own.locator('main form button[type="submit"]').click()
    own.wait_for_selector("section.share")
    own_watcher.audit()
    hrefs = [a.get_attribute("href") for a in own.locator(".share-links a").all()]
    assert [h.split(":", 1)[0] for h in hrefs] == ["https"] * 5 + ["mailto"]
    assert any(h.startswith("https://t.me/share/url?") for h in hrefs)
    signature.refresh_from_db()
    assert signature.state == Signature.State.CONFIRMED and signature.referrer == partner

    # The statement page names its share picture, which is a 1200×630 PNG.
    own_watcher.visit("/kk/")
    image = own.locator('meta[property="og:image"]').get_attribute("content")
    assert image.startswith(live_server.url) and image.endswith(".png")
    picture = own.request.get(image)
    assert picture.headers["content-type"] == "image/png"
    body = picture.body()
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(body[16:20]) == 1200 and int.from_bytes(body[20:24]) == 630

    # The organiser sees it under the partner's referral, and in the hourly history.
    history_refresh(statement_id=statement.pk)
    staff = browser.new_context(
        base_url=live_server.url, locale="en-GB", accept_downloads=True
    ).new_page()
    staff.set_default_timeout(20000)
    staff_watcher = Watcher(staff)
    _sign_in(staff, organiser, staff_watcher)
    staff_watcher.visit("/staff/")
    row = staff.locator("section[aria-labelledby=referrers-title] tbody tr")
    assert row.count() == 1
    assert "metal-kz" in row.inner_text() and "Metalworkers" in row.inner_text()
    staff_watcher.visit("/staff/partners/")
    snippet = staff.locator("textarea.snippet").first.input_value()
    assert "/embed/kazakhstan-2022/?ref=metal-kz" in snippet
    # ...in an export of the list (CSV), with the partner's code on the signer's row...
    staff_watcher.visit("/staff/exports/")
    staff.locator('[name="format"][value="csv"]').check()
    staff.locator('main form[method="post"] button[type="submit"]').last.click()
    staff.wait_for_url(re.compile(r"/staff/exports/[0-9a-f-]{36}/"))
    download = staff.locator("a.download")
    download.wait_for(state="visible", timeout=60000)
    staff_watcher.audit()
    with staff.expect_download() as download_info:
        download.click()
    rows = list(
        csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text("utf-8-sig")))
    )
    assert [(r["email"], r["referrer"], r["language"]) for r in rows] == [
        ("aigerim@example.kz", "metal-kz", "kk")
    ]
    # ...and in the hourly history, overall and for Kazakhstan.
    response = staff.request.get(f"/api/statements/{statement.slug}/history.json")
    history = json.loads(response.body())
    assert history["hours"][-1]["individuals_total"] == 1
    kazakhstan = next(c for c in history["countries"] if c["country"] == "KZ")
    assert kazakhstan["hours"][-1]["individuals_total"] == 1
    assert watcher.errors == [] and watcher.violations == []
    assert own_watcher.errors == [] and own_watcher.violations == []
    assert staff_watcher.errors == [] and staff_watcher.violations == []
    context.close()


def test_a_site_not_on_the_list_cannot_frame_the_form(browser, live_server, settings):
    """The same page on a site no active partner lists (and our statement page, which no
    site may frame): the browser refuses to show them in the frame, and says why."""
    settings.SITE_URL = live_server.url
    load_all()
    selectors._memo.clear()
    stranger = _site(_framing_page(f"{live_server.url}/kk/embed/kazakhstan-2022/?ref=metal-kz"))
    statement_page = _site(_framing_page(f"{live_server.url}/kk/"))
    Partner.objects.create(name="Listed", code="metal-kz", origins="https://metal.example.kz")
    # A partner that stopped: its site is no longer on the list.
    Partner.objects.create(
        name="Gone",
        code="gone",
        origins=f"http://localhost:{stranger.server_address[1]}",
        active=False,
    )
    try:
        context = browser.new_context(locale="kk-KZ")
        page = context.new_page()
        page.set_default_timeout(20000)
        for server in (stranger, statement_page):
            watcher = Watcher(page)
            page.goto(f"http://localhost:{server.server_address[1]}/")
            page.wait_for_load_state("load")
            frame = page.frames[1]
            # The frame holds the browser's refusal, not our page.
            assert not frame.url.startswith(live_server.url), frame.url
            assert frame.locator('[name="individual-email"]').count() == 0
            refusals = [e for e in watcher.errors if "frame-ancestors" in e or "X-Frame" in e]
            assert refusals, watcher.errors
        context.close()
    finally:
        for server in (stranger, statement_page):
            server.shutdown()
            server.server_close()
