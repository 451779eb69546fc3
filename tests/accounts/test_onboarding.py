"""A new staff member's first steps, following the links each page offers as a person does:
set a password, sign in, set up the authenticator app from the secret on the page, see the
recovery codes once (no second password prompt), and continue to the staff area."""

import html
import re
import time
from io import StringIO
from urllib.parse import urlsplit

from allauth.mfa import app_settings as mfa_settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from accounts.access import staff_role
from accounts.models import StaffRole, User
from accounts.services import staff_invite
from tests.accounts.helpers import totp_code

PASSWORD = "a long and unusual passphrase 7"


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _link(response, text: str) -> str:
    """The href of the link whose text is `text` on the page."""
    match = re.search(rf'<a [^>]*href="([^"]+)"[^>]*>\s*{re.escape(text)}\s*</a>', _page(response))
    assert match, f"no link {text!r} on {response.request['PATH_INFO']}"
    return match.group(1)


def _sign_in(client, email: str):
    page = client.get(reverse("account_login"))
    assert 'name="login"' in _page(page)
    return client.post(
        reverse("account_login"), {"login": email, "password": PASSWORD}, follow=True
    )


def _enrol(client, response, capture):
    """On the set-up page: read the secret shown, type the code the app would show."""
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    secret = re.search(r'id="authenticator_secret" value="([A-Z2-7]+)"', _page(response)).group(1)
    with capture(execute=True):
        return client.post(
            reverse("mfa_activate_totp"), {"code": totp_code(secret)}, follow=True
        ), secret


def _codes(response) -> list[str]:
    area = re.search(
        r'<textarea[^>]*id="recovery_codes"[^>]*>(.*?)</textarea>', _page(response), re.S
    )
    return area.group(1).split() if area else []


def test_an_invited_moderator_reaches_the_staff_area_without_dead_ends(
    client, organiser, pending_org, django_capture_on_commit_callbacks, settings
):
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = False
    staff_invite(
        email="new@example.net", role=StaffRole.MODERATOR, invited_by=organiser, language="en"
    )
    link = re.search(r"https?://\S+/staff/join/\S+/", mail.outbox[-1].body).group(0)

    # The emailed link: choose a password, then the way on is the sign-in form.
    join = urlsplit(link).path
    assert "new@example.net" in _page(client.get(join))
    response = client.post(join, {"password1": PASSWORD, "password2": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert "Sign in with new@example.net" in _page(response)
    assert 'name="password"' in _page(response)
    # The account is a row of the site's own user model, named by its address alone.
    account = User.objects.get(email="new@example.net")
    assert get_user_model() is User and staff_role(account) == StaffRole.MODERATOR

    # Signing in leads to the authenticator set-up, then to the recovery codes, once.
    response, _secret = _enrol(
        client, _sign_in(client, "new@example.net"), django_capture_on_commit_callbacks
    )
    assert response.redirect_chain[-1][0] == reverse("mfa_view_recovery_codes")
    assert "reauthenticate" not in " ".join(url for url, _ in response.redirect_chain)
    codes = _codes(response)
    assert len(codes) == mfa_settings.RECOVERY_CODE_COUNT
    assert "they will not be shown again" in _page(response)

    # ...and the next step is a link to the staff area.
    staff = client.get(_link(response, "Continue to the staff area"))
    assert staff.status_code == 200 and staff.wsgi_request.user == account
    assert pending_org.organisation_name in _page(client.get(reverse("staff:queue")))

    # Shown once: coming back shows no code.
    again = client.get(reverse("mfa_view_recovery_codes"))
    assert again.status_code == 200 and _codes(again) == []
    assert not any(code in _page(again) for code in codes)


def test_the_first_organiser_from_the_command_line_is_shown_the_way_on(
    client, django_capture_on_commit_callbacks, settings
):
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = False
    out = StringIO()
    call_command("createstaff", "lead@example.net", "--role", "organiser", stdout=out)
    link = urlsplit(re.search(r"https?://\S+", out.getvalue()).group(0)).path
    form = client.get(link, follow=True)
    action = form.redirect_chain[-1][0]
    done = client.post(action, {"password1": PASSWORD, "password2": PASSWORD}, follow=True)
    assert "Your password is set." in _page(done)
    # A sign-in link, not a dead end.
    sign_in = client.get(_link(done, "Sign in"))
    assert 'name="login"' in _page(sign_in)
    response, _secret = _enrol(
        client, _sign_in(client, "lead@example.net"), django_capture_on_commit_callbacks
    )
    assert response.redirect_chain[-1][0] == reverse("mfa_view_recovery_codes")
    assert _codes(response)
    assert client.get(_link(response, "Continue to the staff area")).status_code == 200


def test_a_later_session_must_prove_itself_again_for_the_codes(
    client, organiser, django_capture_on_commit_callbacks, settings
):
    """The exemption covers enrolling only: a sign-in with an existing second factor, or a
    session past the reauthentication timeout, is asked again before touching the codes."""
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = False
    staff_invite(
        email="new@example.net", role=StaffRole.MODERATOR, invited_by=organiser, language="en"
    )
    join = urlsplit(re.search(r"https?://\S+/staff/join/\S+/", mail.outbox[-1].body).group(0)).path
    client.post(join, {"password1": PASSWORD, "password2": PASSWORD})
    _response, secret = _enrol(
        client, _sign_in(client, "new@example.net"), django_capture_on_commit_callbacks
    )
    client.post(reverse("account_logout"))

    client.post(reverse("account_login"), {"login": "new@example.net", "password": PASSWORD})
    # The code of the next half-minute: the one used to enrol works only once.
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret, at=time.time() + 30)})
    assert client.get(reverse("staff:home")).status_code == 200
    response = client.get(reverse("mfa_generate_recovery_codes"))
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
