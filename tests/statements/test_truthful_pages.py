"""Every page tells the truth about what happened: withdrawing a signature marked fraudulent
erases what it says it erases, confirming a signature the moderators refused does not claim it
counts, and the privacy notice states the retention period the site runs with."""

from datetime import timedelta

import pytest
from django.core import mail

from statements.models import Signature
from statements.staff.services.moderation import signature_moderate
from tests.statements.test_signing import INDIVIDUAL, links, path_of, sign

State = Signature.State
PERSONAL = ("full_name", "email", "email_key", "city", "affiliation", "comment", "ip_hash")


@pytest.fixture
def emailed(client, statement, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert sign(client, INDIVIDUAL).status_code == 302
    return Signature.objects.get(), {k: path_of(v) for k, v in links(mail.outbox[0]).items()}


def test_withdrawing_a_fraudulent_signature_erases_it_and_says_what_is_kept(
    client, emailed, django_capture_on_commit_callbacks
):
    signature, urls = emailed
    with django_capture_on_commit_callbacks(execute=True):
        client.post(urls["confirm"])
    signature_moderate(signature_id=signature.pk, action="fraud", actor=None)
    page = client.post(urls["withdraw"]).content.decode()
    assert "Your personal data has been erased" in page
    assert "marked this signature as fraudulent" in page
    signature.refresh_from_db()
    for field in PERSONAL:
        assert getattr(signature, field) == "", field
    assert signature.state == State.FRAUDULENT and signature.withdrawn_at is not None
    # Asking again says the same and changes nothing; the confirmation link is dead.
    assert "Your personal data has been erased" in client.get(urls["withdraw"]).content.decode()
    assert client.post(urls["confirm"]).status_code == 404


@pytest.mark.parametrize("decision", ["fraud", "reject"])
def test_confirming_a_refused_signature_does_not_claim_it_counts(
    client, emailed, decision, django_capture_on_commit_callbacks
):
    signature, urls = emailed
    if decision == "reject":  # a public signature found unsuitable, then its link replayed
        with django_capture_on_commit_callbacks(execute=True):
            client.post(urls["confirm"])
    signature_moderate(signature_id=signature.pk, action=decision, actor=None, reason="spam")
    for response in (client.get(urls["confirm"]), client.post(urls["confirm"])):
        body = response.content.decode()
        assert "confirmed and counted" not in body
        assert "neither counted nor listed" in body
        assert 'name="csrfmiddlewaretoken"' not in body.split("<main", 1)[1]  # no button
    signature.refresh_from_db()
    assert signature.state in {State.FRAUDULENT, State.REJECTED}


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "not confirmed within 14 days are deleted"),
        ("es", "no se confirman en 14 días se eliminan"),
        ("ru", "не подтверждённые в течение 14 дней, удаляются"),
    ],
)
def test_the_privacy_notice_states_the_configured_retention(client, db, settings, language, text):
    settings.SIGNATURE_RETENTION = timedelta(days=14)
    body = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE=language, follow=True).content.decode()
    assert text in body  # a hard-coded period would not say 14
