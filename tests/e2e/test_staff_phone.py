"""The staff area on a phone (390 px wide, Debian's chromium): no page is wider than the
screen, the queue's actions are within reach, approving on a signature's page moves on to the
next one, the chart's text stays readable, and the history reads as sentences."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import StaffRole
from statements.content import load_all
from statements.models import AuditEvent, Signature, Statement
from tests.accounts.helpers import make_user
from tests.factories import OrganisationFactory, SignatureFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.SITE_URL = live_server.url
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport=PHONE, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" or "Content Security Policy" in m.text
            else None
        ),
    )
    page.problems = problems
    yield page
    context.close()


def _sign_in(page, user, live_server) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (page.url, width)
    widest = page.evaluate(
        "Math.max(0, ...[...document.querySelectorAll('table')]"
        ".map(t => t.getBoundingClientRect().right))"
    )
    assert widest <= PHONE["width"], (page.url, widest)


def test_the_staff_area_works_on_a_phone(phone, live_server):
    load_all()
    statement = Statement.objects.get(slug="kazakhstan-2022")
    organiser = make_user("organiser@example.net", role=StaffRole.ORGANISER)
    now = timezone.now()
    first = OrganisationFactory(
        statement=statement,
        state=Signature.State.AWAITING_MODERATION,
        decided_at=None,
        organisation_name="Karaganda Miners' Union of Underground Workers",
        email="office-of-the-general-secretary@miners-union.example.kz",
        created_at=now - timedelta(hours=3),
    )
    second = OrganisationFactory(
        statement=statement,
        state=Signature.State.AWAITING_MODERATION,
        decided_at=None,
        organisation_name="Shymkent Nurses",
        created_at=now - timedelta(hours=2),
    )
    for days in (0, 0, 1, 3, 9):
        SignatureFactory(statement=statement, created_at=now - timedelta(days=days))
    _sign_in(phone, organiser, live_server)

    phone.goto("/staff/")
    _fits(phone)
    # The chart's numbers are printed, and at least 10 px tall on the phone's screen.
    chart = phone.locator("svg.chart")
    expect(chart).to_be_visible()
    heights = chart.locator("text").evaluate_all(
        "nodes => nodes.map(n => n.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 10, heights
    assert chart.locator("rect").count() == 10  # from the first signature to today

    phone.goto("/staff/queue/")
    _fits(phone)
    # The filters fold away, so the first signature is on the first screen.
    assert phone.locator(".queue tbody tr").first.bounding_box()["y"] < PHONE["height"]
    approve = phone.get_by_role("button", name=f"Approve {first.organisation_name}")
    approve.scroll_into_view_if_needed()
    box = approve.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["height"] >= 24  # a finger can hit it

    # On a signature's page, deciding moves on to the next one waiting.
    phone.get_by_role("link", name=f"Review {first.organisation_name}").click()
    _fits(phone)
    phone.get_by_role("button", name="Approve", exact=True).tap()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Shymkent Nurses")
    _fits(phone)
    phone.get_by_label("Reason for rejecting").fill("Not a union")
    phone.get_by_role("button", name="Reject", exact=True).tap()
    expect(phone.locator(".messages")).to_contain_text("Awaiting moderation → Rejected")
    _fits(phone)
    expect(phone.locator(".empty-queue")).to_be_visible()

    # The history and the log read as sentences.
    phone.goto(f"/staff/signatures/{second.pk}/")
    expect(phone.locator("ol.history")).to_contain_text(
        "organiser@example.net rejected this signature: Awaiting moderation → Rejected. "
        "Reason: Not a union"
    )
    phone.goto("/staff/audit/")
    _fits(phone)
    expect(phone.locator("ol.history")).to_contain_text(
        f"organiser@example.net approved “{first.organisation_name}”"
    )
    assert "signature.approve" not in phone.locator("main").inner_text()
    assert AuditEvent.objects.filter(action="signature.approve").count() == 1
    assert phone.problems == []
