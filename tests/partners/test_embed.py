"""The embedded sign form: framable by the listed partners' sites alone, the same cross-site
rules and rate limits as the main form, and the referral code kept on the signature."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from statements import selectors
from statements.models import Partner, Signature, Statement
from statements.partners.selectors import signatures_by_referrer

EMBED = "/kk/embed/kazakhstan-2022/"
SIGN = "/kk/embed/kazakhstan-2022/sign/"


@pytest.fixture(autouse=True)
def _fresh_memo():
    selectors._memo.clear()
    yield
    selectors._memo.clear()


@pytest.fixture
def partner(statement):
    return Partner.objects.create(
        name="Metalworkers' Union",
        code="metal-kz",
        origins="https://metal.example.kz\nhttps://www.metal.example.kz/",
    )


def _form(**extra):
    data = {
        "kind": "individual",
        "individual-full_name": "Айгерім Бекова",
        "individual-email": "aigerim@example.kz",
        "individual-country": "KZ",
        "individual-consent": "on",
    }
    data.update(extra)
    return data


def _frame_ancestors(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(d for d in policy.split(";") if d.strip().startswith("frame-ancestors")).strip()


def test_only_the_embed_may_be_framed_and_only_by_partners(client, partner):
    inactive = Partner.objects.create(
        name="Old", code="old", origins="https://old.example.org", active=False
    )
    assert inactive
    response = client.get(EMBED + "?ref=metal-kz")
    assert response.status_code == 200
    assert _frame_ancestors(response) == (
        "frame-ancestors https://metal.example.kz https://www.metal.example.kz"
    )
    assert "X-Frame-Options" not in response
    # The rest of the policy is the site's: no inline script, nothing from elsewhere.
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert 'name="ref" value="metal-kz"' in response.text
    # Every other page keeps refusing frames.
    page = client.get("/kk/")
    assert _frame_ancestors(page) == "frame-ancestors 'none'"
    assert page["X-Frame-Options"] == "DENY"


def test_without_partners_nobody_may_frame_it(client, statement):
    response = client.get(EMBED)
    assert _frame_ancestors(response) == "frame-ancestors 'none'"


def test_the_embed_is_shared_per_language_and_code(client, partner):
    response = client.get(EMBED + "?ref=metal-kz")
    assert "public" in response["Cache-Control"]
    assert 'name="ref"' not in client.get(EMBED).text
    # An unknown code is no code: the clean address, so made-up codes make no new pages.
    unknown = client.get(EMBED + "?ref=made-up")
    assert unknown.status_code == 302 and unknown.url == EMBED


def test_signing_through_the_frame_keeps_the_referral(
    client, partner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            SIGN,
            _form(ref="metal-kz", **{"individual-wants_updates": "on"}),
            headers={"Sec-Fetch-Site": "same-origin"},
        )
    assert response.status_code == 302
    assert response.url.startswith("/kk/embed/kazakhstan-2022/thanks/?t=")
    signature = Signature.objects.get()
    assert signature.referrer == partner and signature.language == "kk"
    assert signature.wants_updates and signature.updates_consent_at is not None
    thanks = client.get(response.url)
    assert _frame_ancestors(thanks) == (
        "frame-ancestors https://metal.example.kz https://www.metal.example.kz"
    )
    assert len(mail.outbox) == 1


def test_updates_are_off_unless_asked_for(client, partner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SIGN, _form(), headers={"Sec-Fetch-Site": "same-origin"})
    signature = Signature.objects.get()
    assert not signature.wants_updates and signature.updates_consent_at is None
    assert signature.referrer is None


def test_a_cross_site_post_is_refused(client, partner):
    response = client.post(SIGN, _form(ref="metal-kz"), headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_field_errors_come_back_in_the_frame(client, partner):
    response = client.post(
        SIGN,
        _form(ref="metal-kz", **{"individual-email": "not an address"}),
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 400
    assert "Айгерім Бекова" in response.text
    assert 'name="ref" value="metal-kz"' in response.text
    assert _frame_ancestors(response).startswith("frame-ancestors https://metal.example.kz")
    assert not Signature.objects.exists()


def test_the_same_rate_limits(client, partner, settings):
    """One budget per client address, whichever form a signature comes through; a field
    error spends nothing there either."""
    settings.SIGN_RATE_IP_BURST = "2/h"
    for _ in range(3):
        mistake = _form(ref="metal-kz", **{"individual-email": "x"})
        assert (
            client.post(SIGN, mistake, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 400
        )
    main = {**_form(), "individual-email": "main@example.kz"}
    assert client.post("/kk/s/kazakhstan-2022/sign/", main).status_code == 302
    first = _form(ref="metal-kz", **{"individual-email": "first@example.kz"})
    assert client.post(SIGN, first, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 302
    response = client.post(SIGN, _form(ref="metal-kz"), headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 429
    assert 'name="ref" value="metal-kz"' in response.text
    assert _frame_ancestors(response).startswith("frame-ancestors https://metal.example.kz")
    assert set(Signature.objects.values_list("email", flat=True)) == {
        "main@example.kz",
        "first@example.kz",
    }


def test_the_referral_follows_the_signature_through_confirmation(
    client, partner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SIGN, _form(ref="metal-kz"), headers={"Sec-Fetch-Site": "same-origin"})
    # The link in the email, opened on our own site (not in the frame), and its button.
    link = re.search(r"https?://\S+(/kk/confirm/\S+/)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 200
    assert signatures_by_referrer()[0].pending == 1
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(link, headers={"Sec-Fetch-Site": "same-origin"})
    assert confirmed.status_code == 200 and 'class="share"' in confirmed.text
    signature = Signature.objects.get()
    assert signature.state == Signature.State.CONFIRMED and signature.referrer == partner
    row = signatures_by_referrer(signature.statement_id)[0]
    assert (row.code, row.counted, row.pending, row.total) == ("metal-kz", 1, 0, 1)


def test_an_unknown_code_in_the_post_attributes_nothing(
    client, partner, django_capture_on_commit_callbacks
):
    Partner.objects.create(name="Old", code="old", origins="https://old.example.org", active=False)
    selectors._memo.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for n, code in enumerate(["old", "made-up"]):
            data = _form(ref=code, **{"individual-email": f"signer{n}@example.kz"})
            client.post(SIGN, data, headers={"Sec-Fetch-Site": "same-origin"})
    assert list(Signature.objects.values_list("referrer", flat=True)) == [None, None]


def test_the_frame_closes_at_the_closing_date(client, partner, statement):
    Statement.objects.filter(pk=statement.pk).update(
        closes_at=timezone.now() - timedelta(minutes=1), updated_at=timezone.now()
    )
    selectors.forget()
    page = client.get(EMBED + "?ref=metal-kz", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "<form" not in page.text.split('id="sign"', 1)[1]
    assert "Signing closed on" in client.get("/en/embed/kazakhstan-2022/").text
    response = client.post(SIGN, _form(ref="metal-kz"), headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 403
    assert not Signature.objects.exists()
