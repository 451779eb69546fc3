"""A moderator signs in with password and TOTP in a real browser and approves an
organisation's endorsement from the queue, using the keyboard; it then shows publicly."""

import re

import pytest
from django.core import mail

from accounts.models import StaffRole
from statements.content import load_all
from statements.models import AuditEvent, Signature, Statement
from tests.accounts.helpers import PASSWORD, make_user, totp_code
from tests.factories import OrganisationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_moderator_signs_in_with_totp_and_approves_an_organisation(page):
    load_all()
    statement = Statement.objects.get(slug="kazakhstan-2022")
    moderator = make_user("moderator@example.net", role=StaffRole.MODERATOR)
    union = OrganisationFactory(
        statement=statement,
        state=Signature.State.AWAITING_MODERATION,
        decided_at=None,
        organisation_name="Karaganda Miners' Union",
        email="office@miners.example.kz",
        language="en",
    )
    csp_errors = []
    page.on(
        "console",
        lambda message: (
            csp_errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    page.goto("/staff/queue/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Email").fill(moderator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    code = page.get_by_label("Code")
    code.fill(totp_code(moderator.totp_secret))
    code.press("Enter")

    page.wait_for_url(re.compile(r"/staff/queue/"))
    approve = page.get_by_role("button", name="Approve Karaganda Miners' Union")
    approve.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "1 signature changed" in page.locator(".messages").inner_text()

    page.goto(f"/s/{statement.slug}/signatories/")
    assert page.get_by_text("Karaganda Miners' Union").is_visible()
    assert "office@miners.example.kz" not in page.content()

    union.refresh_from_db()
    assert union.state == Signature.State.APPROVED
    event = AuditEvent.objects.get(action="signature.approve")
    assert (event.actor, event.signature, event.from_state) == (
        moderator,
        union,
        Signature.State.AWAITING_MODERATION,
    )
    assert AuditEvent.objects.filter(action="account.login", actor=moderator).exists()
    assert [m.to for m in mail.outbox] == [[union.email]]
    assert csp_errors == []
