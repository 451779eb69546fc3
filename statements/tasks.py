"""Celery tasks: thin wrappers that take primary keys and call a service.

Every task is idempotent and acknowledged late (a killed worker's task is delivered again).
Emails are not sent from here: they leave through the outbox (statements/outbox/tasks.py).
"""

import logging

from celery import shared_task
from django.conf import settings

from ops.routers import replica_reads
from statements import counters, public_files
from statements.models import Statement
from statements.opendata.services import history_refresh as refresh_history
from statements.services import signature_purge_unconfirmed

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def signature_purge() -> int:
    return signature_purge_unconfirmed()


@shared_task(acks_late=True)
def counts_refresh() -> None:
    for statement_id in Statement.objects.values_list("pk", flat=True):
        counters.refresh(statement_id)


@shared_task(acks_late=True)
def history_refresh() -> None:
    """Bring the hourly history of every statement in line with its signatures."""
    for statement_id in Statement.objects.values_list("pk", flat=True):
        refresh_history(statement_id=statement_id)


@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def public_lists_build(statement_id: int) -> int:
    """Write the statement's public lists (queued by public_lists.lists_changed)."""
    statement = Statement.objects.filter(pk=statement_id).first()
    if statement is None:
        return 0
    public_files.build_started(statement_id)
    # The lists may lag a moment behind, as the page does: their rows may come from a replica.
    with replica_reads():
        return public_files.build(statement)


def public_lists_build_queue(statement_id: int) -> None:
    """Queue a build of the statement's public lists unless one is already queued (see
    public_files.claim_build). Raises if the cache or the broker cannot be reached."""
    delay = public_files.claim_build(statement_id)
    if delay is not None:
        public_lists_build.apply_async((statement_id,), countdown=delay)


@shared_task(acks_late=True)
def public_lists_refresh() -> list[int]:
    """Periodic: queue the lists that are missing or older than PUBLIC_LISTS_MAX_AGE (a change
    whose build was lost, a name edited in the admin); returns the statements queued."""
    queued = []
    for statement in Statement.objects.order_by("pk"):
        age = public_files.age_seconds(statement)
        if age is None or age > settings.PUBLIC_LISTS_MAX_AGE:
            public_lists_build_queue(statement.pk)
            queued.append(statement.pk)
    return queued
