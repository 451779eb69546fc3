"""The batch sender against a real SMTP server (aiosmtpd): one connection per batch, each row
marked as the server accepts it, and every failure sorted and recorded."""

import queue
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from statements import tokens
from statements.content import load_all
from statements.models import Signature, Statement
from statements.outbox import compose, relay, sender
from statements.outbox.models import Email
from tests.outbox.helpers import queue_confirmations, states

SENT, QUEUED, FAILED, CANCELLED = "sent", "queued", "failed", "cancelled"


def send_due():
    claim, ids = relay.claim_batch(size=100)
    return sender.deliver_batch(claim=claim, ids=ids)


def test_a_batch_goes_over_one_connection_and_every_row_is_marked_sent(
    statement, smtp_mailer, settings
):
    settings.OUTBOX_SMTP_CONNECTIONS = 1
    emails = queue_confirmations(statement, 30)
    result = send_due()
    assert result.sent == 30
    assert smtp_mailer.connections == 1
    assert len(smtp_mailer.messages) == 30
    assert states(emails) == [SENT] * 30
    assert not Email.objects.filter(sent_at__isnull=True, state=SENT).exists()
    # Each recipient got their own name and their own working link.
    for message in smtp_mailer.messages:
        signature = Signature.objects.get(email=message["To"])
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert signature.full_name in text
        token = re.search(r"/confirm/(\S+)/", text).group(1)
        assert tokens.read_token(token, tokens.CONFIRM, timedelta(days=1)) == signature.public_id


def test_a_large_batch_goes_over_several_connections_each_row_marked_once(
    statement, smtp_mailer, settings
):
    settings.OUTBOX_SMTP_CONNECTIONS, settings.OUTBOX_EMAILS_PER_CONNECTION = 3, 10
    emails = queue_confirmations(statement, 30)
    result = send_due()
    assert result.sent == 30 and result.released == 0
    assert smtp_mailer.connections == 3
    assert states(emails) == [SENT] * 30
    assert sorted(m["To"] for m in smtp_mailer.messages) == sorted(
        e.signature.email for e in emails
    )
    # Five emails: one connection is enough.
    queue_confirmations(statement, 5)
    assert send_due().sent == 5
    assert smtp_mailer.connections == 4


def test_outcomes_waiting_together_are_marked_by_one_update_before_their_connections_go_on(
    statement, smtp_mailer, settings, monkeypatch
):
    """While the task's thread records one outcome, the others that arrive wait, and are
    then marked sent all at once; no connection sends again before its last email is marked."""
    settings.OUTBOX_SMTP_CONNECTIONS, settings.OUTBOX_EMAILS_PER_CONNECTION = 3, 1
    emails = queue_confirmations(statement, 12)
    log, lock = [], threading.Lock()
    stock_mark, stock_sender_for = sender.mark_sent, sender._sender_for

    def slow_mark(marked):
        if not any(entry[0] == "marked" for entry in log):
            time.sleep(0.3)  # the first mark is slow: the other connections' outcomes wait
        stock_mark(marked)
        with lock:
            log.append(("marked", {e.signature.email for e in marked}, len(marked)))

    def logging_sender_for(backend):
        send = stock_sender_for(backend)

        def logged(message):
            with lock:
                log.append(("sending", threading.current_thread(), message.to[0]))
            send(message)

        return logged

    monkeypatch.setattr(sender, "mark_sent", slow_mark)
    monkeypatch.setattr(sender, "_sender_for", logging_sender_for)
    updates = []

    def count_marks(execute, sql, params, many, context):
        if sql.startswith('UPDATE "outbox_email"') and "sent_at" in sql:
            updates.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_marks):
        result = send_due()
    assert result.sent == 12 and states(emails) == [SENT] * 12
    marks = [entry for entry in log if entry[0] == "marked"]
    assert len(updates) == len(marks) < 12  # one UPDATE a mark, and fewer marks than emails
    assert max(count for _m, _addresses, count in marks) > 1
    # Each connection's next email goes only once its previous one is marked.
    marked_at = {
        address: i for i, (what, *rest) in enumerate(log) if what == "marked" for address in rest[0]
    }
    last_sent: dict = {}
    for i, (what, *rest) in enumerate(log):
        if what == "sending":
            thread, address = rest
            if thread in last_sent:
                assert marked_at[last_sent[thread]] < i
            last_sent[thread] = address


