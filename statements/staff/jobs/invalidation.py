"""Bulk invalidation runs, in the worker: mark the matches as fraudulent one committed chunk
at a time (a run can be cancelled between chunks), and restore them when a run is reverted.
Called by the tasks in statements/staff/tasks.py."""

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from statements import counters
from statements.models import AuditEvent, InvalidationRun, Signature
from statements.staff.rules import INVALIDATION
from statements.staff.selectors import (
    InvalidationConditions,
    invalidation_conditions,
    invalidation_matches,
)

State = Signature.State
RunState = InvalidationRun.State


def invalidation_process(*, run_id: int, chunk_size: int = 500, max_chunks: int = 100) -> bool:
    """Mark the run's matches as fraudulent, one committed chunk at a time, checking for a
    cancellation between chunks. Returns False when `max_chunks` ran out before the end (the
    task then queues itself again), so no single task runs into its time limit."""
    with transaction.atomic():
        run = InvalidationRun.objects.select_for_update().get(pk=run_id)
        if run.state not in {RunState.QUEUED, RunState.RUNNING}:
            return True
        if run.state == RunState.QUEUED:
            run.state = RunState.RUNNING
            run.started_at = timezone.now()
            run.save(update_fields=["state", "started_at"])
    conditions = invalidation_conditions(run)
    for _chunk in range(max_chunks):
        if InvalidationRun.objects.filter(pk=run_id, cancel_requested=True).exists():
            _invalidation_finish(run_id, RunState.CANCELLED)
            return True
        if not _invalidate_chunk(run, conditions, chunk_size):
            _invalidation_finish(run_id, RunState.DONE)
            return True
    return False


@transaction.atomic
def _invalidate_chunk(run: InvalidationRun, conditions: InvalidationConditions, size: int) -> int:
    rows = list(
        invalidation_matches(conditions)
        .select_for_update(of=("self",))
        .order_by("pk")
        .only("pk", "state", "statement_id", "kind")[:size]
    )
    if not rows:
        return 0
    now = timezone.now()
    deltas: Counter = Counter()
    events = []
    for signature in rows:
        if signature.state in Signature.PUBLIC_STATES:
            deltas[(signature.statement_id, signature.kind)] -= 1
        events.append(
            AuditEvent(
                actor_id=run.created_by_id,
                action=INVALIDATION,
                signature_id=signature.pk,
                from_state=signature.state,
                to_state=State.FRAUDULENT,
                reason=f"invalidation #{run.pk}",
                data={"run": run.pk},
                created_at=now,
            )
        )
    Signature.objects.filter(pk__in=[s.pk for s in rows]).update(state=State.FRAUDULENT)
    AuditEvent.objects.bulk_create(events)
    InvalidationRun.objects.filter(pk=run.pk).update(changed_count=F("changed_count") + len(rows))
    for (statement_id, kind), delta in deltas.items():
        counters.bump_on_commit(statement_id, kind, delta)
    return len(rows)


def _invalidation_finish(run_id: int, state: str) -> None:
    with transaction.atomic():
        updated = InvalidationRun.objects.filter(pk=run_id, state=RunState.RUNNING).update(
            state=state, finished_at=timezone.now()
        )
        if updated:
            run = InvalidationRun.objects.get(pk=run_id)
            AuditEvent.objects.create(
                action=f"invalidation.{state}",
                data={"run": run_id, "changed": run.changed_count},
            )


def invalidation_failed(*, run_id: int) -> None:
    """Record that the background run gave up (it can still be reverted)."""
    InvalidationRun.objects.filter(pk=run_id, state__in=[RunState.QUEUED, RunState.RUNNING]).update(
        state=RunState.FAILED, finished_at=timezone.now()
    )


@dataclass(frozen=True)
class RevertProgress:
    restored: int  # by this call
    after: int | None  # where the next call starts; None once the run is reverted


def invalidation_revert_process(
    *, run_id: int, after: int = 0, chunk_size: int = 500, max_chunks: int | None = None
) -> RevertProgress:
    """Restore each signature the run changed to the state it had, unless someone decided on
    it since (its latest state change is no longer the run's): that later decision stands.

    Works through the run's audit events in order, from the one after `after`, one committed
    chunk at a time, for at most `max_chunks` chunks: the caller goes on from the returned
    position (the task queues itself again), so no task nears its time limit however many
    signatures the run changed, and a revert stopped anywhere can go on or start over."""
    run = InvalidationRun.objects.get(pk=run_id)
    if run.state == RunState.REVERTED:
        return RevertProgress(0, None)
    actor_id = (
        AuditEvent.objects.filter(action="invalidation.revert", data__run=run_id)
        .order_by("-pk")
        .values_list("actor_id", flat=True)
        .first()
    )
    restored = 0
    chunks = 0
    position: int | None = after
    while position is not None and (max_chunks is None or chunks < max_chunks):
        count, position = _revert_chunk(run, actor_id, position, chunk_size)
        restored += count
        chunks += 1
    if position is not None:
        return RevertProgress(restored, position)
    with transaction.atomic():
        InvalidationRun.objects.filter(pk=run_id).update(state=RunState.REVERTED)
        total = AuditEvent.objects.filter(action="invalidation.restore", data__run=run_id).count()
        AuditEvent.objects.create(
            action="invalidation.reverted", data={"run": run_id, "restored": total}
        )
    return RevertProgress(restored, None)


@transaction.atomic
def _revert_chunk(
    run: InvalidationRun, actor_id: int | None, after: int, size: int
) -> tuple[int, int | None]:
    events = list(
        AuditEvent.objects.filter(action=INVALIDATION, data__run=run.pk, pk__gt=after)
        .order_by("pk")
        .only("pk", "signature_id", "from_state")[:size]
    )
    if not events:
        return 0, None
    ids = [event.signature_id for event in events if event.signature_id]
    signatures = {
        s.pk: s
        for s in Signature.objects.select_for_update()
        .filter(pk__in=ids)
        .only("pk", "state", "statement_id", "kind")
    }
    latest_change = dict(
        AuditEvent.objects.filter(signature_id__in=ids)
        .exclude(to_state="")
        .values("signature_id")
        .annotate(last=Max("pk"))
        .values_list("signature_id", "last")
    )
    now = timezone.now()
    by_state: dict[str, list[int]] = {}
    new_events = []
    deltas: Counter = Counter()
    for event in events:
        signature = signatures.get(event.signature_id)
        if signature is None or signature.state != State.FRAUDULENT:
            continue
        if latest_change.get(signature.pk) != event.pk:
            continue
        by_state.setdefault(event.from_state, []).append(signature.pk)
        if event.from_state in Signature.PUBLIC_STATES:
            deltas[(signature.statement_id, signature.kind)] += 1
        new_events.append(
            AuditEvent(
                actor_id=actor_id,
                action="invalidation.restore",
                signature_id=signature.pk,
                from_state=State.FRAUDULENT,
                to_state=event.from_state,
                reason=f"invalidation #{run.pk} reverted",
                data={"run": run.pk},
                created_at=now,
            )
        )
    for state, pks in by_state.items():
        Signature.objects.filter(pk__in=pks).update(state=state)
    AuditEvent.objects.bulk_create(new_events)
    for (statement_id, kind), delta in deltas.items():
        counters.bump_on_commit(statement_id, kind, delta)
    return len(new_events), events[-1].pk
