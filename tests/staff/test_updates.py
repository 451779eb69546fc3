"""Organisers draft a campaign update in the staff area: the original language's text is
required, others optional; a bad form saves nothing."""

from statements.models import AuditEvent
from statements.updates.models import CampaignUpdate


def _form(statement, **texts):
    data = {"statement": statement.pk, "original_language": "es"}
    data.update(texts)
    return data


def test_the_original_needs_a_text(organiser_client, statement):
    response = organiser_client.post(
        "/staff/updates/", _form(statement, subject_en="News", body_en="We reached 1000.")
    )
    assert response.status_code == 400
    assert "subject_es" in response.context["form"].errors
    # The form is filled in again, and nothing was saved.
    assert "We reached 1000." in response.text
    assert not CampaignUpdate.objects.exists()


def test_half_a_translation_is_refused(organiser_client, statement):
    response = organiser_client.post(
        "/staff/updates/",
        _form(statement, subject_es="Noticias", body_es="Llegamos a 1000.", subject_ru="Новости"),
    )
    assert response.status_code == 400
    assert "body_ru" in response.context["form"].errors
    assert not CampaignUpdate.objects.exists()


def test_a_draft_is_saved_with_its_texts(organiser_client, statement, organiser):
    response = organiser_client.post(
        "/staff/updates/",
        _form(
            statement,
            subject_es="Noticias",
            body_es="Llegamos a 1000 firmas.",
            subject_kk="Жаңалықтар",
            body_kk="Біз 1000 қолға жеттік.",
        ),
    )
    update = CampaignUpdate.objects.get()
    assert response.status_code == 302 and response.url == f"/staff/updates/{update.pk}/"
    assert update.state == "draft" and update.created_by == organiser
    assert dict(update.texts.values_list("language", "subject")) == {
        "es": "Noticias",
        "kk": "Жаңалықтар",
    }
    assert AuditEvent.objects.filter(action="campaign_update.drafted", actor=organiser).exists()


def test_moderators_cannot_send_updates(moderator_client, statement):
    assert moderator_client.get("/staff/updates/").status_code == 403
