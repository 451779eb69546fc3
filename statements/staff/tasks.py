"""Celery tasks of the staff area: thin wrappers that take primary keys and call the worker's
code in statements/staff/jobs/. The services import these to queue them; a run that has more
to do queues its own next part."""

from celery import shared_task

from statements.staff.jobs.invalidation import (
    invalidation_failed,
    invalidation_process,
    invalidation_revert_process,
)

# A run re-queues itself after this many chunks, so no task nears its time limit or the
# broker's visibility timeout however many signatures match.
CHUNKS_PER_TASK = 100


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def invalidation_execute(run_id: int) -> None:
    try:
        finished = invalidation_process(run_id=run_id, max_chunks=CHUNKS_PER_TASK)
    except Exception:
        # Marked failed, so organisers see it and can revert what it changed so far.
        invalidation_failed(run_id=run_id)
        raise
    if not finished:
        invalidation_execute.delay_on_commit(run_id)


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def invalidation_revert_execute(run_id: int, after: int = 0) -> None:
    """A bounded slice of a revert; the next slice is queued once this one has committed."""
    progress = invalidation_revert_process(run_id=run_id, after=after, max_chunks=CHUNKS_PER_TASK)
    if progress.after is not None:
        invalidation_revert_execute.delay_on_commit(run_id, progress.after)