def test_a_batch_over_several_connections_ends_as_soon_as_they_are_done(
    statement, smtp_mailer, settings, monkeypatch
):
    """Each connection's last word wakes the task's thread: it does not wait out a poll of
    the outcomes (0.2 s a batch) to find that all are finished."""
    settings.OUTBOX_SMTP_CONNECTIONS, settings.OUTBOX_EMAILS_PER_CONNECTION = 3, 1
    queue_confirmations(statement, 6)
    waits = []

    class Outcomes(queue.Queue):
        def get(self, block=True, timeout=None):
            try:
                item = super().get(block, timeout)
            except queue.Empty:
                if block:
                    waits.append("nothing came")
                raise
            if block:
                waits.append(item[2])
            return item

    monkeypatch.setattr(sender, "queue", SimpleNamespace(Queue=Outcomes, Empty=queue.Empty))
    assert send_due().sent == 6
    assert waits[-1] == sender.FINISHED


def test_with_several_connections_failures_are_sorted_as_with_one(statement, smtp_mailer, settings):
    settings.OUTBOX_SMTP_CONNECTIONS, settings.OUTBOX_EMAILS_PER_CONNECTION = 2, 1
    emails = queue_confirmations(statement, 6)
    smtp_mailer.refuse[emails[1].signature.email] = "550 5.1.1 no such mailbox"
    smtp_mailer.refuse[emails[4].signature.email] = "451 4.3.0 try again later"
    result = send_due()
    assert (result.sent, result.failed, result.retried) == (4, 1, 1)
    state = dict(Email.objects.values_list("pk", "state"))
    assert [state[e.pk] for e in emails] == [SENT, FAILED, SENT, SENT, QUEUED, SENT]


def test_templates_render_once_per_kind_and_language(statement, smtp_mailer, monkeypatch):
    rendered = []
    original = compose.render_email

    def counting(name, context, *, language):
        rendered.append((name, language))
        return original(name, context, language=language)

    monkeypatch.setattr(compose, "render_email", counting)
    queue_confirmations(statement, 10, language="en")
    queue_confirmations(statement, 10, language="es")
    signed_twice = queue_confirmations(statement, 3, language="en")
    for email in signed_twice:
        Email.objects.create(kind="already_signed", signature=email.signature, language="en")
    assert send_due().sent == 26
    assert sorted(rendered) == [
        ("already_signed", "en"),
        ("confirmation", "en"),
        ("confirmation", "es"),
    ]
    # The "already signed" notices went to signatures still unconfirmed: they ask for the
    # confirmation, as the confirmation emails do.
    subjects = sorted({m["Subject"] for m in smtp_mailer.messages})
    assert subjects == ["Confirma tu firma", "Please confirm your signature"]


def test_names_are_escaped_in_the_html_part_and_kept_in_the_text(statement, smtp_mailer):
    (_email,) = queue_confirmations(statement, 1, full_name="Ann <b>&</b> Bo")
    send_due()
    (message,) = smtp_mailer.messages
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Ann &lt;b&gt;&amp;&lt;/b&gt; Bo" in html and "<b>&</b>" not in html
    assert "Ann <b>&</b> Bo" in text


def test_a_permanent_refusal_is_recorded_for_moderators_and_the_rest_go(statement, smtp_mailer):
    emails = queue_confirmations(statement, 3)
    refused = emails[1].signature
    smtp_mailer.refuse[refused.email] = "550 5.1.1 no such mailbox"
    result = send_due()
    assert (result.sent, result.failed) == (2, 1)
    assert states(emails) == [SENT, FAILED, SENT]
    refused.refresh_from_db()
    assert "550" in refused.delivery_error
    assert "550" in Email.objects.get(pk=emails[1].pk).last_error
    assert smtp_mailer.connections == 1


