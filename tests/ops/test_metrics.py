"""/metrics: internal only, with request figures by view and the site's figures."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from exports.models import SignatoryExport
from statements.models import Signature
from statements.outbox.models import Email
from tests.factories import SignatureFactory
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL

TOKEN = "metrics-token-" + "x" * 30


@pytest.fixture
def scraper():
    """Prometheus on another host, with the token."""
    return Client(REMOTE_ADDR="198.51.100.20", headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_public_gets_no_metrics(db):
    visitor = Client(REMOTE_ADDR="203.0.113.9")
    response = visitor.get("/metrics")
    assert response.status_code == 404
    assert b"petition_" not in response.content
    wrong = visitor.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 404


def test_loopback_needs_no_token(db):
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200


def test_requests_are_counted_and_timed_by_view(statement, scraper):
    before = scrape(scraper)
    visitor = Client(REMOTE_ADDR="203.0.113.9", headers={"Accept-Language": "en"})
    for _ in range(3):
        assert visitor.get("/en/").status_code == 200
    assert visitor.get("/no/such/page/").status_code == 404
    after = scrape(scraper)
    home = {"view": "statements:home", "method": "GET", "status": "200"}
    counted = value(after, "petition_http_requests_total", **home)
    assert counted - value(before, "petition_http_requests_total", **home) == 3
    missing = {"view": "unmatched", "method": "GET", "status": "404"}
    assert value(after, "petition_http_requests_total", **missing) >= 1
    timed = "petition_http_request_duration_seconds_count"
    assert (
        value(after, timed, view="statements:home") - value(before, timed, view="statements:home")
        == 3
    )
    # Labels are view names: no path (with its tokens) ever becomes a label.
    assert not any("/" in dict(labels).get("view", "") for _name, labels in after)


def test_signatures_and_emails_follow_the_sign_form(
    statement, scraper, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(SIGN_URL, INDIVIDUAL).status_code == 302
    assert len(mail.outbox) == 1  # the confirmation left (tasks run in-process here)
    waiting = SignatureFactory(
        statement=statement, state=Signature.State.PENDING, confirmed_at=None
    )
    Email.objects.create(
        kind="confirmation",
        signature=waiting,
        language="en",
        queued_at=timezone.now() - timedelta(minutes=10),
    )
    refused = SignatureFactory(statement=statement, state=Signature.State.PENDING)
    Email.objects.create(kind="confirmation", signature=refused, language="en", state="failed")
    SignatureFactory(statement=statement)
    samples = scrape(scraper)
    pending = value(samples, "petition_signatures", kind="individual", state="pending")
    assert pending == 3
    assert value(samples, "petition_signatures", kind="individual", state="confirmed") == 1
    assert value(samples, "petition_signatures", kind="organisation", state="approved") == 0
    assert value(samples, "petition_emails", state="sent") == 1
    assert value(samples, "petition_emails", state="unsent") == 1
    assert value(samples, "petition_emails", state="refused") == 1
    age = value(samples, "petition_email_oldest_unsent_age_seconds")
    assert 600 <= age < 700, age
    assert value(samples, "petition_figures_up", part="signatures") == 1


def test_export_build_times(statement, scraper):
    now = timezone.now()
    for seconds in (3, 5):
        SignatoryExport.objects.create(
            statement=statement,
            format="csv",
            state=SignatoryExport.State.DONE,
            started_at=now - timedelta(seconds=60),
            finished_at=now - timedelta(seconds=60 - seconds),
            expires_at=now + timedelta(days=7),
        )
    SignatoryExport.objects.create(
        statement=statement, format="pdf", expires_at=now + timedelta(days=7)
    )
    samples = scrape(scraper)
    assert value(samples, "petition_exports", state="done") == 2
    assert value(samples, "petition_exports", state="queued") == 1
    assert value(samples, "petition_export_recent", format="csv") == 2
    assert value(samples, "petition_export_recent_duration_seconds_sum", format="csv") == 8
    assert value(samples, "petition_export_recent_duration_seconds_max", format="csv") == 5
    assert value(samples, "petition_export_last_duration_seconds", format="csv") == 5


def test_queue_lengths_come_from_the_broker(statement, broker_url, scraper):
    from statements.tasks import counts_refresh

    for _ in range(2):
        counts_refresh.delay()
    samples = scrape(scraper)
    assert value(samples, "petition_celery_queue_length", queue="default") == 2
    assert value(samples, "petition_celery_queue_length", queue="exports") == 0


def test_a_database_outage_is_reported_not_fatal(db, scraper):
    from unittest import mock

    from django.db import connections
    from django.db.utils import OperationalError

    with mock.patch.object(
        connections["default"], "cursor", side_effect=OperationalError("refused")
    ):
        samples = scrape(scraper)
    assert value(samples, "petition_figures_up", part="signatures") == 0
    assert value(samples, "petition_figures_up", part="emails") == 0
    assert ("petition_signatures", (("kind", "individual"), ("state", "pending"))) not in samples


def test_metrics_answer_plain_http(db, scraper, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert scraper.get(reverse("metrics")).status_code == 200
