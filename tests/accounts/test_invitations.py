"""Invitations: sending, accepting once, expiry, revocation; and who may invite."""

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.access import staff_role
from accounts.models import StaffInvitation, StaffRole
from accounts.services import (
    AlreadyStaff,
    InvitationExpired,
    InvitationUsed,
    staff_invitation_accept,
    staff_invite,
)
from statements.models import AuditEvent

NEW_PASSWORD = "a long and unusual passphrase 7"


def _link(message) -> str:
    return re.search(r"https?://\S+/staff/join/\S+/", message.body).group(0)


def _path(link: str) -> str:
    return urlsplit(link).path


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def test_organiser_invites_by_email(organiser_client, organiser):
    response = organiser_client.post(
        reverse("staff:invitations"), {"email": "New.Mod@Example.net", "role": "moderator"}
    )
    assert response.status_code == 302
    invitation = StaffInvitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "new.mod@example.net",
        StaffRole.MODERATOR,
        organiser,
    )
    assert invitation.expires_at - invitation.created_at == timedelta(days=3)
    [message] = mail.outbox
    assert message.to == ["new.mod@example.net"]
    link = _link(message)
    # Only the hash is kept: the database alone cannot produce a working link.
    assert invitation.token_hash == hashlib.sha256(_token(link).encode()).hexdigest()
    assert _token(link) not in str(StaffInvitation.objects.values().get())
    event = AuditEvent.objects.get(action="staff.invite")
    assert event.actor == organiser and event.data["invitation"] == invitation.pk


def test_moderators_cannot_invite(moderator_client):
    response = moderator_client.post(
        reverse("staff:invitations"), {"email": "x@example.net", "role": "organiser"}
    )
    assert response.status_code == 403
    assert not StaffInvitation.objects.exists() and mail.outbox == []


def test_accepting_creates_a_verified_account_with_the_role(client, organiser):
    staff_invite(email="mod@example.net", role="moderator", invited_by=organiser, language="en")
    link = _link(mail.outbox[0])
    page = client.get(_path(link))
    assert page.status_code == 200 and "mod@example.net" in page.content.decode()
    response = client.post(_path(link), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    user = get_user_model().objects.get(email="mod@example.net")
    assert staff_role(user) == StaffRole.MODERATOR and not user.is_staff
    assert user.check_password(NEW_PASSWORD)
    assert EmailAddress.objects.filter(user=user, verified=True, primary=True).exists()
    invitation = StaffInvitation.objects.get()
    assert invitation.accepted_user == user and invitation.accepted_at is not None
    assert AuditEvent.objects.filter(action="staff.join", actor=user).exists()
    # Works once.
    again = client.get(_path(link))
    assert again.status_code == 410


def test_an_organiser_invitation_gives_admin_access(organiser):
    staff_invite(email="org2@example.net", role="organiser", invited_by=organiser, language="en")
    user = staff_invitation_accept(token=_token(_link(mail.outbox[0])), password=NEW_PASSWORD)
    assert staff_role(user) == StaffRole.ORGANISER and user.is_staff


def test_the_link_expires(client, organiser, settings):
    staff_invite(email="late@example.net", role="moderator", invited_by=organiser, language="en")
    link = _link(mail.outbox[0])
    StaffInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(_path(link)).status_code == 410
    response = client.post(_path(link), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    with pytest.raises(InvitationExpired):
        staff_invitation_accept(token=_token(link), password=NEW_PASSWORD)
    assert not get_user_model().objects.filter(email="late@example.net").exists()


def test_the_link_lasts_as_configured(organiser, settings):
    settings.STAFF_INVITATION_MAX_AGE = timedelta(hours=1)
    sent = staff_invite(
        email="soon@example.net", role="moderator", invited_by=organiser, language="en"
    )
    invitation = sent.invitation
    assert invitation.expires_at - invitation.created_at == timedelta(hours=1)


def test_accepting_twice_is_refused(organiser):
    staff_invite(email="twice@example.net", role="moderator", invited_by=organiser, language="en")
    token = _token(_link(mail.outbox[0]))
    staff_invitation_accept(token=token, password=NEW_PASSWORD)
    with pytest.raises(InvitationUsed):
        staff_invitation_accept(token=token, password="another password 123456")


def test_a_weak_password_is_refused(client, organiser):
    staff_invite(email="weak@example.net", role="moderator", invited_by=organiser, language="en")
    path = _path(_link(mail.outbox[0]))
    response = client.post(path, {"password1": "12345678", "password2": "12345678"})
    assert response.status_code == 400
    assert not get_user_model().objects.filter(email="weak@example.net").exists()


def test_inviting_again_replaces_the_earlier_link(client, organiser):
    staff_invite(email="again@example.net", role="moderator", invited_by=organiser, language="en")
    staff_invite(email="again@example.net", role="organiser", invited_by=organiser, language="en")
    first, second = (_path(_link(m)) for m in mail.outbox)
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_revoking_stops_the_link(organiser_client, organiser, client):
    staff_invite(email="gone@example.net", role="moderator", invited_by=organiser, language="en")
    invitation = StaffInvitation.objects.get()
    organiser_client.post(reverse("staff:invitation_revoke", args=[invitation.pk]))
    assert AuditEvent.objects.filter(action="staff.invitation_revoke").exists()
    client.logout()
    assert client.get(_path(_link(mail.outbox[0]))).status_code == 410


def test_existing_staff_are_not_invited(organiser, moderator):
    with pytest.raises(AlreadyStaff):
        staff_invite(email=moderator.email, role="organiser", invited_by=organiser, language="en")


def test_a_broken_mail_server_is_reported_not_raised(organiser_client, monkeypatch):
    import smtplib

    from accounts import services

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr(services, "send_email", refuse)
    response = organiser_client.post(
        reverse("staff:invitations"), {"email": "x@example.net", "role": "moderator"}, follow=True
    )
    assert "could not be emailed" in response.content.decode()


def test_the_invitations_page_lists_staff_and_pending(organiser_client, organiser, moderator):
    staff_invite(email="wait@example.net", role="moderator", invited_by=organiser, language="en")
    body = organiser_client.get(reverse("staff:invitations")).content.decode()
    assert "wait@example.net" in body and moderator.email in body and organiser.email in body


def test_the_join_page_refuses_unknown_tokens(client):
    assert client.get(reverse("staff:join", args=["not-a-token"])).status_code == 404
