"""The one-click stop (RFC 8058): a POST from a mail program's server, with no cookie, no
CSRF token and no browser headers, stops the updates; a GET, as a mail scanner makes, only
shows the button."""

from django.test import Client

from statements import tokens
from statements.models import AuditEvent, Signature
from tests.factories import SignatureFactory


def _opted_in(statement):
    return SignatureFactory(statement=statement, wants_updates=True, language="ru")


def test_a_get_changes_nothing(client, statement):
    signature = _opted_in(statement)
    token = tokens.make_token(signature, tokens.UNSUBSCRIBE)
    page = client.get(f"/ru/updates/stop/{token}/")
    assert page.status_code == 200 and "<form" in page.text
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]
    signature.refresh_from_db()
    assert signature.wants_updates


def test_one_click_post_needs_no_token_of_ours(statement):
    signature = _opted_in(statement)
    token = tokens.make_token(signature, tokens.UNSUBSCRIBE)
    mail_server = Client(enforce_csrf_checks=True)
    response = mail_server.post(
        f"/ru/updates/stop/{token}/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    signature.refresh_from_db()
    assert not signature.wants_updates and signature.updates_stopped_at is not None
    # The signature itself stands.
    assert signature.state == Signature.State.CONFIRMED
    event = AuditEvent.objects.get(action="campaign_update.unsubscribed")
    assert event.signature_id == signature.pk and event.actor is None
    # Again: harmless, and recorded once.
    mail_server.post(
        f"/ru/updates/stop/{token}/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert AuditEvent.objects.filter(action="campaign_update.unsubscribed").count() == 1


def test_other_links_do_not_stop_updates(client, statement):
    signature = _opted_in(statement)
    confirm_token = tokens.make_token(signature, tokens.CONFIRM)
    assert client.post(f"/ru/updates/stop/{confirm_token}/").status_code == 404
    assert client.post("/ru/updates/stop/nonsense/").status_code == 404
    signature.refresh_from_db()
    assert signature.wants_updates
