"""A new moderator's first visit, in a real browser, as a person makes it: open the emailed
invitation, choose a password, sign in, set up the authenticator app from the secret on the
page, read the recovery codes (no second password prompt) and continue to the staff area."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import StaffRole
from accounts.services import staff_invite
from statements.content import load_all
from tests.accounts.helpers import make_user, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long and unusual passphrase 7"


def test_from_the_invitation_to_the_staff_area(page, settings):
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = False
    load_all()
    organiser = make_user("organiser@example.net", role=StaffRole.ORGANISER)
    staff_invite(
        email="new@example.net", role=StaffRole.MODERATOR, invited_by=organiser, language="en"
    )
    link = re.search(r"https?://\S+/staff/join/\S+/", mail.outbox[-1].body).group(0)
    problems = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" or "Content Security Policy" in m.text
            else None
        ),
    )

    page.goto(urlsplit(link).path)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"^Password again:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    # The next step is the sign-in form, which says so.
    expect(page.get_by_text("Your staff account is ready.")).to_be_visible()
    page.get_by_label("Email").fill("new@example.net")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # The authenticator app: the secret is on the page, the code is what an app would show.
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    # Straight to the recovery codes, without being asked for the password again.
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    codes = page.get_by_label("Unused codes").input_value().split()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-f]{8}", c) for c in codes)
    page.get_by_label("I have saved my recovery codes").check()
    page.get_by_role("link", name="Continue to the staff area").click()

    page.wait_for_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    # The codes were shown once.
    page.goto("/accounts/2fa/recovery-codes/")
    assert page.get_by_label("Unused codes").count() == 0
    assert not any(code in page.content() for code in codes)
    assert problems == []