@pytest.mark.parametrize("reply", ["451 4.3.0 local problem", "452 4.2.2 mailbox full"])
def test_a_temporary_refusal_is_retried_later_with_backoff(statement, smtp_mailer, reply):
    emails = queue_confirmations(statement, 3)
    smtp_mailer.faults = [reply]
    result = send_due()
    assert (result.sent, result.retried) == (2, 1)
    first = Email.objects.get(pk=emails[0].pk)
    assert first.state == QUEUED and first.attempts == 1 and first.claim is None
    assert reply[:3] in first.last_error
    assert timezone.now() + timedelta(seconds=3) < first.due_at
    assert first.due_at < timezone.now() + timedelta(seconds=7)
    # Not due yet: nothing to claim; once due, it goes.
    assert relay.claim_batch(size=100) is None
    Email.objects.filter(pk=first.pk).update(due_at=timezone.now())
    assert send_due().sent == 1
    assert len(smtp_mailer.messages) == 3


def test_421_closes_the_connection_and_the_batch_goes_on_over_a_new_one(statement, smtp_mailer):
    emails = queue_confirmations(statement, 4)
    smtp_mailer.faults = ["421 4.3.0 closing, try later"]
    result = send_due()
    assert (result.sent, result.retried) == (3, 1)
    assert states(emails) == [QUEUED, SENT, SENT, SENT]
    assert smtp_mailer.connections == 2


def test_a_stalled_server_times_out_and_the_batch_goes_on(statement, smtp_mailer):
    emails = queue_confirmations(statement, 3)
    smtp_mailer.faults = [2.5]  # longer than the one-second timeout
    result = send_due()
    assert (result.sent, result.retried) == (2, 1)
    assert states(emails) == [QUEUED, SENT, SENT]


def test_a_server_that_cannot_be_reached_costs_no_attempt(statement, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 1},
        }
    }
    emails = queue_confirmations(statement, 5)
    result = send_due()
    assert result.released == 5 and result.sent == 0
    rows = Email.objects.filter(pk__in=[e.pk for e in emails])
    assert {(r.state, r.attempts, r.claim) for r in rows} == {(QUEUED, 0, None)}
    # Tried again within seconds, so a server that comes back is used at once.
    assert all(r.due_at < timezone.now() + timedelta(seconds=7) for r in rows)
    assert all("connection failed" in r.last_error for r in rows)


def _first_mark_fails(failures: list) -> Callable:
    """A database wrapper under which the first UPDATE marking an email sent fails as a lost
    connection would; it records that UPDATE in `failures`."""

    def wrapper(execute, sql, params, many, context):
        if not failures and sql.startswith('UPDATE "outbox_email"') and "sent_at" in sql:
            failures.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


def test_a_database_error_stops_the_sending_and_the_outcome_is_still_recorded(
    transactional_db, smtp_mailer
):
    """In autocommit, as in a worker: each outcome is its own commit."""
    load_all()
    emails = queue_confirmations(Statement.objects.get(), 5)
    failures = []
    first_mark_fails = _first_mark_fails(failures)

    with connection.execute_wrapper(first_mark_fails):
        result = send_due()
    assert failures
    # The first email was accepted; nothing more was sent while it could not be recorded.
    assert len(smtp_mailer.messages) == 1
    assert result.database_errors == 1
    assert states(emails) == [SENT] + [QUEUED] * 4
    # The rest are free again and go with the next batch; none goes twice.
    Email.objects.filter(state=QUEUED).update(due_at=timezone.now())
    assert send_due().sent == 4
    assert sorted(m["To"] for m in smtp_mailer.messages) == sorted(
        e.signature.email for e in emails
    )


def test_a_database_error_with_several_connections_sends_no_more_and_loses_nothing(
    transactional_db, smtp_mailer, settings
):
    """Each connection finishes the message it holds; every accepted one is still marked,
    the rest go with the next batch, and none twice."""
    settings.OUTBOX_SMTP_CONNECTIONS, settings.OUTBOX_EMAILS_PER_CONNECTION = 3, 1
    load_all()
    emails = queue_confirmations(Statement.objects.get(), 12)
    failures = []
    first_mark_fails = _first_mark_fails(failures)

    with connection.execute_wrapper(first_mark_fails):
        result = send_due()
    assert failures and result.database_errors == 1
    accepted = len(smtp_mailer.messages)
    assert 1 <= accepted <= 3  # at most the message each connection held
    assert states(emails).count(SENT) == accepted  # each one marked, the owed mark too
    Email.objects.filter(state=QUEUED).update(due_at=timezone.now())
    assert send_due().sent == 12 - accepted
    assert sorted(m["To"] for m in smtp_mailer.messages) == sorted(
        e.signature.email for e in emails
    )


