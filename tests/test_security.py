"""Security properties of every public response: headers, CSRF, redirects, oversized input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from statements.models import Signature
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL

ROOT = Path(__file__).resolve().parent.parent

PUBLIC_GETS = [
    "/",
    "/en/",
    "/en/?as=organisation",
    "/ru/s/kazakhstan-2022/",
    "/en/s/kazakhstan-2022/thanks/",
    "/en/s/kazakhstan-2022/signatories/",
    "/api/statements/kazakhstan-2022/counts.json",
    "/en/privacy/",
    "/robots.txt",
    "/sitemap.xml",
    "/healthz",
    "/en/confirm/not-a-token/",
    "/en/withdraw/not-a-token/",
    "/en/s/no-such-statement/",
    "/accounts/login/",
]


@pytest.mark.parametrize("path", PUBLIC_GETS)
def test_security_headers_on_every_response(client, statement, path):
    response = client.get(path)
    assert response.status_code < 500
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    if response["Content-Type"].startswith("text/html"):
        body = response.content.decode()
        assert " style=" not in body, "inline style attribute"
        assert "<style" not in body, "inline style element"


def test_production_settings_turn_on_hsts_and_secure_cookies():
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"HTTPS", "DEBUG"}},
        "DEBUG": "false",
        "SECRET_KEY": "s" * 60,
        "ALLOWED_HOSTS": "example.org",
        "DJANGO_SETTINGS_MODULE": "petition.settings",
    }
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    hsts, redirect, *cookies = json.loads(result.stdout)
    assert hsts >= 31536000 and redirect is True and all(cookies)


def test_hsts_header_is_sent_over_https(client, statement, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/en/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def test_public_forms_carry_no_csrf_token_and_set_no_cookie(csrf_client, statement):
    page = csrf_client.get("/en/")
    assert "csrfmiddlewaretoken" not in page.content.decode()
    assert not page.cookies
    # The sign POST is checked by Fetch Metadata instead (tests/statements/test_crossorigin.py).
    response = csrf_client.post(SIGN_URL, INDIVIDUAL, HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == 302
    assert Signature.objects.count() == 1


@pytest.mark.parametrize(
    "path", ["/i18n/setlang/", "/accounts/login/", "/admin/login/", "/staff/queue/"]
)
def test_staff_and_account_posts_keep_token_csrf(csrf_client, statement, path):
    # Even from the site's own pages: these carry Django's token.
    response = csrf_client.post(path, {"language": "en"}, HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == 403


def test_no_open_redirect_through_language_switch(client, statement):
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        response = client.post(reverse("set_language"), {"language": "en", "next": target})
        assert "evil.example" not in response.get("Location", "")


def test_no_open_redirect_through_login_next(client, statement, django_user_model):
    from allauth.account.models import EmailAddress

    user = django_user_model.objects.create_user("mod@example.org", "a long passphrase 9")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    response = client.post(
        "/accounts/login/?next=https://evil.example/",
        {"login": "mod@example.org", "password": "a long passphrase 9"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_megabyte_field_is_refused(client, statement):
    # Refused by the body size cap before any form is bound (DATA_UPLOAD_MAX_MEMORY_SIZE);
    # how fast that happens is the benchmarks' business.
    response = client.post(SIGN_URL, {**INDIVIDUAL, "individual-comment": "x" * 1_000_000})
    assert response.status_code == 413  # from its length, before the body is read
    assert Signature.objects.count() == 0


def test_names_cannot_inject_email_headers(client, statement, django_capture_on_commit_callbacks):
    from django.core import mail

    injected = {**INDIVIDUAL, "individual-full_name": "Eve\r\nBcc: victim@example.org"}
    response = client.post(SIGN_URL, injected)
    assert response.status_code == 400
    assert Signature.objects.count() == 0
    # Even a name that reached the database another way stays in the body, never a header.
    from statements.services import SignatureData, signature_create

    with django_capture_on_commit_callbacks(execute=True):
        signature_create(
            statement=statement,
            data=SignatureData(
                kind="individual",
                full_name="Eve\nBcc: victim@example.org",
                email="eve@example.org",
                country="KZ",
                language="en",
                consent_version="test",
            ),
            client_ip="127.0.0.1",
        )
    (message,) = mail.outbox
    headers = message.message()
    assert headers["Bcc"] is None
    assert "victim@example.org" not in headers["To"] and "\n" not in headers["Subject"]
