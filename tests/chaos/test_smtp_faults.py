"""A mail server that refuses or stalls: transient failures are retried with backoff by the
real worker; permanent ones are recorded on the signature, where moderators see them."""

import time

import pytest
from django.utils import timezone

from statements import tasks
from statements.content import load_all
from statements.models import Signature, Statement
from tests.conftest import Worker, worker_env

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(300)]


def _pending(email: str) -> Signature:
    load_all()
    now = timezone.now()
    return Signature.objects.create(
        statement=Statement.objects.get(),
        kind="individual",
        state="pending",
        full_name="Mail Test",
        email=email,
        email_key=email,
        country="KZ",
        consent_version="test",
        consent_at=now,
    )


@pytest.fixture
def worker(broker_url, smtp_sink, tmp_path):
    # A one-second SMTP timeout makes a stalled server a quick, transient failure.
    env = worker_env(broker_url, smtp_sink.port, EMAIL_TIMEOUT="1")
    worker = Worker(broker_url=broker_url, log=tmp_path / "worker.log", env=env)
    worker.start()
    yield worker
    worker.stop()


def _wait_until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert predicate()


def test_refusals_and_stalls_are_retried_until_delivered(worker, smtp_sink):
    smtp_sink.faults = ["421 4.3.0 try again later", 3.0, "451 4.3.0 local problem"]
    signature = _pending("retry@example.org")
    tasks.confirmation_send.delay(signature.pk)
    (message,) = smtp_sink.wait_for(1, timeout=120)
    assert message["To"] == "retry@example.org"
    assert smtp_sink.attempts >= 4
    _wait_until(lambda: Signature.objects.get(pk=signature.pk).confirmation_sent_at is not None, 30)
    log = worker.log.read_text()
    assert log.count("Retry in") >= 3
    signature.refresh_from_db()
    assert signature.delivery_error == ""


def test_permanent_refusal_is_recorded_and_not_retried(worker, smtp_sink):
    smtp_sink.faults = ["550 5.1.1 no such mailbox"]
    signature = _pending("nobody@example.org")
    tasks.confirmation_send.delay(signature.pk)
    _wait_until(lambda: Signature.objects.get(pk=signature.pk).delivery_error != "", 60)
    time.sleep(3)
    assert smtp_sink.attempts == 1
    assert smtp_sink.messages == []
    signature.refresh_from_db()
    assert "550" in signature.delivery_error
    assert signature.confirmation_sent_at is None
