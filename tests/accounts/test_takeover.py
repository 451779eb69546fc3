"""A staff account cannot grow into another one.

The attack: a moderator adds the address an organiser invitation was sent to as a second
address of their own account (/accounts/email/), the invitee accepts through the emailed link,
and the invitation lands on the moderator's account: promoted, reactivated, and given the
invitee's password. An invitation only ever creates the new account it was sent for; staff
cannot add addresses; the second factor cannot be switched off while it is required.
"""

import re
import time
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.access import staff_role
from accounts.models import StaffInvitation, StaffRole
from statements.models import AuditEvent
from tests.accounts.helpers import PASSWORD, make_user, totp_code

INVITEE = "newcomer@example.net"
INVITEE_PASSWORD = "the invitee's own passphrase 31"
PASSWORDS = {"password1": INVITEE_PASSWORD, "password2": INVITEE_PASSWORD}


def _invite(organiser_client, email=INVITEE, role="organiser"):
    response = organiser_client.post(reverse("staff:invitations"), {"email": email, "role": role})
    assert response.status_code == 302, response.content
    [message] = [m for m in mail.outbox if m.to == [email]]
    return urlsplit(re.search(r"https?://\S+/staff/join/\S+/", message.body).group(0)).path


def _sign_in(client, user):
    """Password, then the TOTP code, through allauth's pages."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(user.totp_secret)})
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")


def test_a_moderator_adding_the_invitees_address_is_not_promoted(
    client, organiser, moderator, django_user_model
):
    organiser_client = Client(headers={"Accept-Language": "en"})
    organiser_client.force_login(organiser)
    join_path = _invite(organiser_client)

    # The moderator tries to add the invitee's address to their own account, as a person
    # would: through the email page, signed in with password and TOTP.
    _sign_in(client, moderator)
    page = client.get(reverse("account_email"))
    assert page.status_code == 200
    assert 'name="action_add"' not in page.content.decode()  # not offered
    response = client.post(reverse("account_email"), {"email": INVITEE, "action_add": ""})
    assert response.status_code == 200  # the form again, with its error
    assert "Staff accounts keep the address they were invited with" in response.content.decode()
    assert not EmailAddress.objects.filter(email__iexact=INVITEE).exists()
    assert not [m for m in mail.outbox if m.to == [INVITEE] and "join" not in m.body]
    client.logout()

    # The invitee accepts through the link in their email.
    invitee = Client(headers={"Accept-Language": "en"})
    response = invitee.post(join_path, PASSWORDS)
    assert response.status_code == 302

    moderator.refresh_from_db()
    assert staff_role(moderator) == StaffRole.MODERATOR and not moderator.is_staff
    assert moderator.check_password(PASSWORD) and not moderator.check_password(INVITEE_PASSWORD)
    new = django_user_model.objects.get(email=INVITEE)
    assert new.pk != moderator.pk and staff_role(new) == StaffRole.ORGANISER
    assert StaffInvitation.objects.get().accepted_user == new


@pytest.mark.parametrize(
    ("primary", "verified"), [(False, False), (False, True), (True, False), (True, True)]
)
def test_an_invitation_whose_address_belongs_to_an_account_is_refused_with_a_clear_page(
    client, organiser, moderator, primary, verified
):
    """Whatever way the address came to belong to an account (added before staff were
    stopped from adding addresses, or given to someone since the invitation left), the link
    creates nothing and touches nothing, and says why."""
    organiser_client = Client(headers={"Accept-Language": "en"})
    organiser_client.force_login(organiser)
    join_path = _invite(organiser_client)
    if primary:
        EmailAddress.objects.filter(user=moderator).update(primary=False)
    EmailAddress.objects.create(user=moderator, email=INVITEE, primary=primary, verified=verified)
    moderator.is_active = False
    moderator.save(update_fields=["is_active"])

    page = client.get(join_path)
    assert page.status_code == 409
    body = page.content.decode()
    assert "already belongs to an account" in body and 'name="password1"' not in body
    response = client.post(join_path, PASSWORDS)
    assert response.status_code == 409

    moderator.refresh_from_db()
    assert not moderator.is_active and staff_role(moderator) is None  # still deactivated
    assert moderator.groups.filter(name="moderators").exists()
    assert moderator.check_password(PASSWORD)
    assert get_user_model().objects.count() == 2  # the organiser and the moderator only
    invitation = StaffInvitation.objects.get()
    assert invitation.accepted_at is None and invitation.accepted_user is None
    assert AuditEvent.objects.filter(
        action="staff.join_refused", data__invitation=invitation.pk
    ).exists()


@pytest.mark.parametrize("how", ["primary", "secondary unverified", "user email only"])
def test_organisers_cannot_invite_an_address_that_belongs_to_an_account(
    organiser_client, outsider, how
):
    if how == "secondary unverified":
        EmailAddress.objects.create(user=outsider, email="Second@Example.net")
        address = "second@example.net"
    elif how == "user email only":
        EmailAddress.objects.filter(user=outsider).delete()
        address = outsider.email.upper()
    else:
        address = outsider.email
    response = organiser_client.post(
        reverse("staff:invitations"), {"email": address, "role": "organiser"}
    )
    assert response.status_code == 400
    assert "already belongs to an account" in response.content.decode()
    assert not StaffInvitation.objects.exists() and mail.outbox == []


def _wrong_code(user) -> str:
    """A code no window around now accepts."""
    valid = {totp_code(user.totp_secret, at=time.time() + d) for d in (-60, -30, 0, 30, 60)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def _reauthenticate_with_password(client):
    """allauth asks for the password again before a security change, and accepts it alone."""
    response = client.get(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302 and "/reauthenticate/" in response["Location"]
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_deactivate_totp")


def test_staff_cannot_switch_off_their_second_factor(client, moderator):
    _sign_in(client, moderator)
    _reauthenticate_with_password(client)
    page = client.get(reverse("mfa_deactivate_totp"))
    assert page.status_code == 200
    response = client.post(
        reverse("mfa_deactivate_totp"), {"code": totp_code(moderator.totp_secret)}
    )
    assert response.status_code == 200  # refused, with the reason
    assert "required for staff" in response.content.decode()
    assert Authenticator.objects.filter(user=moderator, type=Authenticator.Type.TOTP).exists()


def test_where_the_second_factor_is_optional_switching_it_off_needs_a_current_code(
    client, settings
):
    settings.STAFF_REQUIRE_MFA = False
    user = make_user("optional@example.net", role=StaffRole.MODERATOR)
    _sign_in(client, user)
    _reauthenticate_with_password(client)
    response = client.post(reverse("mfa_deactivate_totp"), {})
    assert response.status_code == 200
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    response = client.post(reverse("mfa_deactivate_totp"), {"code": _wrong_code(user)})
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    # A code not used before (the sign-in spent the current one): the next window's.
    response = client.post(
        reverse("mfa_deactivate_totp"),
        {"code": totp_code(user.totp_secret, at=time.time() + 30)},
    )
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_createstaff_gives_a_role_only_to_the_account_whose_own_address_it_is(outsider):
    from io import StringIO

    from django.core.management import CommandError, call_command

    EmailAddress.objects.create(user=outsider, email="extra@example.net", verified=True)
    with pytest.raises(CommandError, match="further address of another account"):
        call_command("createstaff", "extra@example.net", "--role", "organiser", stdout=StringIO())
    outsider.refresh_from_db()
    assert staff_role(outsider) is None and not outsider.is_staff
    assert not get_user_model().objects.filter(email="extra@example.net").exists()
    # Its own address is fine: the operator restores or re-roles that account.
    call_command("createstaff", outsider.email, "--role", "moderator", stdout=StringIO())
    outsider.refresh_from_db()
    assert staff_role(outsider) == StaffRole.MODERATOR
