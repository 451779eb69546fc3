"""The thanks page after signing names the address the email went to, to that signer alone:
the page with the sign POST's signed value is private (no shared cache keeps it, no cookie),
the plain address stays the page everyone shares. It says what to do if the email does not
arrive and sends it again through the outbox, rate-limited, with the same answer whether or
not the address holds a signature. Organisations read organisation wording."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.core import mail, signing
from django.test import Client

from statements import thanks
from statements.models import Signature
from tests.statements.test_signing import INDIVIDUAL, ORGANISATION, links, path_of, sign

THANKS = "/en/s/kazakhstan-2022/thanks/"


def _signed(client, data, capture) -> str:
    with capture(execute=True):
        response = sign(client, data)
    assert response.status_code == 302
    return response["Location"]


def _token(body: str) -> str:
    return re.search(r'name="t" value="([^"]+)"', body).group(1)


def _send_again(client, location: str, capture, **extra):
    token = _token(client.get(location).content.decode())
    with capture(execute=True):
        return client.post(THANKS, {"t": token}, **extra)


def test_the_signer_reads_the_address_on_a_page_of_their_own(
    client, statement, django_capture_on_commit_callbacks
):
    location = _signed(client, INDIVIDUAL, django_capture_on_commit_callbacks)
    assert location.startswith(THANKS + "?t=") and location.endswith("#")
    page = client.get(location)
    body = page.content.decode()
    assert "We have sent an email to <strong" in body and "aigerim@example.org" in body
    assert "your signature of “Stop the repression" in body
    # What to do if it does not arrive: the spam folder and the sender, the address, again.
    assert "look in your spam or junk folder for an email from noreply@localhost" in body
    assert "If it is wrong," in body and 'href="/en/s/kazakhstan-2022/#sign"' in body
    assert "Send the email again" in body
    # Never kept by a shared cache or a browser's, and no cookie.
    control = {part.strip() for part in page["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= control and "public" not in control
    assert not page.cookies and "cookie" not in page.get("Vary", "").lower()
    assert page["X-Robots-Tag"] == "noindex"
    # Someone else, at the plain address, gets the shared page, without it.
    shared = Client().get(THANKS)
    assert "public" in shared["Cache-Control"]
    assert "aigerim@example.org" not in shared.content.decode()


def test_an_organisation_reads_about_its_endorsement(
    client, statement, django_capture_on_commit_callbacks
):
    location = _signed(client, ORGANISATION, django_capture_on_commit_callbacks)
    body = unescape(client.get(location).content.decode())
    assert (
        "to confirm the endorsement of “Stop the repression of the people! For a general "
        "strike, workers' councils and self-defense committees!” on behalf of Sindicato de "
        "Trabajadores Petroleros" in body
    )
    assert "goes to a moderator, who reviews every endorsement" in body
    assert "once it is approved" in body and "your signature" not in body
    # Signing again with the right address opens the organisation's form.
    assert 'href="/en/s/kazakhstan-2022/?as=organisation#sign"' in body


@pytest.mark.parametrize(
    "token",
    [
        "made-up",
        signing.dumps(["kazakhstan-2022", "victim@example.org", "individual", "", 0]),  # no salt
        thanks.make_token(thanks.Sent("another-statement", "x@example.org", "individual")),
    ],
)
def test_a_value_the_site_did_not_make_for_this_page_shows_no_address(client, statement, token):
    page = client.get(THANKS, {"t": token})
    body = page.content.decode()
    assert page.status_code == 200 and "@example.org" not in body
    assert "Send the email again" not in body and "sign again</a> with the same address" in body
    assert "no-store" in page["Cache-Control"]


def test_the_value_expires(client, statement, settings, django_capture_on_commit_callbacks):
    location = _signed(client, INDIVIDUAL, django_capture_on_commit_callbacks)
    settings.THANKS_LINK_MAX_AGE = timedelta(seconds=-1)
    assert "aigerim@example.org" not in client.get(location).content.decode()


def test_sending_again_sends_what_signing_again_would(
    client, statement, settings, django_capture_on_commit_callbacks
):
    settings.SIGNATURE_MAX_EMAILS = 3
    location = _signed(client, INDIVIDUAL, django_capture_on_commit_callbacks)
    response = _send_again(client, location, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"].startswith(THANKS + "?t=")
    # The same link again, through the outbox.
    assert [m.subject for m in mail.outbox] == ["Please confirm your signature"] * 2
    assert links(mail.outbox[0])["confirm"] == links(mail.outbox[1])["confirm"]
    assert Signature.objects.get().emails.filter(kind="confirmation").count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "We are sending the email again to aigerim@example.org." in page

    # Once confirmed, the address hears that it has signed.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(links(mail.outbox[0])["confirm"]))
    _send_again(client, location, django_capture_on_commit_callbacks)
    assert mail.outbox[-1].subject == "You have already signed"
    # Three emails at most about one signature, however often the button is pressed.
    _send_again(client, location, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 3
    assert Signature.objects.get().state == Signature.State.CONFIRMED


def test_the_answer_is_the_same_whether_or_not_the_address_signed(
    client, statement, settings, django_capture_on_commit_callbacks
):
    """A form that only a bot fills in (the hidden field) records nothing; its signer is
    answered as everyone is, and sending again sends nothing."""
    settings.SIGN_RATE_EMAIL = "100/h"
    bot = {**INDIVIDUAL, "individual-email": "bot@example.org", "individual-nickname": "x"}
    answers = []
    for data, email in ((INDIVIDUAL, "aigerim@example.org"), (bot, "bot@example.org")):
        location = _signed(client, data, django_capture_on_commit_callbacks)
        again = _send_again(client, location, django_capture_on_commit_callbacks)
        page = client.get(again["Location"]).content.decode()
        answers.append(page.replace(_token(page), "<value>").replace(email, "<address>"))
    assert answers[0] == answers[1]
    assert Signature.objects.count() == 1
    assert [m.to for m in mail.outbox] == [["aigerim@example.org"]] * 2


def test_sending_again_spends_the_sign_forms_budgets(
    client, statement, settings, django_capture_on_commit_callbacks
):
    settings.SIGN_RATE_EMAIL = "2/h"
    location = _signed(client, INDIVIDUAL, django_capture_on_commit_callbacks)
    assert _send_again(client, location, django_capture_on_commit_callbacks).status_code == 302
    refused = _send_again(client, location, django_capture_on_commit_callbacks)
    assert refused.status_code == 429
    body = refused.content.decode()
    assert "Too many attempts" in body and "aigerim@example.org" in body
    assert "no-store" in refused["Cache-Control"]
    assert len(mail.outbox) == 2


def test_sending_again_from_another_site_is_refused(
    client, statement, django_capture_on_commit_callbacks
):
    location = _signed(client, INDIVIDUAL, django_capture_on_commit_callbacks)
    response = _send_again(
        client,
        location,
        django_capture_on_commit_callbacks,
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert len(mail.outbox) == 1


def test_an_old_page_cannot_send_again(client, statement):
    response = client.post(THANKS, {"t": "made-up"})
    assert response.status_code == 400
    assert "too old to send the email again" in response.content.decode()
    assert not mail.outbox


def test_the_framed_form_has_its_own_thanks_page(
    client, statement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/en/embed/kazakhstan-2022/sign/", INDIVIDUAL)
    location = response["Location"]
    assert location.startswith("/en/embed/kazakhstan-2022/thanks/?t=")
    body = client.get(location).content.decode()
    assert "aigerim@example.org" in body
    assert 'action="/en/embed/kazakhstan-2022/thanks/"' in body
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/en/embed/kazakhstan-2022/thanks/", {"t": _token(body)})
    assert again["Location"].startswith("/en/embed/kazakhstan-2022/thanks/?t=")
    assert len(mail.outbox) == 2
