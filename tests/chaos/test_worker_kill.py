"""kill -9 the Celery worker three times while 1,000 confirmation emails are queued: every
recipient still gets one, and a duplicate appears only where a kill fell between sending and
recording — which the worker's log shows."""

import re
import time
from collections import Counter

import pytest
from django.conf import settings
from django.utils import timezone

from statements import tasks
from statements.content import load_all
from statements.models import Signature, Statement
from tests.conftest import Worker, worker_env

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(600)]

EMAILS = 1000
KILL_AFTER = (150, 400, 700)


def _queue_confirmations(count: int) -> list[int]:
    load_all()
    statement = Statement.objects.get()
    now = timezone.now()
    Signature.objects.bulk_create(
        Signature(
            statement=statement,
            kind="individual",
            state="pending",
            full_name=f"Signer {n}",
            email=f"signer{n}@example.org",
            email_key=f"signer{n}@example.org",
            country="KZ",
            consent_version=settings.PRIVACY_NOTICE_VERSION,
            consent_at=now,
            created_at=now,
            email_count=1,
        )
        for n in range(count)
    )
    ids = list(Signature.objects.values_list("pk", flat=True))
    for signature_id in ids:
        tasks.confirmation_send.delay(signature_id)
    return ids


def test_kill_9_three_times_loses_no_email(broker_url, smtp_sink, tmp_path):
    ids = _queue_confirmations(EMAILS)
    worker = Worker(
        broker_url=broker_url,
        log=tmp_path / "worker.log",
        # Unacknowledged tasks of a dead worker come back after this many seconds.
        env=worker_env(broker_url, smtp_sink.port, CELERY_VISIBILITY_TIMEOUT="5"),
    )
    worker.start()
    try:
        for threshold in KILL_AFTER:
            smtp_sink.wait_for(threshold, timeout=180)
            worker.kill()
            worker.start()
        recipients = {f"signer{n}@example.org" for n in range(EMAILS)}

        def delivered() -> set[str]:
            return {m["To"] for m in smtp_sink.messages}

        smtp_sink.wait_for(EMAILS, timeout=240)
        give_up = time.monotonic() + 120
        while delivered() != recipients and time.monotonic() < give_up:
            time.sleep(0.5)
        assert delivered() == recipients
    finally:
        worker.stop()

    assert Signature.objects.filter(pk__in=ids, confirmation_sent_at__isnull=True).count() == 0
    per_recipient = Counter(m["To"] for m in smtp_sink.messages)
    duplicates = {to: n for to, n in per_recipient.items() if n > 1}
    log = worker.log.read_text()
    attempts = Counter(re.findall(r"sending confirmation for signature (\d+)", log))
    id_of = dict(Signature.objects.values_list("email", "pk"))
    for to in duplicates:
        # Sent, then killed before the commit that records it: the log shows two attempts.
        assert attempts[str(id_of[to])] >= 2, to
    # At most the tasks in flight at each kill can be sent twice.
    assert len(duplicates) <= len(KILL_AFTER) * worker.concurrency
