"""The door of the staff area and the admin (accounts/access.py, accounts/admin_site.py): a
second factor before any staff page, and the admin behind the same door. Every staff URL for
every role is walked in tests/staff/test_access.py."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import StaffRole
from tests.accounts.helpers import PASSWORD, make_user, totp_code

# --- The second factor ------------------------------------------------------------------------


def test_signing_in_without_totp_leads_to_enrolment(client):
    user = make_user("enrol@example.net", role=StaffRole.MODERATOR, totp=False)
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}, follow=True
    )
    assert [url for url, _status in response.redirect_chain] == [
        reverse("staff:home"),
        reverse("mfa_activate_totp"),
    ]
    assert b"two-factor authentication" in response.content.lower()
    secret = response.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    # Recovery codes come with it, for the day the phone is lost.
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert client.get(reverse("staff:home")).status_code == 200


def test_removing_totp_closes_the_staff_area_again(moderator_client, moderator):
    Authenticator.objects.filter(user=moderator).delete()
    response = moderator_client.get(reverse("staff:queue"))
    assert response["Location"] == reverse("mfa_activate_totp")


def test_the_embedded_default_may_switch_the_requirement_off(client, settings):
    settings.STAFF_REQUIRE_MFA = False
    user = make_user("relaxed@example.net", role=StaffRole.MODERATOR, totp=False)
    client.force_login(user)
    assert client.get(reverse("staff:queue")).status_code == 200


# --- The Django admin -------------------------------------------------------------------------


def test_admin_login_goes_through_allauth(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_admin_is_for_organisers_with_totp(client, organiser, moderator, outsider):
    index = reverse("admin:index")
    client.force_login(organiser)
    assert client.get(index).status_code == 200
    login = reverse("admin:login")
    client.force_login(moderator)
    response = client.get(index)
    assert response.status_code == 302
    assert response["Location"].startswith(login)
    outsider.is_staff = True  # a stray flag does not make someone staff
    outsider.save()
    client.force_login(outsider)
    response = client.get(index)
    assert response.status_code == 302
    assert response["Location"].startswith(login)
    Authenticator.objects.filter(user=organiser).delete()
    client.force_login(organiser)
    response = client.get(index, follow=True)
    assert reverse("mfa_activate_totp") in [url for url, _status in response.redirect_chain]


@pytest.fixture
def superuser(db):
    user = make_user("root@example.net")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def test_organisers_do_not_manage_accounts_in_the_admin(client, organiser):
    client.force_login(organiser)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403


def test_a_superuser_manages_accounts_by_email_in_the_admin(client, superuser, organiser):
    client.force_login(superuser)
    changelist = client.get(reverse("admin:accounts_user_changelist"), {"q": "organiser"})
    assert changelist.status_code == 200
    assert organiser.email in changelist.content.decode()
    change = client.get(reverse("admin:accounts_user_change", args=[organiser.pk]))
    assert change.status_code == 200
    assert 'name="email"' in change.content.decode()
    assert 'name="username"' not in change.content.decode()

    add = reverse("admin:accounts_user_add")
    form = {"email": "Repair@Example.net", "usable_password": "false"}
    response = client.post(add, form)
    assert response.status_code == 302, response.content
    added = get_user_model().objects.get(email="repair@example.net")
    assert not added.has_usable_password()
    # The same address in other letters is the same account.
    response = client.post(add, {**form, "email": "REPAIR@example.net"})
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert get_user_model().objects.filter(email__iexact="repair@example.net").count() == 1
