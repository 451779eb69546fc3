"""The emails signers receive, read from a real SMTP server (aiosmtpd) as a mail client
would: headers, both parts, the button and the links, in the signer's language."""

import re
from email.utils import parseaddr

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.statements.test_signing import INDIVIDUAL, ORGANISATION


@pytest.fixture
def sink(smtp_mailer, settings):
    settings.CONTACT_EMAIL = "contacto@petition.example.org"
    settings.SITE_URL = "https://petition.example.org"
    return smtp_mailer


def _parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def _sign(data, language, django_capture_on_commit_callbacks):
    client = Client()
    with translation.override(language):
        sign_url = reverse("statements:sign", kwargs={"slug": "kazakhstan-2022"})
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(sign_url, data).status_code == 302
    return client


def test_confirmation_email_reads_well_on_a_phone_and_in_the_signers_language(
    statement, sink, django_capture_on_commit_callbacks
):
    _sign(INDIVIDUAL, "es", django_capture_on_commit_callbacks)
    (message,) = sink.wait_for(1)

    assert parseaddr(message["From"]) == ("Petición de solidaridad", "noreply@localhost")
    assert message["Reply-To"] == "contacto@petition.example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    text, html = _parts(message)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    # The link opens in the signer's language, whatever the browser that opens it prefers.
    confirm = re.search(r"https://petition\.example\.org/es/confirm/\S+/", text).group(0)
    # A real button: the link is a block with padding and a background, named by its action.
    button = re.search(r'<a href="([^"]+)" style="display:inline-block;[^"]*">([^<]+)</a>', html)
    assert button.group(1) == confirm and button.group(2) == "Confirmar mi firma"
    with translation.override("es"):
        path = reverse("statements:detail", kwargs={"slug": statement.slug})
    statement_url = "https://petition.example.org" + path
    assert statement_url in text and f'href="{statement_url}"' in html
    assert "contacto@petition.example.org" in text and "contacto@petition.example.org" in html
    # Opened in a browser that prefers English, the page still speaks Spanish.
    page = Client(headers={"Accept-Language": "en"}).get("/" + confirm.split("/", 3)[3])
    assert page.status_code == 200 and '<html lang="es"' in page.content.decode()


def test_an_organisation_reads_about_its_endorsement_and_the_moderator(
    statement, sink, django_capture_on_commit_callbacks
):
    _sign(ORGANISATION, "en", django_capture_on_commit_callbacks)
    (message,) = sink.wait_for(1)

    assert message["Subject"] == "Please confirm the endorsement"
    text, html = _parts(message)
    for part in (text, html):
        assert "on behalf of Sindicato de Trabajadores Petroleros" in part
        assert "A moderator reviews every endorsement before it is published" in part
        assert "your signature" not in part.lower()


def test_already_signed_says_one_true_thing(
    statement, sink, django_capture_on_commit_callbacks, client
):
    # Confirmed, then signed again: recorded, nothing more to do, and no confirm link.
    _sign(INDIVIDUAL, "en", django_capture_on_commit_callbacks)
    (first,) = sink.wait_for(1)
    confirm = re.search(r"https?://\S+/confirm/\S+/", _parts(first)[0]).group(0)
    client.post("/" + confirm.split("/", 3)[3])
    _sign(INDIVIDUAL, "en", django_capture_on_commit_callbacks)
    notice = sink.wait_for(2)[-1]

    assert notice["Subject"] == "You have already signed"
    text, html = _parts(notice)
    assert "nothing more is needed" in text and "not confirmed" not in text
    assert "/confirm/" not in text + html
