"""kill -9 the Celery worker three times while 1,000 confirmation emails go out: every
recipient still gets one. The only email that may arrive twice is one the mail server accepted
just before the kill, before its row was marked sent: at most one per SMTP connection open in a
worker process per kill.
"""

import time
from collections import Counter

import pytest
from django.conf import settings

from statements.outbox.models import Email
from tests.chaos.conftest import queue_emails, start_mail_stack, unsent
from tests.conftest import wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(600)]

EMAILS = 1000
KILL_AFTER = (150, 400, 700)


def test_kill_9_three_times_loses_no_email(broker_url, smtp_sink, tmp_path):
    ids = queue_emails(EMAILS)
    # Unacknowledged tasks of a dead worker come back after this many seconds.
    stack = start_mail_stack(broker_url, smtp_sink.port, tmp_path, CELERY_VISIBILITY_TIMEOUT="5")
    worker = stack.worker
    try:
        for threshold in KILL_AFTER:
            smtp_sink.wait_for(threshold, timeout=180)
            worker.kill()
            worker.start()
        wait_until(lambda: unsent(ids) == 0, timeout=240, what="every email sent")
        time.sleep(3)  # anything sent twice would arrive now
    finally:
        stack.stop()

    recipients = {f"signer{n}@example.org" for n in range(EMAILS)}
    per_recipient = Counter(smtp_sink.delivered_to())
    assert set(per_recipient) == recipients
    assert Email.objects.filter(pk__in=ids, state="sent").count() == EMAILS
    duplicates = {to: n for to, n in per_recipient.items() if n > 1}
    assert all(n == 2 for n in duplicates.values()), duplicates
    # At most one per SMTP connection a process had open when it was killed: each connection
    # sends nothing more until its last message is marked (statements/outbox/sender.py).
    per_kill = worker.concurrency * settings.OUTBOX_SMTP_CONNECTIONS
    assert len(duplicates) <= len(KILL_AFTER) * per_kill, duplicates
