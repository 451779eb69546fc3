"""The embedded sign form: framable by the listed partners' sites alone, the same cross-site
rules and rate limits as the main form, and the referral code kept on the signature."""

import pytest
from django.core import mail

from statements import selectors
from statements.models import Partner, Signature

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
    settings.SIGN_RATE_IP_BURST = "2/m"
    same_origin = {"Sec-Fetch-Site": "same-origin"}
    # A typing mistake spends nothing; two signatures spend the client's budget.
    assert (
        client.post(SIGN, _form(**{"individual-email": "x"}), headers=same_origin).status_code
        == 400
    )
    for number in range(2):
        email = {"individual-email": f"signer-{number}@example.kz"}
        assert client.post(SIGN, _form(**email), headers=same_origin).status_code == 302
    response = client.post(SIGN, _form(ref="metal-kz"), headers=same_origin)
    assert response.status_code == 429
    assert 'name="ref" value="metal-kz"' in response.text
    assert Signature.objects.count() == 2
