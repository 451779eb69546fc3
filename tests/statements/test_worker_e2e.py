"""End to end on real parts: a Celery worker process consuming from Redis delivers the
confirmation to an SMTP server, and the link in that email confirms the signature."""

import re
import time

import pytest
import redis
from django.test import Client

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
    wait_until(lambda: signature.emails.get().state == "sent")
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
    wait_until(lambda: Signature.objects.get().emails.filter(state="sent").count() == 2)
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


def test_an_email_queued_while_all_is_well_leaves_within_two_seconds(celery_worker, smtp_sink):
    """Beat's tick runs the relay every second; the worker sends what it hands over."""
    load_all()
    client = Client()
    assert (
        client.post(SIGN_URL, {**INDIVIDUAL, "individual-email": "warm@example.org"}).status_code
        == 302
    )
    smtp_sink.wait_for(1, timeout=60)  # the worker and beat are up and warm
    for n in range(3):
        signed_at = time.monotonic()
        data = {**INDIVIDUAL, "individual-email": f"prompt{n}@example.org"}
        assert client.post(SIGN_URL, data).status_code == 302
        smtp_sink.wait_for(n + 2, timeout=10)
        assert time.monotonic() - signed_at < 2.0
    assert [m["To"] for m in smtp_sink.messages][1:] == [f"prompt{n}@example.org" for n in range(3)]


def test_emails_signed_while_the_broker_was_down_leave_once_it_is_back(celery_worker, smtp_sink):
    """The sign POST never talks to the broker: with it unreachable the signature and its
    email are stored as usual, and the relay hands the email over once the broker answers."""
    load_all()
    client = Client()
    data = {**INDIVIDUAL, "individual-email": "offline@example.org"}
    redis.Redis.from_url(celery_worker.broker_url).flushdb()
    use_broker("redis://127.0.0.1:1/0", eager=False)
    try:
        assert client.post(SIGN_URL, data).status_code == 302
    finally:
        use_broker(celery_worker.broker_url, eager=False)
    (message,) = smtp_sink.wait_for(1)
    assert message["To"] == "offline@example.org"
    wait_until(lambda: Signature.objects.get().emails.get().state == "sent")
