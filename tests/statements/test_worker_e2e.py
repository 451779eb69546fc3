"""End to end on real parts: a Celery worker process consuming from Redis delivers the
confirmation to an SMTP server, and the link in that email confirms the signature."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from statements import tasks
from statements.content import load_all
from statements.models import Signature
from tests.conftest import use_broker, wait_until
from tests.statements.test_signing import INDIVIDUAL, ORGANISATION, SIGN_URL

pytestmark = pytest.mark.slow


def _link(message, action: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    url = re.search(rf"https?://\S+/{action}/\S+/", text).group(0)
    return "/" + url.split("/", 3)[3]


def test_worker_delivers_and_the_emailed_link_confirms(celery_worker, smtp_sink):
    load_all()
    client = Client()
    assert client.post(SIGN_URL, INDIVIDUAL).status_code == 302
    (message,) = smtp_sink.wait_for(1)
    assert message["To"] == INDIVIDUAL["individual-email"]
    assert message["Subject"] == "Please confirm your signature"
    assert message.is_multipart()
    assert message.get_body(preferencelist=("html",)) is not None

    confirm = _link(message, "confirm")
    assert client.get(confirm).status_code == 200
    assert Signature.objects.get().state == Signature.State.PENDING
    assert client.post(confirm).status_code == 200
    signature = Signature.objects.get()
    assert signature.state == Signature.State.CONFIRMED
    # The worker records the sending just after the SMTP server has the message.
    wait_until(lambda: Signature.objects.get().confirmation_sent_at is not None)
    counts = client.get("/api/statements/kazakhstan-2022/counts.json").json()
    assert counts["individuals"] == 1
    listing = client.get("/en/s/kazakhstan-2022/signatories/").content.decode()
    assert INDIVIDUAL["individual-full_name"] in listing


def test_organisation_and_duplicate_through_the_worker(celery_worker, smtp_sink):
    load_all()
    # The browser prefers English, but the page is the Spanish one.
    client = Client(headers={"Accept-Language": "en"})
    spanish = SIGN_URL.replace("/en/", "/es/")
    client.post(spanish, ORGANISATION)
    smtp_sink.wait_for(1)
    # Before confirming, signing again sends a fresh link; once confirmed, a notice.
    client.post(spanish, ORGANISATION)
    fresh = smtp_sink.wait_for(2)[-1]
    wait_until(lambda: Signature.objects.get().confirmation_sent_at is not None)
    assert client.post(_link(fresh, "confirm")).status_code == 200
    client.post(spanish, ORGANISATION)
    messages = smtp_sink.wait_for(3)
    # Signed from a Spanish page: the emails are in Spanish.
    assert [m["Subject"] for m in messages] == [
        "Confirma tu firma",
        "Confirma tu firma",
        "Tu firma ya está registrada",
    ]
    assert Signature.objects.count() == 1


def test_sweeper_recovers_signatures_made_while_the_broker_was_down(celery_worker, smtp_sink):
    load_all()
    use_broker("redis://127.0.0.1:1/0", eager=False)
    client = Client()
    data = {**INDIVIDUAL, "individual-email": "offline@example.org"}
    assert client.post(SIGN_URL, data).status_code == 302
    signature = Signature.objects.get()
    assert signature.confirmation_sent_at is None

    use_broker(celery_worker.broker_url, eager=False)
    Signature.objects.filter(pk=signature.pk).update(
        created_at=timezone.now() - timedelta(minutes=15)
    )
    tasks.confirmation_sweep.delay()
    (message,) = smtp_sink.wait_for(1)
    assert message["To"] == "offline@example.org"
    wait_until(lambda: Signature.objects.get().confirmation_sent_at is not None)
