"""Celery tasks: thin wrappers that take primary keys and call a service.

Every task is idempotent, acknowledged late (a killed worker's task is delivered again), and
retries only transient failures (network, 4xx SMTP replies) with exponential backoff. Retry
delays and time limits stay far below the broker's visibility timeout (one hour), so a task is
never delivered twice merely for waiting.
"""

import logging

from celery import shared_task

from ops.routers import replica_reads
from petition.celery import Task

logger = logging.getLogger(__name__)

# smtplib's exceptions, ConnectionError and TimeoutError are all OSErrors.
TRANSIENT = (OSError,)
EMAIL_TASK = {
    "bind": True,
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
    "soft_time_limit": 60,
    "time_limit": 90,
}


class EmailTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """After the last retry, record the failure on the signature for moderators."""
        from statements.services import delivery_failed

        if args:
            delivery_failed(signature_id=args[0], reason=f"not delivered: {type(exc).__name__}")
        logger.error("task %s for signature %s failed: %s", self.name, args, type(exc).__name__)


@shared_task(base=EmailTask, **EMAIL_TASK)
def confirmation_send(self, signature_id: int) -> None:
    from statements.services import confirmation_deliver

    confirmation_deliver(signature_id=signature_id)


@shared_task(base=EmailTask, **EMAIL_TASK)
def duplicate_notice_send(self, signature_id: int) -> None:
    from statements.services import duplicate_notice_deliver

    duplicate_notice_deliver(signature_id=signature_id)


@shared_task(acks_late=True)
def confirmation_sweep() -> int:
    """Re-enqueue confirmations that were never sent, so no signature is stranded."""
    from statements.services import confirmation_sweep as find_unsent

    ids = find_unsent()
    for signature_id in ids:
        confirmation_send.delay_on_commit(signature_id)
    if ids:
        logger.info("re-enqueued %d unsent confirmations", len(ids))
    return len(ids)


@shared_task(acks_late=True)
def signature_purge() -> int:
    from statements.services import signature_purge_unconfirmed

    return signature_purge_unconfirmed()


@shared_task(acks_late=True)
def counts_refresh() -> None:
    from statements import counters
    from statements.models import Statement

    for statement_id in Statement.objects.values_list("pk", flat=True):
        counters.refresh(statement_id)


@shared_task(acks_late=True)
def history_refresh() -> None:
    """Bring the hourly history of every statement in line with its signatures."""
    from statements.models import Statement
    from statements.opendata.services import history_refresh as refresh

    for statement_id in Statement.objects.values_list("pk", flat=True):
        refresh(statement_id=statement_id)


@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def public_lists_build(statement_id: int) -> int:
    """Write the statement's public lists (queued by public.lists_changed)."""
    from statements import public_files
    from statements import public_lists as public
    from statements.models import Statement

    statement = Statement.objects.filter(pk=statement_id).first()
    if statement is None:
        return 0
    public.build_started(statement_id)
    # The lists may lag a moment behind, as the page does: their rows may come from a replica.
    with replica_reads():
        return public_files.build(statement)


@shared_task(acks_late=True)
def public_lists_refresh() -> list[int]:
    """Periodic: queue the lists that are missing or older than PUBLIC_LISTS_MAX_AGE (a change
    whose build was lost, a name edited in the admin); returns the statements queued."""
    from django.conf import settings

    from statements import public_files
    from statements import public_lists as public
    from statements.models import Statement

    queued = []
    for statement in Statement.objects.order_by("pk"):
        age = public_files.age_seconds(statement)
        if age is None or age > settings.PUBLIC_LISTS_MAX_AGE:
            public.lists_changed(statement.pk)
            queued.append(statement.pk)
    return queued
