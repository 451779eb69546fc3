"""A mail server that refuses, stalls or goes away, under a real worker and beat: every email
is delivered exactly once or recorded as refused, and a backlog drains on its own once the
server is back."""

import time
from collections import Counter

import pytest

from statements.models import Signature
from statements.outbox.models import Email
from tests.chaos.conftest import queue_emails, start_mail_stack, unsent
from tests.conftest import wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def stack(broker_url, smtp_sink, tmp_path):
    # A one-second SMTP timeout makes a stalled server a quick, transient failure.
    stack = start_mail_stack(broker_url, smtp_sink.port, tmp_path, EMAIL_TIMEOUT="1")
    yield stack
    stack.stop()


def test_421_451_and_stalls_are_retried_until_each_email_is_delivered_once(stack, smtp_sink):
    smtp_sink.faults = [
        "421 4.3.0 try again later",
        3.0,
        "451 4.3.0 local problem",
        "421 4.7.0 too many connections",
        "452 4.2.2 mailbox full",
    ]
    ids = queue_emails(20)
    wait_until(lambda: unsent(ids) == 0, timeout=120, what="every email sent")
    time.sleep(2)  # anything sent twice would arrive now
    per_recipient = Counter(smtp_sink.delivered_to())
    assert set(per_recipient) == {f"signer{n}@example.org" for n in range(20)}
    assert set(per_recipient.values()) == {1}
    assert smtp_sink.attempts >= 25
    retried = Email.objects.filter(pk__in=ids, attempts__gt=1)
    assert retried.count() >= 4
    assert not Email.objects.filter(pk__in=ids, state="failed").exists()
    assert not Signature.objects.exclude(delivery_error="").exists()


def test_a_permanent_refusal_is_recorded_and_never_retried(stack, smtp_sink):
    smtp_sink.refuse["signer3@example.org"] = "550 5.1.1 no such mailbox"
    ids = queue_emails(10)
    wait_until(lambda: unsent(ids) == 0, timeout=60, what="every email settled")
    time.sleep(3)
    refused = Email.objects.get(signature__email="signer3@example.org")
    assert refused.state == "failed" and "550" in refused.last_error
    assert "550" in refused.signature.delivery_error
    assert sorted(smtp_sink.delivered_to()) == sorted(
        f"signer{n}@example.org" for n in range(10) if n != 3
    )
    assert smtp_sink.attempts == 10  # the refused one was tried once


def test_a_mail_server_down_for_30_seconds_is_caught_up_within_30_seconds(stack, smtp_sink):
    first = queue_emails(50, prefix="before")
    wait_until(lambda: unsent(first) == 0, timeout=60, what="the first emails sent")
    smtp_sink.stop()
    during = queue_emails(200, prefix="during")
    time.sleep(30)
    assert unsent(during) == 200  # nothing could be sent, nothing was given up on
    assert not Email.objects.filter(state="failed").exists()
    smtp_sink.start()
    back = time.monotonic()
    wait_until(lambda: unsent(during) == 0, timeout=60, what="the backlog sent")
    assert time.monotonic() - back < 30
    time.sleep(2)
    per_recipient = Counter(smtp_sink.delivered_to())
    assert len(per_recipient) == 250 and set(per_recipient.values()) == {1}
