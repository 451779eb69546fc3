"""Celery tasks for signatory exports: thin wrappers that take an export's id.

`export_build` runs on its own queue ("exports", see CELERY_TASK_ROUTES), so a long list never
holds up confirmation emails. Its time limits stay below the broker's visibility timeout (one
hour), so a running export is never delivered a second time merely for taking long.
"""

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from ops.routers import replica_reads

logger = logging.getLogger(__name__)


class ExportTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """Whatever escaped the service (the database went away while recording a failure,
        the hard time limit): mark the export failed and tell the organiser, if still
        possible."""
        from statements.exports.services import export_fail

        export_id = args[0] if args else kwargs.get("export_id")
        logger.error("export task %s for %s failed: %s", task_id, export_id, type(exc).__name__)
        if export_id:
            try:
                export_fail(export_id=export_id, error=type(exc).__name__)
            except Exception:
                logger.exception("could not mark export %s failed", export_id)


@shared_task(bind=True, base=ExportTask, acks_late=True, soft_time_limit=1800, time_limit=1900)
def export_build(self, export_id: str, handoff: str | None = None) -> None:
    """Handed over by the outbox relay with the claim of its hand-off: a delivery whose export
    was handed over again meanwhile (its message was presumed lost) does nothing."""
    from statements.exports.services import export_build as build
    from statements.outbox.relay import handoff_start

    if not handoff_start(export_id=export_id, claim=handoff):
        logger.info("export %s was handed over again; this delivery is stale", export_id)
        return
    # The signatures may come from a read replica; the export's own row from the primary.
    with replica_reads():
        build(export_id=export_id)


@shared_task(acks_late=True)
def exports_expire() -> dict:
    """Periodic: delete expired export files and give up on exports whose worker was lost."""
    from statements.exports.services import exports_expire as expire

    return expire()


@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def public_lists_build(statement_id: int) -> int:
    """Write the statement's public lists (queued by public.lists_changed)."""
    from statements.exports import public, public_files
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

    from statements.exports import public, public_files
    from statements.models import Statement

    queued = []
    for statement in Statement.objects.order_by("pk"):
        age = public_files.age_seconds(statement)
        if age is None or age > settings.PUBLIC_LISTS_MAX_AGE:
            public.lists_changed(statement.pk)
            queued.append(statement.pk)
    return queued
