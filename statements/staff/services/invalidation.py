"""Bulk invalidation, as organisers drive it: record the conditions with a dry-run count,
start, cancel, revert. The runs themselves are the worker's (statements/staff/jobs/
invalidation.py), queued on commit with the run's id.
"""

from django.db import transaction
from django.utils import timezone

from statements.models import AuditEvent, InvalidationRun
from statements.staff.rules import REVERTIBLE
from statements.staff.selectors import (
    InvalidationConditions,
    invalidation_conditions,
    invalidation_matches,
)
from statements.staff.tasks import invalidation_execute, invalidation_revert_execute

RunState = InvalidationRun.State


@transaction.atomic
def invalidation_prepare(*, conditions: InvalidationConditions, actor) -> InvalidationRun:
    """Record the chosen conditions with their dry-run count; nothing changes yet."""
    return InvalidationRun.objects.create(
        statement_id=conditions.statement_id,
        conditions=conditions.to_json(),
        matched_count=invalidation_matches(conditions).count(),
        created_by=actor,
    )


@transaction.atomic(durable=True)
def invalidation_start(*, run_id: int, actor) -> InvalidationRun:
    """Queue a prepared invalidation for the background. Starting twice starts it once."""
    run = InvalidationRun.objects.select_for_update().get(pk=run_id)
    if run.state != RunState.DRAFT:
        return run
    run.matched_count = invalidation_matches(invalidation_conditions(run)).count()
    run.state = RunState.QUEUED
    run.save(update_fields=["matched_count", "state"])
    AuditEvent.objects.create(
        actor=actor,
        action="invalidation.start",
        data={"run": run.pk, "matched": run.matched_count, "conditions": run.conditions},
    )
    invalidation_execute.delay_on_commit(run.pk)
    return run


@transaction.atomic
def invalidation_cancel(*, run_id: int, actor) -> bool:
    """Stop an invalidation: a draft or queued one at once, a running one between chunks."""
    run = InvalidationRun.objects.select_for_update().get(pk=run_id)
    if run.state in {RunState.DRAFT, RunState.QUEUED}:
        run.state = RunState.CANCELLED
        run.cancel_requested = True
        run.finished_at = timezone.now()
        run.save(update_fields=["state", "cancel_requested", "finished_at"])
    elif run.state == RunState.RUNNING and not run.cancel_requested:
        run.cancel_requested = True
        run.save(update_fields=["cancel_requested"])
    else:
        return False
    AuditEvent.objects.create(actor=actor, action="invalidation.cancel", data={"run": run.pk})
    return True


@transaction.atomic(durable=True)
def invalidation_revert(*, run_id: int, actor) -> bool:
    """Queue the undoing of a finished invalidation. `reverted_at` records the request; the
    state becomes REVERTED once every signature is restored.

    The revert runs in bounded chunks, a task at a time (see `invalidation_revert_process`).
    Asking again while it is unfinished resumes it — say its chain of tasks was lost with a
    worker — from the start, which is safe: a signature already restored no longer matches,
    and each chunk locks its rows."""
    run = InvalidationRun.objects.select_for_update().get(pk=run_id)
    if run.state not in REVERTIBLE or not run.changed_count:
        return False
    if run.reverted_at is None:
        run.reverted_at = timezone.now()
        run.save(update_fields=["reverted_at"])
        action = "invalidation.revert"
    else:
        action = "invalidation.revert_resumed"
    AuditEvent.objects.create(actor=actor, action=action, data={"run": run.pk})
    invalidation_revert_execute.delay_on_commit(run.pk)
    return True
