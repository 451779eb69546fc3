"""Cross-site protection of the anonymous forms (sign, confirm, withdraw) by Fetch Metadata:
refused when the browser says the form came from another site, accepted from the site itself
and from clients that send neither header; a refusal writes nothing."""

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import RequestFactory

from statements import tokens
from statements.crossorigin import cross_site_reason, origin_trusted, refuse_cross_site
from statements.models import Signature
from tests.factories import SignatureFactory
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL

SITE = "https://petition.example.org"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.CSRF_TRUSTED_ORIGINS = [SITE, "https://www.petition.example.org"]


def _headers(site: str | None, origin: str | None) -> dict:
    headers = {}
    if site is not None:
        headers["HTTP_SEC_FETCH_SITE"] = site
    if origin is not None:
        headers["HTTP_ORIGIN"] = origin
    return headers


REFUSED = [
    ("cross-site", None),
    ("same-site", None),
    ("cross-site", SITE),  # the browser's word for where it comes from wins over Origin
    ("same-site", SITE),
    ("something-new", None),
    (None, "https://evil.example"),
    (None, "null"),
    (None, "http://petition.example.org"),  # another scheme is another origin
    (None, "https://petition.example.org:8443"),  # and so is another port
    (None, "https://evil.petition.example.org"),
]
ACCEPTED = [
    ("same-origin", None),
    ("same-origin", SITE),
    ("same-origin", "https://evil.example"),  # Origin is only the fallback
    ("none", None),  # typed or bookmarked by the visitor
    (None, SITE),
    (None, "https://www.petition.example.org"),  # CSRF_TRUSTED_ORIGINS
    (None, "HTTPS://Petition.Example.org"),
    (None, None),  # curl, very old browsers
]


@pytest.mark.parametrize(("site", "origin"), REFUSED)
def test_cross_site_signing_is_refused_and_writes_nothing(
    client, statement, django_capture_on_commit_callbacks, site, origin
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SIGN_URL, INDIVIDUAL, **_headers(site, origin))
    assert response.status_code == 403
    assert "Form sent from another site" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert Signature.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize(("site", "origin"), ACCEPTED)
def test_same_origin_and_header_less_signing_is_accepted(
    client, statement, django_capture_on_commit_callbacks, site, origin
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SIGN_URL, INDIVIDUAL, **_headers(site, origin))
    assert response.status_code == 302
    assert Signature.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.fixture
def pending(statement):
    return SignatureFactory(statement=statement, state=Signature.State.PENDING)


@pytest.mark.parametrize(("site", "origin"), REFUSED)
def test_cross_site_confirmation_and_withdrawal_are_refused(client, pending, site, origin):
    for action in (tokens.CONFIRM, tokens.WITHDRAW):
        path = f"/en/{action}/{tokens.make_token(pending, action)}/"
        response = client.post(path, **_headers(site, origin))
        assert response.status_code == 403
        pending.refresh_from_db()
        assert pending.state == Signature.State.PENDING and pending.email


@pytest.mark.parametrize(("site", "origin"), ACCEPTED)
def test_same_origin_confirmation_and_withdrawal_are_accepted(client, pending, site, origin):
    confirm = f"/en/confirm/{tokens.make_token(pending, tokens.CONFIRM)}/"
    assert client.post(confirm, **_headers(site, origin)).status_code == 200
    pending.refresh_from_db()
    assert pending.state == Signature.State.CONFIRMED
    withdraw = f"/en/withdraw/{tokens.make_token(pending, tokens.WITHDRAW)}/"
    assert client.post(withdraw, **_headers(site, origin)).status_code == 200
    pending.refresh_from_db()
    assert pending.state == Signature.State.WITHDRAWN


def test_links_from_other_sites_still_open_the_pages(client, pending):
    """Only writes are checked: a GET from another site (a shared link) is a visit."""
    confirm = f"/en/confirm/{tokens.make_token(pending, tokens.CONFIRM)}/"
    response = client.get(confirm, HTTP_SEC_FETCH_SITE="cross-site")
    assert response.status_code == 200
    assert client.get("/en/", HTTP_SEC_FETCH_SITE="cross-site").status_code == 200


# --- The check itself, without a view ---------------------------------------------------------


@pytest.mark.parametrize(("site", "origin"), REFUSED)
def test_reason_given_for_each_refused_combination(site, origin):
    request = RequestFactory().post("/", **_headers(site, origin))
    assert cross_site_reason(request) == ("Sec-Fetch-Site" if site else "Origin")


@pytest.mark.parametrize(("site", "origin"), ACCEPTED)
def test_no_reason_for_accepted_combinations(site, origin):
    request = RequestFactory().post("/", **_headers(site, origin))
    assert cross_site_reason(request) is None


def test_trusted_origins_may_name_subdomains(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.net"]
    assert origin_trusted("https://shop.example.net")
    assert not origin_trusted("http://shop.example.net")
    assert not origin_trusted("https://example.net.evil.example")
    assert origin_trusted(SITE)


def test_the_decorator_runs_no_view_for_a_refused_request(rf, statement):
    calls = []

    @refuse_cross_site
    def view(request):
        calls.append(request.method)
        return HttpResponse("done")

    refused = view(rf.post("/", HTTP_SEC_FETCH_SITE="cross-site"))
    assert refused.status_code == 403 and calls == []
    assert view(rf.get("/", HTTP_SEC_FETCH_SITE="cross-site")).status_code == 200
    assert view(rf.post("/", HTTP_SEC_FETCH_SITE="same-origin")).status_code == 200
    assert calls == ["GET", "POST"]
    # In place of Django's token check, not in addition to it.
    assert view.csrf_exempt is True


def test_a_refusal_is_logged_without_the_address(client, pending, caplog):
    path = f"/en/confirm/{tokens.make_token(pending, tokens.CONFIRM)}/"
    client.post(path, HTTP_SEC_FETCH_SITE="cross-site")
    (record,) = [r for r in caplog.records if r.name == "statements.crossorigin"]
    # The address holds the confirmation token: it is not logged.
    assert record.getMessage() == "refused a cross-site POST (Sec-Fetch-Site)"
