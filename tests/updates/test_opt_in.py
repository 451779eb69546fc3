"""Hearing about the campaign is a choice of its own on the sign form: unticked, optional,
apart from the privacy consent, recorded with its moment; signing alone asks for nothing."""

import re

import pytest

from statements.models import Signature
from tests.statements.test_signing import INDIVIDUAL, ORGANISATION, SIGN_URL


@pytest.mark.parametrize("kind", ["individual", "organisation"])
def test_the_box_is_there_unticked_and_apart_from_the_consent(client, statement, kind):
    page = client.get(f"/en/?as={kind}").content.decode()
    box = re.search(rf'<input[^>]*name="{kind}-wants_updates"[^>]*>', page).group(0)
    assert 'type="checkbox"' in box and "checked" not in box and "required" not in box
    consent = re.search(rf'<input[^>]*name="{kind}-consent"[^>]*>', page).group(0)
    assert "checked" not in consent


@pytest.mark.parametrize("data", [INDIVIDUAL, ORGANISATION], ids=["individual", "organisation"])
def test_signing_asks_for_no_news(client, statement, data):
    assert client.post(SIGN_URL, data).status_code == 302
    signature = Signature.objects.get()
    assert not signature.wants_updates and signature.updates_consent_at is None


@pytest.mark.parametrize("data", [INDIVIDUAL, ORGANISATION], ids=["individual", "organisation"])
def test_news_asked_for_is_recorded_with_its_moment(client, statement, data):
    kind = data["kind"]
    assert client.post(SIGN_URL, {**data, f"{kind}-wants_updates": "on"}).status_code == 302
    signature = Signature.objects.get()
    assert signature.wants_updates
    assert signature.updates_consent_at == signature.consent_at
    assert signature.consent_version  # the notice the signer was shown


def test_news_is_no_consent_to_sign(client, statement):
    data = {k: v for k, v in INDIVIDUAL.items() if k != "individual-consent"}
    response = client.post(SIGN_URL, {**data, "individual-wants_updates": "on"})
    assert response.status_code == 400
    assert "consent" in response.context["form"].errors
    assert not Signature.objects.exists()
