"""Opening and closing signing from the staff area, without a deploy."""

from django.urls import reverse

from statements.models import AuditEvent


def test_closing_and_opening_signing(organiser_client, organiser, client, statement):
    page = organiser_client.get(reverse("staff:statements"))
    assert "Close signing" in page.content.decode()
    organiser_client.post(
        reverse("staff:statement_signing", args=[statement.pk]), {"signing_open": "0"}
    )
    statement.refresh_from_db()
    assert statement.signing_open is False
    event = AuditEvent.objects.get(action="statement.signing_closed")
    assert event.actor == organiser and event.data["statement"] == statement.pk
    counts = client.get(reverse("api:counts_json", args=[statement.slug])).json()
    assert counts["signing_open"] is False
    refused = client.post(reverse("statements:sign", args=[statement.slug]), {"kind": "individual"})
    assert refused.status_code == 403

    organiser_client.post(
        reverse("staff:statement_signing", args=[statement.pk]), {"signing_open": "1"}
    )
    statement.refresh_from_db()
    assert statement.signing_open is True
    # Asking for the state it already has changes and records nothing.
    organiser_client.post(
        reverse("staff:statement_signing", args=[statement.pk]), {"signing_open": "1"}
    )
    assert AuditEvent.objects.filter(action__startswith="statement.").count() == 2
