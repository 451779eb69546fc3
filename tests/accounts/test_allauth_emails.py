"""allauth's emails to staff name the site and link to SITE_URL, whatever host the request
named, and carry the headers of every email the site sends."""

import re

from django.core import mail
from django.urls import reverse

from accounts.models import StaffRole
from tests.accounts.helpers import make_user


def test_password_reset_email_names_the_site_and_links_to_site_url(client, settings):
    settings.SITE_URL = "https://petition.example.org"
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CONTACT_EMAIL = "contact@petition.example.org"
    make_user("lead@example.net", role=StaffRole.ORGANISER)

    response = client.post(
        reverse("account_reset_password"),
        {"email": "lead@example.net"},
        HTTP_HOST="127.0.0.1:8401",
    )

    assert response.status_code == 302
    [message] = mail.outbox
    assert message.subject.startswith("[Solidarity petition] ")
    assert "127.0.0.1" not in message.subject + message.body
    assert "Hello from Solidarity petition!" in message.body
    links = re.findall(r"https?://\S+", message.body)
    assert links and all(link.startswith("https://petition.example.org/") for link in links)
    assert message.from_email == "Solidarity petition <noreply@localhost>"
    assert message.extra_headers["Reply-To"] == "contact@petition.example.org"
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"


def test_a_configured_site_name_is_used_as_it_is(client, settings):
    settings.SITE_NAME = "Solidaridad con Kazajistán"
    make_user("lead@example.net", role=StaffRole.ORGANISER)

    client.post(reverse("account_reset_password"), {"email": "lead@example.net"})

    [message] = mail.outbox
    assert message.subject.startswith("[Solidaridad con Kazajistán] ")
    assert "Hello from Solidaridad con Kazajistán!" in message.body


def test_an_unknown_address_gets_no_email_and_the_same_answer(client):
    # Sign-up is closed, so there is nothing to offer an unknown address, and the reset form
    # must not let anyone make the site email any address. The answer does not tell the two
    # apart.
    make_user("lead@example.net", role=StaffRole.ORGANISER)
    known = client.post(reverse("account_reset_password"), {"email": "lead@example.net"})
    mail.outbox.clear()

    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.net"})

    assert mail.outbox == []
    assert (unknown.status_code, unknown.headers["Location"]) == (
        known.status_code,
        known.headers["Location"],
    )
