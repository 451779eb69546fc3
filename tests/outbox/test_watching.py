"""How people watch the outbox: its depth and the age of the oldest unsent email on the staff
dashboard and in the health details, and the emails that could not be delivered."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from statements.outbox.models import Email
from statements.outbox.selectors import outbox_figures
from tests.outbox.helpers import queue_confirmations


def backlog(statement):
    waiting = queue_confirmations(statement, 3)
    Email.objects.filter(pk=waiting[0].pk).update(queued_at=timezone.now() - timedelta(minutes=12))
    (refused,) = queue_confirmations(statement, 1, full_name="Refused Recipient")
    Email.objects.filter(pk=refused.pk).update(state="failed", last_error="recipient refused (550)")
    (sent,) = queue_confirmations(statement, 1)
    Email.objects.filter(pk=sent.pk).update(state="sent", sent_at=timezone.now())
    return refused


def test_figures_count_only_what_waits(statement):
    backlog(statement)
    figures = outbox_figures()
    assert (figures.queued, figures.failed) == (3, 1)
    assert 12 * 60 <= figures.oldest_age_seconds < 13 * 60


def test_health_details_give_the_outbox_figures_to_internal_callers_only(statement):
    backlog(statement)
    details = Client(REMOTE_ADDR="127.0.0.1").get("/healthz/ready").json()
    assert details["outbox"]["queued"] == 3
    assert details["outbox"]["failed"] == 1
    assert 12 * 60 <= details["outbox"]["oldest_unsent_seconds"] < 13 * 60
    public = Client(REMOTE_ADDR="203.0.113.7").get("/healthz/ready").json()
    assert public == {"status": "ok"}
