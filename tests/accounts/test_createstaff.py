"""The first organiser, bootstrapped from the command line, and the whole path from there:
sign in with TOTP, invite a moderator, who approves an endorsement that then shows publicly."""

import html
import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.access import staff_role
from accounts.models import StaffRole
from statements.models import AuditEvent, Signature
from tests.accounts.helpers import totp_code

NEW_PASSWORD = "solidarity across borders 2022"


def _createstaff(email, role):
    out = StringIO()
    call_command("createstaff", email, "--role", role, stdout=out)
    return out.getvalue()


def _set_password(client, link):
    path = urlsplit(link).path
    form = client.get(path, follow=True)  # allauth swaps the key for a session-held one
    action = form.redirect_chain[-1][0] if form.redirect_chain else path
    response = client.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content
    return path


def test_createstaff_creates_an_organiser_and_prints_a_one_time_link(client):
    output = _createstaff("First@Example.net", "organiser")
    user = get_user_model().objects.get(email="first@example.net")
    assert staff_role(user) == StaffRole.ORGANISER and user.is_staff
    assert not user.has_usable_password()
    link = re.search(r"https?://\S+", output).group(0)
    path = _set_password(client, link)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # One-time: the link is dead once used.
    assert b'name="password1"' not in client.get(path, follow=True).content
    assert AuditEvent.objects.filter(action="staff.create", data__email="first@example.net")


def test_createstaff_changes_the_role_of_an_existing_account():
    _createstaff("someone@example.net", "organiser")
    _createstaff("someone@example.net", "moderator")
    user = get_user_model().objects.get(email="someone@example.net")
    assert staff_role(user) == StaffRole.MODERATOR and not user.is_staff


def test_createstaff_refuses_nonsense():
    with pytest.raises(CommandError):
        _createstaff("not-an-address", "organiser")
    with pytest.raises(CommandError):
        _createstaff("ok@example.net", "emperor")


def _sign_in_and_enrol(client, email, capture):
    """Password, then the authenticator app set up at the first sign-in. Returns its secret."""
    response = client.post(
        reverse("account_login"), {"login": email, "password": NEW_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    secret = response.context["form"].secret
    with capture(execute=True):  # allauth records the activation after commit
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    return secret


def test_from_createstaff_to_a_published_endorsement(
    client, statement, pending_org, django_capture_on_commit_callbacks, settings
):
    # allauth emails security notices from an on-commit hook, which the test runs after the
    # request is gone; the audit trail is what this test follows.
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = False
    # 1. The first organiser, from the command line.
    link = re.search(r"https?://\S+", _createstaff("lead@example.net", "organiser")).group(0)
    _set_password(client, link)
    # 2. Signs in; must set up TOTP before anything else.
    _sign_in_and_enrol(client, "lead@example.net", django_capture_on_commit_callbacks)
    assert client.get(reverse("staff:home")).status_code == 200
    # 3. Invites a moderator.
    client.post(reverse("staff:invitations"), {"email": "mod@example.net", "role": "moderator"})
    invitation_link = re.search(r"https?://\S+/staff/join/\S+/", mail.outbox[-1].body).group(0)
    client.post(reverse("account_logout"))
    # 4. The moderator accepts, signs in, sets up TOTP.
    join = urlsplit(invitation_link).path
    client.post(join, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    secret = _sign_in_and_enrol(client, "mod@example.net", django_capture_on_commit_callbacks)
    client.post(reverse("account_logout"))
    # ...and on a later day signs in with password and code.
    client.post(reverse("account_login"), {"login": "mod@example.net", "password": NEW_PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    queue = client.get(reverse("staff:queue"))
    assert pending_org.organisation_name in html.unescape(queue.content.decode())
    # 5. Approves the endorsement, which goes public and is announced to the organisation.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff:queue_decide"), {"single": str(pending_org.pk)})
    pending_org.refresh_from_db()
    assert pending_org.state == Signature.State.APPROVED
    public = client.get(reverse("statements:signatories", args=[statement.slug]))
    assert pending_org.organisation_name in html.unescape(public.content.decode())
    assert mail.outbox[-1].to == [pending_org.email]

    # Each step is on record, with who did it.
    lead = get_user_model().objects.get(email="lead@example.net")
    moderator = get_user_model().objects.get(email="mod@example.net")
    trail = list(AuditEvent.objects.order_by("pk").values_list("action", "actor"))
    expected = [
        ("staff.create", None),
        ("account.password_reset", lead.pk),
        ("account.login", lead.pk),
        ("account.totp_activated", lead.pk),
        ("staff.invite", lead.pk),
        ("staff.join", moderator.pk),
        ("account.login", moderator.pk),
        ("account.totp_activated", moderator.pk),
        ("account.login", moderator.pk),
        ("signature.approve", moderator.pk),
        ("email.endorsement_published", None),
    ]
    assert [step for step in trail if step in expected] == expected
