"""An organiser sends a campaign update from the staff area: it goes through the outbox to the
signers who opted in and confirmed their address, each in their language or the original,
with a one-click unsubscribe (RFC 8058), once, and audited."""

import pytest
from django.core import mail
from django.test import Client

from statements.models import AuditEvent, Signature
from statements.outbox.models import Email
from statements.updates.models import CampaignUpdate
from tests.factories import SignatureFactory


@pytest.fixture
def signers(statement):
    make = SignatureFactory
    return {
        "kk": make(statement=statement, email="kk@example.kz", language="kk", wants_updates=True),
        "en": make(statement=statement, email="en@example.org", language="en", wants_updates=True),
        "pending": make(
            statement=statement,
            email="pending@example.org",
            wants_updates=True,
            state=Signature.State.PENDING,
        ),
        "silent": make(statement=statement, email="silent@example.org", language="kk"),
        "withdrawn": make(
            statement=statement, email="", state=Signature.State.WITHDRAWN, wants_updates=True
        ),
    }


def _draft(organiser_client, statement) -> CampaignUpdate:
    organiser_client.post(
        "/staff/updates/",
        {
            "statement": statement.pk,
            "original_language": "es",
            "subject_es": "Llegamos a mil firmas",
            "body_es": "Gracias a todas y todos.\n\n<b>Seguimos.</b>",
            "subject_kk": "Біз мың қолға жеттік",
            "body_kk": "Барлығыңызға рахмет.",
        },
    )
    return CampaignUpdate.objects.get()


def test_an_update_reaches_those_who_asked_in_their_language(
    organiser_client, statement, signers, settings, organiser, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://petition.example.org"
    update = _draft(organiser_client, statement)
    review = organiser_client.get(f"/staff/updates/{update.pk}/")
    assert review.context["total"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(f"/staff/updates/{update.pk}/send/")
    assert response.status_code == 302
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"kk@example.kz", "en@example.org"}
    kazakh, english = by_address["kk@example.kz"], by_address["en@example.org"]
    assert kazakh.subject == "Біз мың қолға жеттік"
    # No English text: the original.
    assert english.subject == "Llegamos a mil firmas"
    assert "Seguimos." in english.body
    html = english.alternatives[0].content
    assert "&lt;b&gt;Seguimos.&lt;/b&gt;" in html  # the organiser's text, escaped
    for message in (kazakh, english):
        header = message.extra_headers["List-Unsubscribe"]
        assert header.startswith("<https://petition.example.org/")
        assert "/updates/stop/" in header and header[1:-1] in message.body
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # ...beside the headers every email of the site carries.
        assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert "/kk/updates/stop/" in kazakh.extra_headers["List-Unsubscribe"]
    update.refresh_from_db()
    assert update.state == "sent" and update.recipient_count == 2
    event = AuditEvent.objects.get(action="campaign_update.sent")
    assert event.actor == organiser
    assert event.data == {"update": update.pk, "recipients": 2, "by_language": {"kk": 1, "es": 1}}
    assert set(Email.objects.values_list("state", flat=True)) == {"sent"}

    # A second press sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        organiser_client.post(f"/staff/updates/{update.pk}/send/")
    assert len(mail.outbox) == 2 and Email.objects.count() == 2

    # The header's link stops the next update, as a mail program's button would.
    link = english.extra_headers["List-Unsubscribe"][1:-1]
    path = link.removeprefix("https://petition.example.org")
    Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    mail.outbox.clear()
    second = _second_update(organiser_client, statement)
    with django_capture_on_commit_callbacks(execute=True):
        organiser_client.post(f"/staff/updates/{second.pk}/send/")
    assert [m.to for m in mail.outbox] == [["kk@example.kz"]]


def _second_update(organiser_client, statement) -> CampaignUpdate:
    organiser_client.post(
        "/staff/updates/",
        {
            "statement": statement.pk,
            "original_language": "es",
            "subject_es": "Segunda noticia",
            "body_es": "Más noticias.",
        },
    )
    return CampaignUpdate.objects.order_by("-pk").first()


def test_a_signer_who_stops_before_the_batch_leaves_gets_nothing(
    organiser_client, statement, signers, django_capture_on_commit_callbacks
):
    update = _draft(organiser_client, statement)
    # Queued, but not relayed yet (the callbacks are not run).
    with django_capture_on_commit_callbacks(execute=False):
        organiser_client.post(f"/staff/updates/{update.pk}/send/")
    Signature.objects.filter(pk=signers["en"].pk).update(wants_updates=False)
    from statements.outbox.tasks import outbox_relay

    outbox_relay.apply()
    assert [m.to for m in mail.outbox] == [["kk@example.kz"]]
    assert Email.objects.get(signature=signers["en"]).state == "cancelled"
