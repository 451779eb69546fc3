"""Celery tasks: thin wrappers that take primary keys and call a service.

Every task is idempotent and acknowledged late (a killed worker's task is delivered again).
Emails are not sent from here: they leave through the outbox (statements/outbox/tasks.py).
"""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


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
