"""The relay: claims due outbox rows in batches and hands each batch to the broker.

How it wakes up: Celery beat runs `outbox_relay` every second (petition/settings.py), and
in the embedded default (eager tasks, no beat) the transaction that queues an email runs it
once it has committed. Considered and not chosen:

- PostgreSQL LISTEN/NOTIFY: a transaction that notifies takes a database-wide lock at
  commit and holds it until its commit is durable (notifications are queued in commit
  order), so every sign POST would wait for the one before it to reach the disk. A relay that
  polls an empty partial index once a second costs the database nothing measurable.
- A loop inside the worker's main process: it would open database connections in the
  process that forks the pool, whose children would inherit them.

So an email queued while everything is healthy waits at most a second for the next tick,
then one task's pick-up and one SMTP exchange.

Claiming is `SELECT … FOR UPDATE SKIP LOCKED`, then an UPDATE that sets a fresh claim and
moves `due_at` forward by a lease, then commit: two relays never claim the same row, and
nothing stays locked while the broker or a mail server is being talked to. If handing a
batch over fails (the broker is down), the claim is released at once; if the task is lost
later, the lease runs out and the rows are claimed again. On SQLite, which has no row
locks, the claim UPDATE is conditional on the row still being unclaimed, and SQLite runs
one writer at a time, so the outcome is the same.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from statements.outbox.models import Email, Handoff

logger = logging.getLogger(__name__)

State = Email.State

# A batch: (claim, row ids). Handed to a task as its arguments: keys and a random token,
# never personal data.
Batch = tuple[str, list[int]]


@dataclass
class RelayResult:
    batches: int = 0
    emails: int = 0
    handoffs: int = 0
    refused_by_broker: bool = False


def claim_lease() -> timedelta:
    """How long a claimed batch may wait in the broker before its rows are due again."""
    return timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)


def in_flight(now=None) -> int:
    """Rows claimed and not yet sent: waiting in the broker or being sent."""
    now = now or timezone.now()
    return Email.objects.filter(state=State.QUEUED, claim__isnull=False, due_at__gt=now).count()


def claim_batch(*, size: int, now=None) -> Batch | None:
    """Claim up to `size` due emails, oldest due first. Returns None when none is due."""
    now = now or timezone.now()
    claim = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            Email.objects.filter(state=State.QUEUED, due_at__lte=now)
            .order_by("due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return None
        claimed = Email.objects.filter(pk__in=ids, state=State.QUEUED, due_at__lte=now).update(
            claim=claim, due_at=now + claim_lease()
        )
    if not claimed:  # another relay on a database without row locks got there first
        return None
    return str(claim), ids


def release(claim: str) -> int:
    """Make a claimed batch due again at once (its hand-over failed)."""
    return Email.objects.filter(claim=claim, state=State.QUEUED).update(
        claim=None, due_at=timezone.now()
    )


def relay(
    *,
    send: Callable[[str, list[int]], object],
    build_export: Callable[[str, str], object] | None = None,
    max_batches: int | None = None,
) -> RelayResult:
    """Claim due work and hand it over: each email batch to `send(claim, ids)`, each export
    to `build_export(export_id, claim)`. At most OUTBOX_MAX_IN_FLIGHT emails are claimed and
    unsent at any time, so the broker's queue stays short and a claim's lease outlasts its
    wait there; the rest wait in the table, where they cost nothing."""
    result = RelayResult()
    if build_export is not None:
        result.handoffs = _relay_handoffs(build_export, result)
        if result.refused_by_broker:
            return result
    size = settings.OUTBOX_BATCH_SIZE
    room = settings.OUTBOX_MAX_IN_FLIGHT - in_flight()
    limit = max_batches if max_batches is not None else max(0, room) // size + 1
    while result.batches < limit and room > 0:
        batch = claim_batch(size=min(size, room))
        if batch is None:
            break
        claim, ids = batch
        try:
            send(claim, ids)
        except Exception as exc:
            # The broker is unreachable: the rows are due again for the next tick.
            release(claim)
            result.refused_by_broker = True
            logger.warning("outbox: could not hand a batch to the broker: %s", type(exc).__name__)
            break
        result.batches += 1
        result.emails += len(ids)
        room -= len(ids)
    return result


# --- Hand-offs of background work -------------------------------------------------------------

# A build waits in the exports queue behind the builds before it, which take minutes each;
# it is handed over again only if it has not started by then (its message was lost).
HANDOFF_LEASE = timedelta(minutes=15)


def claim_handoff(now=None) -> tuple[str, str] | None:
    now = now or timezone.now()
    claim = uuid.uuid4()
    with transaction.atomic():
        handoff = (
            Handoff.objects.filter(state=Handoff.State.QUEUED, due_at__lte=now)
            .order_by("due_at", "pk")
            .select_for_update(skip_locked=True)
            .only("pk", "export_id")
            .first()
        )
        if handoff is None:
            return None
        claimed = Handoff.objects.filter(
            pk=handoff.pk, state=Handoff.State.QUEUED, due_at__lte=now
        ).update(claim=claim, due_at=now + HANDOFF_LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return str(handoff.export_id), str(claim)


def _relay_handoffs(build_export, result: RelayResult) -> int:
    handed = 0
    while (found := claim_handoff()) is not None:
        export_id, claim = found
        try:
            build_export(export_id, claim)
        except Exception as exc:
            Handoff.objects.filter(claim=claim, state=Handoff.State.QUEUED).update(
                claim=None, due_at=timezone.now()
            )
            result.refused_by_broker = True
            logger.warning("outbox: could not hand an export over: %s", type(exc).__name__)
            break
        handed += 1
    return handed


def handoff_start(*, export_id, claim: str | None) -> bool:
    """Called by the export task as it starts: True if this delivery is the one the relay
    last handed over (or a redelivery of it), False for a stale one whose export was handed
    over again meanwhile. A task queued without a claim (before hand-offs existed) runs."""
    if claim is None:
        return True
    return bool(
        Handoff.objects.filter(export_id=export_id, claim=claim).update(state=Handoff.State.STARTED)
    )