def test_the_time_limit_with_several_connections_gives_the_rest_back(
    statement, smtp_mailer, settings, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    settings.OUTBOX_SMTP_CONNECTIONS, settings.OUTBOX_EMAILS_PER_CONNECTION = 3, 1
    emails = queue_confirmations(statement, 12)
    stock, hits = sender.mark_sent, []

    def time_runs_out(emails):
        if not hits:
            hits.append(emails)
            raise SoftTimeLimitExceeded()
        stock(emails)

    monkeypatch.setattr(sender, "mark_sent", time_runs_out)
    result = send_due()
    assert result.stopped == "time limit"
    accepted = len(smtp_mailer.messages)
    assert accepted <= 3 and states(emails).count(SENT) == accepted
    assert result.released == 12 - accepted
    Email.objects.filter(state=QUEUED).update(due_at=timezone.now())
    assert send_due().sent == 12 - accepted
    assert len(smtp_mailer.messages) == len({m["To"] for m in smtp_mailer.messages}) == 12


def test_redelivered_batch_sends_only_what_is_not_marked(statement, smtp_mailer):
    emails = queue_confirmations(statement, 3)
    claim, ids = relay.claim_batch(size=100)
    Email.objects.filter(pk=emails[0].pk).update(state=SENT, sent_at=timezone.now())
    assert sender.deliver_batch(claim=claim, ids=ids).sent == 2
    assert sender.deliver_batch(claim=claim, ids=ids).sent == 0
    assert len(smtp_mailer.messages) == 2


def test_a_stale_batch_whose_rows_were_claimed_again_sends_nothing(statement, smtp_mailer):
    queue_confirmations(statement, 3)
    stale_claim, ids = relay.claim_batch(size=100)
    # Its message was lost: the lease runs out and the relay claims the rows again.
    Email.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    claim, same_ids = relay.claim_batch(size=100)
    assert sorted(same_ids) == sorted(ids) and claim != stale_claim
    assert sender.deliver_batch(claim=stale_claim, ids=ids).sent == 0
    assert sender.deliver_batch(claim=claim, ids=ids).sent == 3
    assert len(smtp_mailer.messages) == 3


def test_transient_failures_are_given_up_on_after_the_retry_period(
    statement, smtp_mailer, settings
):
    settings.OUTBOX_RETRY_HOURS = 24
    (email,) = queue_confirmations(statement, 1)
    Email.objects.filter(pk=email.pk).update(
        queued_at=timezone.now() - timedelta(hours=25), attempts=40
    )
    smtp_mailer.faults = ["451 4.3.0 try later"]
    send_due()
    email.refresh_from_db()
    assert email.state == FAILED
    assert "gave up after 41 attempts" in email.last_error
    email.signature.refresh_from_db()
    assert "451" in email.signature.delivery_error


def test_emails_no_longer_needed_are_cancelled_not_sent(statement, smtp_mailer):
    confirmed, withdrawn, pending = queue_confirmations(statement, 3)
    Signature.objects.filter(pk=confirmed.signature_id).update(state="confirmed")
    Signature.objects.filter(pk=withdrawn.signature_id).update(state="withdrawn", email="")
    result = send_due()
    assert (result.sent, result.cancelled) == (1, 2)
    assert states([confirmed, withdrawn, pending]) == [CANCELLED, CANCELLED, SENT]
    assert [m["To"] for m in smtp_mailer.messages] == [pending.signature.email]


def test_backoff_doubles_up_to_its_ceiling(settings):
    settings.OUTBOX_RETRY_MAX_MINUTES = 30
    delays = [sender.retry_delay(n).total_seconds() for n in range(1, 16)]
    assert 4 <= delays[0] <= 6 and 8 <= delays[1] <= 12 and 16 <= delays[2] <= 24
    assert max(delays) <= 30 * 60 * 1.2
    assert delays[-1] >= 30 * 60 * 0.8
