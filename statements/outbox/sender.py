"""Send one claimed batch over one connection to the mail server, marking each email sent as
soon as the server has accepted it.

What can go wrong, and what happens:

- the server refuses one message for good (5xx to the recipient or the message): the row is
  marked failed with the reply, and a signature's `delivery_error` shows it to moderators;
- it refuses one message for now (4xx), or anything else goes wrong with that message: the
  row is tried again later, with exponential backoff, until OUTBOX_RETRY_HOURS after it was
  queued, and then recorded as failed;
- the connection cannot be made or is lost (refused, 421, a stall past EMAIL_TIMEOUT): the
  message being sent counts as an attempt, the rest of the batch is released untouched and
  tried again within seconds, so a mail server that comes back is used at once;
- the database fails: nothing more is sent (an accepted message could not be recorded); the
  marks already owed are retried until the database answers or the task's time runs out;
- the process dies: the task is delivered again with the same claim and sends what is not
  marked sent; if it never comes back, the lease runs out and the relay claims the rows anew.

So the only email that can go out twice is one the server accepted just before the process
died, before its row was marked. No row lock is held while the mail server talks: the claim
and its lease keep other senders away instead.
"""

import collections
import contextlib
import functools
import logging
import queue
import random
import smtplib
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import DatabaseError, InterfaceError, transaction
from django.db.models import F
from django.utils import timezone

from statements.emails import send_on
from statements.models import AuditEvent, Signature
from statements.outbox.compose import Draft, compose
from statements.outbox.models import Email

logger = logging.getLogger(__name__)

State = Email.State
Kind = Email.Kind

# A sender holds its rows this long and renews the hold while it works, so the rows of a
# sender that died are free again within a minute.
SEND_LEASE = timedelta(seconds=60)
RENEW_AFTER = timedelta(seconds=20)
# Rows of a batch whose connection failed wait this long (with jitter) before the next try.
SERVER_RETRY_SECONDS = 5
# How long the sender keeps trying to record outcomes while the database is away.
DATABASE_PATIENCE_SECONDS = 90
AUDIT_ENDORSEMENT_PUBLISHED = "email.endorsement_published"

ERROR_LIMIT = Email._meta.get_field("last_error").max_length


class ConnectionLost(Exception):
    """The mail server cannot be reached or dropped the connection."""


@dataclass
class BatchResult:
    taken: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    released: int = 0
    cancelled: int = 0
    database_errors: int = 0
    stopped: str = ""
    sent_ids: list[int] = field(default_factory=list)


