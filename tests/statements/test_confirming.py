"""Confirming: a link opened again says it was used; an organisation reads about its
endorsement; the browser that confirmed gets a small cookie naming the statement, which the
statement page's script reads (the page itself stays the same bytes for everyone, the cookie
or not), and withdrawing takes it away."""

from html import unescape

import pytest
from django.core import mail
from django.test import Client

from statements.models import Signature
from tests.statements.test_signing import INDIVIDUAL, ORGANISATION, links, path_of, sign

COOKIE = "signed_kazakhstan-2022"


@pytest.fixture
def emailed(client, statement, django_capture_on_commit_callbacks):
    def emailed(data):
        with django_capture_on_commit_callbacks(execute=True):
            assert sign(client, data).status_code == 302
        return {name: path_of(url) for name, url in links(mail.outbox[-1]).items()}

    return emailed


def test_a_used_confirmation_link_says_so(client, emailed, django_capture_on_commit_callbacks):
    urls = emailed(INDIVIDUAL)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(urls["confirm"]).content.decode()
    assert "Thank you" in first and "used before" not in first
    for again in (Client().get(urls["confirm"]), Client().post(urls["confirm"])):
        body = again.content.decode()
        assert again.status_code == 200
        assert "<h1>Already confirmed</h1>" in body
        assert "This link was used before: the confirmation is done" in body
        assert "Your signature is confirmed and counted." in body
        assert '<form method="post">' not in body.split("<main", 1)[1]  # no second button
    assert Signature.objects.get().state == Signature.State.CONFIRMED


def test_an_organisation_confirms_its_endorsement(client, emailed):
    urls = emailed(ORGANISATION)
    asked = unescape(client.get(urls["confirm"]).content.decode())
    assert "<h1>Confirm the endorsement</h1>" in asked
    assert "on behalf of Sindicato de Trabajadores Petroleros" in asked
    done = unescape(client.post(urls["confirm"]).content.decode())
    assert "The endorsement on behalf of Sindicato de Trabajadores Petroleros is confirmed." in done
    assert "A moderator reviews every endorsement" in done and "your signature" not in done


def test_confirming_leaves_a_cookie_for_the_statement_pages_script(client, emailed):
    urls = emailed(INDIVIDUAL)
    assert COOKIE not in client.get(urls["confirm"]).cookies  # asking is not confirming
    response = client.post(urls["confirm"])
    cookie = response.cookies[COOKIE]
    assert cookie.value == "individual" and cookie["path"] == "/"
    assert cookie["max-age"] == 365 * 24 * 3600
    assert cookie["samesite"] == "Lax" and not cookie["httponly"]  # the script reads it
    assert "no-store" in response["Cache-Control"]
    # The statement page is the same bytes with the cookie or without, and says nothing of it.
    with_cookie, without = client.get("/en/"), Client().get("/en/")
    assert with_cookie.content == without.content
    assert "public" in with_cookie["Cache-Control"] and not with_cookie.cookies
    assert "cookie" not in with_cookie.get("Vary", "").lower()
    body = without.content.decode()
    assert f'data-signed-cookie="{COOKIE}"' in body and "js/signing" in body


def test_the_cookie_names_each_kind_signed_from_the_browser(client, emailed):
    urls = emailed(INDIVIDUAL)
    client.post(urls["confirm"])
    urls = emailed(ORGANISATION)
    assert client.post(urls["confirm"]).cookies[COOKIE].value == "individual.organisation"


def test_withdrawing_takes_the_cookie_away(client, emailed):
    urls = emailed(INDIVIDUAL)
    client.post(urls["confirm"])
    response = client.post(urls["withdraw"])
    assert response.cookies[COOKIE].value == "" and response.cookies[COOKIE]["max-age"] == 0


def test_a_refused_signature_leaves_no_cookie(client, emailed):
    urls = emailed(INDIVIDUAL)
    Signature.objects.update(state=Signature.State.REJECTED)
    assert COOKIE not in client.post(urls["confirm"]).cookies
