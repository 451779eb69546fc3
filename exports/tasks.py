"""Celery tasks for signatory exports: thin wrappers that take an export's id.

`export_build` runs on its own queue ("exports", see CELERY_TASK_ROUTES), so a long list never
holds up confirmation emails. Its time limits stay below the broker's visibility timeout (one
hour), so a running export is never delivered a second time merely for taking long.
"""

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from exports.services import export_build as build
from exports.services import export_fail
from exports.services import exports_expire as expire
from ops.routers import replica_reads
from statements.outbox.relay import handoff_start

logger = logging.getLogger(__name__)


class ExportTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """Whatever escaped the service (the database went away while recording a failure,
        the hard time limit): mark the export failed and tell the organiser, if still
        possible."""
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
    if not handoff_start(export_id=export_id, claim=handoff):
        logger.info("export %s was handed over again; this delivery is stale", export_id)
        return
    # The signatures may come from a read replica; the export's own row from the primary.
    with replica_reads():
        build(export_id=export_id)


@shared_task(acks_late=True)
def exports_expire() -> dict:
    """Periodic: delete expired export files and give up on exports whose worker was lost."""
    return expire()