def classify(exc: BaseException) -> tuple[str, str]:
    """("permanent" | "transient" | "connection", what to record) for an error raised while
    sending one message."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _reply in exc.recipients.values()})
        described = f"recipient refused ({', '.join(map(str, codes))})"
        if 421 in codes:
            return "connection", described
        if codes and all(500 <= code < 600 for code in codes):
            return "permanent", described
        return "transient", described
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        described = f"refused by the mail server ({code})"
        if code == 421 or isinstance(exc, (smtplib.SMTPHeloError, smtplib.SMTPConnectError)):
            return "connection", described
        if 500 <= code < 600 and isinstance(exc, smtplib.SMTPDataError):
            return "permanent", described
        # 4xx, and a refused sender address: the fault is ours or passing, not the recipient's.
        return "transient", described
    if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
        return "connection", f"connection failed ({type(exc).__name__})"
    if isinstance(exc, ValueError):
        # Django's mail backend refuses an address it cannot put on the wire.
        return "permanent", "the address cannot be used"
    return "transient", f"could not be sent ({type(exc).__name__})"


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: 5 s, 10 s, 20 s … up to OUTBOX_RETRY_MAX_MINUTES."""
    ceiling = settings.OUTBOX_RETRY_MAX_MINUTES * 60
    seconds = min(ceiling, 5 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311 - jitter only


def _gave_up(email: Email, now) -> bool:
    return now - email.queued_at > timedelta(hours=settings.OUTBOX_RETRY_HOURS)


# --- Recording outcomes (each one its own commit) ---------------------------------------------


def _record_failure(email: Email, error: str) -> None:
    with transaction.atomic():
        Email.objects.filter(pk=email.pk, state=State.QUEUED).update(
            state=State.FAILED, last_error=error[:ERROR_LIMIT], claim=None
        )
        if email.signature_id is not None:
            Signature.objects.filter(pk=email.signature_id).update(
                delivery_error=error[: Signature.LIMITS["delivery_error"]]
            )


def mark_sent(emails: list[Email]) -> None:
    """Mark emails the server accepted sent: all in one UPDATE (what several connections
    hand over at once), an endorsement's notice with its audit event."""
    now = timezone.now()
    plain = [email.pk for email in emails if email.kind != Kind.ENDORSEMENT_PUBLISHED]
    if plain:
        # Written once per process, not compiled by the ORM each time (a third of what a
        # sender spent on an email).
        connection = transaction.get_connection()
        sent_at = Email._meta.get_field("sent_at").get_db_prep_value(now, connection)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(_mark_sent_statement(None), [sent_at, plain])
            else:
                cursor.execute(_mark_sent_statement(len(plain)), [sent_at, *plain])
    for email in emails:
        if email.kind == Kind.ENDORSEMENT_PUBLISHED:
            sent = Email.objects.filter(pk=email.pk, state=State.QUEUED)
            with transaction.atomic():
                sent.update(state=State.SENT, sent_at=now, claim=None, attempts=F("attempts") + 1)
                AuditEvent.objects.create(
                    action=AUDIT_ENDORSEMENT_PUBLISHED,
                    signature_id=email.signature_id,
                    created_at=now,
                )


@functools.cache
def _mark_sent_statement(count: int | None) -> str:
    """The UPDATE of `Email.objects.filter(pk__in=…, state=QUEUED).update(state=SENT,
    sent_at=…, claim=None, attempts=F("attempts") + 1)`: for `count` ids, or for one array
    of them (None, PostgreSQL)."""
    quote = transaction.get_connection().ops.quote_name
    ids = "= ANY(%s)" if count is None else f"IN ({', '.join(['%s'] * count)})"
    return (
        f"UPDATE {quote(Email._meta.db_table)} SET state = '{State.SENT}', "  # noqa: S608
        f"sent_at = %s, claim = NULL, attempts = attempts + 1 "
        f"WHERE {quote(Email._meta.pk.column)} {ids} AND state = '{State.QUEUED}'"
    )


def mark_failed(email: Email, error: str) -> None:
    logger.warning("outbox: email %d (%s) refused for good: %s", email.pk, email.kind, error)
    _record_failure(email, error)


def mark_retry(email: Email, error: str) -> None:
    now = timezone.now()
    attempts = email.attempts + 1
    if _gave_up(email, now):
        _record_failure(email, f"gave up after {attempts} attempts: {error}")
        return
    Email.objects.filter(pk=email.pk, state=State.QUEUED).update(
        attempts=attempts,
        last_error=error[:ERROR_LIMIT],
        due_at=now + retry_delay(attempts),
        claim=None,
    )


def mark_cancelled(email: Email, reason: str) -> None:
    Email.objects.filter(pk=email.pk, state=State.QUEUED).update(
        state=State.CANCELLED, last_error=reason[:ERROR_LIMIT], claim=None
    )


def release(emails: list[Email], error: str) -> None:
    """Give rows that were not tried back for a new attempt in a few seconds."""
    if not emails:
        return
    now = timezone.now()
    expired = [email for email in emails if _gave_up(email, now)]
    for email in expired:
        _record_failure(email, f"gave up after {email.attempts} attempts: {error}")
    delay = timedelta(seconds=SERVER_RETRY_SECONDS * random.uniform(0.6, 1.2))  # noqa: S311
    Email.objects.filter(
        pk__in=[email.pk for email in emails if email not in expired], state=State.QUEUED
    ).update(claim=None, due_at=now + delay, last_error=error[:ERROR_LIMIT])


# --- The batch --------------------------------------------------------------------------------


def take(*, claim: str, ids: list[int]) -> list[Email]:
    """The rows of this claim that are still unsent, held for SEND_LEASE. A stale task (its
    rows were claimed again) gets nothing; a redelivered one gets what it had not sent."""
    # One transaction, so the rows are read where they were just updated (the primary).
    with transaction.atomic():
        held = Email.objects.filter(pk__in=ids, claim=claim, state=State.QUEUED).update(
            due_at=timezone.now() + SEND_LEASE
        )
        if not held:
            return []
        return list(
            Email.objects.filter(pk__in=ids, claim=claim, state=State.QUEUED)
            .select_related(
                "signature__statement",
                "export__statement",
                "export__requested_by",
                "campaign_update",
            )
            .order_by("pk")
        )


class _Batch:
    def __init__(self, claim: str, emails: list[Email]):
        self.claim = claim
        self.result = BatchResult(taken=len(emails))
        self.pending = list(emails)  # not yet tried
        self.owed: list = []  # outcomes not yet recorded: (function, email, *args)
        self.held_at = time.monotonic()

    def record(self, function, email: Email, *args) -> None:
        self.owed.append((function, email, *args))
        self.flush()

    def flush(self) -> None:
        """Record what is owed. A database error stops the sending, not the recording."""
        while self.owed:
            function, *args = self.owed[0]
            function(*args)
            self.owed.pop(0)

    def renew(self) -> None:
        if time.monotonic() - self.held_at < RENEW_AFTER.total_seconds():
            return
        Email.objects.filter(
            pk__in=[email.pk for email in self.pending], claim=self.claim, state=State.QUEUED
        ).update(due_at=timezone.now() + SEND_LEASE)
        self.held_at = time.monotonic()


def deliver_batch(*, claim: str, ids: list[int]) -> BatchResult:
    emails = take(claim=claim, ids=ids)
    batch = _Batch(claim, emails)
    if not emails:
        batch.result.stopped = "nothing to send"
        return batch.result
    try:
        drafts = compose(emails)
        with _commits_without_waiting_for_the_disk():
            _send_all(batch, drafts)
    except (DatabaseError, InterfaceError) as exc:
        batch.result.database_errors += 1
        batch.result.stopped = f"database error ({type(exc).__name__})"
        logger.warning("outbox: database error while sending, stopping the batch: %s", exc)
        _settle(batch, f"not sent: {batch.result.stopped}")
    return batch.result


@contextlib.contextmanager
def _commits_without_waiting_for_the_disk():
    """Each mark is its own commit, and a commit that waits for the disk costs more than
    sending the email (1.6 ms of fsync here, against a budget of 2.5 ms an email at 400 a
    second). Without the wait PostgreSQL still writes each commit within a fraction of a
    second and loses none of them to a restart or a crash of this process; only a crash of
    PostgreSQL itself can forget the marks of its last moments, whose emails would then go
    out again. The setting is the session's for the batch only."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError, InterfaceError), connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _send_all(batch: _Batch, drafts: list[Draft]) -> None:
    result = batch.result
    for draft in [d for d in drafts if d.message is None]:
        batch.pending.remove(draft.email)
        batch.record(mark_cancelled, draft.email, draft.skip_reason)
        result.cancelled += 1
    drafts = [d for d in drafts if d.message is not None]
    if not drafts:
        return
    connections = min(
        settings.OUTBOX_SMTP_CONNECTIONS,
        -(-len(drafts) // max(1, settings.OUTBOX_EMAILS_PER_CONNECTION)),
    )
    if connections > 1:
        _send_parallel(batch, drafts, connections)
        return
    backend = mailers.default
    send = _sender_for(backend)
    try:
        _open(backend)
    except ConnectionLost as lost:
        result.stopped = str(lost)
        batch.record(release, list(batch.pending), str(lost))
        result.released += len(batch.pending)
        batch.pending.clear()
        return
    try:
        for draft in drafts:
            batch.renew()
            email = draft.email
            batch.pending.remove(email)
            try:
                send(draft.message)
            except SoftTimeLimitExceeded:
                # Out of time: this one may or may not have gone; the rest wait for a task.
                result.stopped = "time limit"
                batch.record(mark_retry, email, "not sent: the task ran out of time")
                batch.record(release, list(batch.pending), "not sent: the task ran out of time")
                result.released += len(batch.pending)
                batch.pending.clear()
                return
            except Exception as exc:
                outcome, error = classify(exc)
                _record_outcome(batch, email, outcome, error)
                if outcome == "connection" and not _reconnect(backend):
                    result.stopped = error
                    batch.record(release, list(batch.pending), error)
                    result.released += len(batch.pending)
                    batch.pending.clear()
                    return
                continue
            _record_outcome(batch, email, SENT, "")
    finally:
        with contextlib.suppress(Exception):  # a broken connection is dropped either way
            backend.close()


SENT = "sent"


def _record_outcome(batch: _Batch, email: Email, outcome: str, error: str) -> None:
    """Record what became of one message: sent, refused for good, or to be tried again."""
    _owe(batch, email, outcome, error)
    batch.flush()


def _owe(batch: _Batch, email: Email, outcome: str, error: str) -> None:
    """Count an outcome and owe its record (batch.flush() writes it)."""
    result = batch.result
    if outcome == SENT:
        _owe_sent(batch, [email])
    elif outcome == "permanent":
        batch.owed.append((mark_failed, email, error))
        result.failed += 1
    else:
        batch.owed.append((mark_retry, email, error))
        result.retried += 1


def _owe_sent(batch: _Batch, emails: list[Email]) -> None:
    batch.owed.append((mark_sent, emails))
    batch.result.sent += len(emails)
    batch.result.sent_ids.extend(email.pk for email in emails)


# --- Several connections at once -------------------------------------------------------------
#
# A message costs the sender CPU (building it) and then waiting (four exchanges with the mail
# server, which spends its own time on each). With several connections the waits of one
# overlap the work of the others: each connection is a thread that sends, hands the outcome
# to the task's own thread, and waits for it to be recorded before it sends again. The task's
# thread takes every outcome waiting at once and marks those sent with one UPDATE. So the
# database is used by the task's thread alone, each row is still marked as soon as the server
# accepted it, and at most one accepted message per connection is unmarked at any moment
# (what a worker killed at that moment could send twice). Nothing is locked meanwhile: the
# claim and its lease keep other senders away, as with one connection.


# How long the task waits for a connection to finish its message once told to stop: longer
# than any exchange with the server can take (each is bounded by EMAIL_TIMEOUT).
JOIN_SECONDS = 60


class _Channel(threading.Thread):
    """One connection to the mail server, taking drafts from the batch's common queue. Its
    last word is FINISHED, so the task's thread knows at once when all are done."""

    def __init__(self, work: collections.deque, outcomes: queue.Queue, stop: threading.Event):
        super().__init__(daemon=True, name="outbox-smtp")
        self.work, self.outcomes, self.stop = work, outcomes, stop
        self.recorded = threading.Event()
        self.finished = False  # its FINISHED taken (by the task's thread)

    def run(self) -> None:
        try:
            self._deliver()
        finally:
            self.outcomes.put((self, None, FINISHED, ""))

    def _deliver(self) -> None:
        backend = mailers.default
        send = _sender_for(backend)
        try:
            _open(backend)
        except ConnectionLost as lost:
            self.outcomes.put((self, None, "connection", str(lost)))
            return
        try:
            while not self.stop.is_set():
                try:
                    draft = self.work.popleft()
                except IndexError:
                    return
                try:
                    send(draft.message)
                except Exception as exc:
                    outcome, error = classify(exc)
                else:
                    outcome, error = SENT, ""
                self.recorded.clear()
                self.outcomes.put((self, draft, outcome, error))
                self.recorded.wait()
                if outcome == "connection" and not _reconnect(backend):
                    self.outcomes.put((self, None, "connection", error))
                    return
        finally:
            with contextlib.suppress(Exception):
                backend.close()


FINISHED = "finished"


def _busy(channels: list[_Channel], outcomes: queue.Queue) -> bool:
    """Whether an outcome is waiting or may still come."""
    return not outcomes.empty() or any(c.is_alive() and not c.finished for c in channels)


def _send_parallel(batch: _Batch, drafts: list[Draft], count: int) -> None:
    result = batch.result
    work = collections.deque(drafts)
    outcomes: queue.Queue = queue.Queue()
    stop = threading.Event()
    channels = [_Channel(work, outcomes, stop) for _ in range(count)]
    for channel in channels:
        channel.start()
    stopped = ""
    try:
        while _busy(channels, outcomes):
            try:
                taken = [outcomes.get(timeout=0.2)]
            except queue.Empty:
                batch.renew()
                continue
            # With every outcome already waiting: one UPDATE marks all those sent.
            with contextlib.suppress(queue.Empty):
                while True:
                    taken.append(outcomes.get_nowait())
            stopped = _owe_all(batch, taken) or stopped
            batch.flush()
            for channel, *_outcome in taken:
                channel.recorded.set()
            batch.renew()
    except SoftTimeLimitExceeded:
        stopped = "time limit"
        _stop_channels(batch, channels, outcomes, stop)
    except BaseException:
        # The database failed (or worse): the messages in flight are finished and their
        # outcomes owed; deliver_batch records them and gives the rest back.
        _stop_channels(batch, channels, outcomes, stop)
        raise
    finally:
        stop.set()
        for channel in channels:
            channel.recorded.set()
            channel.join(JOIN_SECONDS)
    untried = [draft.email for draft in work]
    if untried:
        result.stopped = stopped or "connection lost"
        reason = "not sent: the task ran out of time" if stopped == "time limit" else result.stopped
        for email in untried:
            batch.pending.remove(email)
        batch.record(release, untried, reason)
        result.released += len(untried)


def _owe_all(batch: _Batch, taken: list) -> str:
    """Owe the outcomes of `taken` (the emails sent in one mark); what a connection that is
    gone said, if one is."""
    stopped, sent = "", []
    for channel, draft, outcome, error in taken:
        if outcome == FINISHED:
            channel.finished = True
            continue
        if draft is None:
            stopped = error  # this connection is gone; the others go on
            continue
        batch.pending.remove(draft.email)
        if outcome == SENT:
            sent.append(draft.email)
        else:
            _owe(batch, draft.email, outcome, error)
    if sent:
        _owe_sent(batch, sent)
    return stopped


def _stop_channels(batch: _Batch, channels, outcomes: queue.Queue, stop: threading.Event):
    """Let each connection finish the message it is sending, and owe its outcome."""
    stop.set()
    for channel in channels:  # those whose outcome could not be recorded
        channel.recorded.set()
    while _busy(channels, outcomes):
        try:
            taken = outcomes.get(timeout=0.2)
        except queue.Empty:
            continue
        _owe_all(batch, [taken])
        taken[0].recorded.set()


def _sender_for(backend):
    """How to send one message over `backend`'s open connection. Django's SMTP backend gets
    the shortcut of statements/emails.py (`send_on`: the sender's address prepared once per
    batch, plain recipients' without parsing); any other backend its own send_messages."""
    if not isinstance(backend, SMTPBackend):
        return lambda message: backend.send_messages([message])
    senders: dict[str, str] = {}

    def send(message) -> None:
        envelope_from = senders.get(message.from_email)
        if envelope_from is None:
            envelope_from = senders[message.from_email] = backend.prep_address(message.from_email)
        send_on(backend, message, envelope_from)

    return send


def _open(backend) -> None:
    try:
        backend.open()
    except Exception as exc:
        raise ConnectionLost(classify(exc)[1]) from exc


def _reconnect(backend) -> bool:
    """One new connection after a lost one (the server may only have dropped an idle or
    failing session); False if that fails too."""
    with contextlib.suppress(Exception):
        backend.close()
    try:
        _open(backend)
    except ConnectionLost:
        return False
    return True


def _settle(batch: _Batch, error: str) -> None:
    """After a database error: keep trying to record what was decided, and give back what
    was not tried, until the database answers or patience runs out (then the leases do)."""
    deadline = time.monotonic() + DATABASE_PATIENCE_SECONDS
    if batch.pending:
        batch.owed.append((release, list(batch.pending), error))
        batch.result.released += len(batch.pending)
        batch.pending.clear()
    pause = 0.2
    while batch.owed and time.monotonic() < deadline:
        try:
            batch.flush()
        except (DatabaseError, InterfaceError):
            batch.result.database_errors += 1
            with contextlib.suppress(Exception):
                transaction.get_connection().close()
            time.sleep(pause)
            pause = min(pause * 2, 5)
    if batch.owed:
        logger.error("outbox: %d outcomes not recorded; their leases will expire", len(batch.owed))
