"""Signing in: password then TOTP, rate limits under the trusted-proxy rule, no sign-up."""

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse

from accounts.adapter import StaffAccountAdapter
from statements.http import client_ip
from statements.models import AuditEvent
from tests.accounts.helpers import PASSWORD, totp_code


def _sign_in(client, email, password=PASSWORD, **headers):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **headers)


def test_password_then_totp_reaches_the_staff_area(client, moderator):
    response = _sign_in(client, moderator.email)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("staff:home")).status_code == 302  # not signed in yet

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(moderator.totp_secret)})
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")
    assert client.get(reverse("staff:home")).status_code == 200
    event = AuditEvent.objects.get(action="account.login")
    assert event.actor == moderator and event.data == {"mfa": True}


def test_a_wrong_code_keeps_the_door_shut(client, moderator):
    _sign_in(client, moderator.email)
    wrong = "000000" if totp_code(moderator.totp_secret) != "000000" else "111111"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert client.get(reverse("staff:home")).status_code == 302
    assert not AuditEvent.objects.filter(action="account.login").exists()


def test_a_code_works_once(client, moderator):
    code = totp_code(moderator.totp_secret)
    _sign_in(client, moderator.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    client.logout()
    _sign_in(client, moderator.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert client.get(reverse("staff:home")).status_code == 302


def test_failed_logins_are_rate_limited_per_account(client, moderator):
    for _ in range(5):
        assert _sign_in(client, moderator.email, password="wrong password").status_code == 200
    response = _sign_in(client, moderator.email)
    assert response.status_code != 302  # even the right password waits now
    assert "mfa_authenticate" not in response.get("Location", "")


def test_failed_logins_are_limited_per_client_address_behind_the_proxy(client, moderator, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    for n in range(10):
        _sign_in(client, f"guess{n}@example.net", password="guess", **attacker)
    assert _sign_in(client, moderator.email, **attacker).status_code != 302
    # Another client behind the same proxy is not affected.
    colleague = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    response = _sign_in(client, moderator.email, **colleague)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "192.0.2.1"),  # no proxy: the header is anyone's to write
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "10.0.0.1, 203.0.113.9", "203.0.113.9"),
        (2, "203.0.113.9", "192.0.2.1"),  # too few entries: allauth's own rule would crash
    ],
)
def test_allauth_uses_the_sites_client_address_rule(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert StaffAccountAdapter(request).get_client_ip(request) == expected == client_ip(request)


def test_nobody_can_sign_up(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "walk-in@example.net", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code in {200, 403}
    assert not get_user_model().objects.filter(email="walk-in@example.net").exists()


def test_credential_changes_are_audited(client, moderator):
    _sign_in(client, moderator.email)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(moderator.totp_secret)})
    new = "an entirely new passphrase 99"
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="account.password_changed", actor=moderator).exists()


def test_staff_sign_in_works_while_the_cache_is_down(client, moderator, dead_redis_cache):
    response = _sign_in(client, moderator.email)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(moderator.totp_secret)})
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")
    assert client.get(reverse("staff:home")).status_code == 200


def test_failed_sign_ins_are_still_limited_while_the_cache_is_down(
    client, moderator, dead_redis_cache
):
    for _ in range(5):
        assert _sign_in(client, moderator.email, password="wrong password").status_code == 200
    response = _sign_in(client, moderator.email)
    assert response.status_code != 302  # counted in this process until Redis is back


def test_the_health_check_still_reports_the_cache_down(client, db, dead_redis_cache):
    client.get("/healthz")  # whatever the cache answered from memory meanwhile
    assert client.get("/healthz").json()["cache"] == "unavailable"


def test_password_reset_links_are_built_from_site_url_not_the_host_header(
    client, moderator, settings
):
    """Any port of an allowed host passes ALLOWED_HOSTS: the email must not follow it."""
    from django.core import mail

    settings.SITE_URL = "https://petition.example.org"
    response = client.post(
        reverse("account_reset_password"),
        {"email": moderator.email},
        HTTP_HOST="127.0.0.1:8401",
    )
    assert response.status_code == 302
    [message] = mail.outbox
    assert "https://petition.example.org/accounts/password/reset/key/" in message.body
    assert "127.0.0.1:8401" not in message.body + message.subject
    assert message.subject.startswith("[Solidarity petition] ")


def test_no_email_for_a_reset_asked_for_an_unknown_address(client, db):
    from django.core import mail

    response = client.post(
        reverse("account_reset_password"),
        {"email": "nobody@example.net"},
        HTTP_HOST="127.0.0.1:8401",
    )
    assert response.status_code == 302  # the same answer as for a staff address
    assert mail.outbox == []
