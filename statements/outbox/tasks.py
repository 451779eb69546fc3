"""Celery tasks of the outbox, on the `email` queue: the relay's tick and the batch sender.

Both take keys and a random claim, never personal data. The sender is acknowledged late and
its message rejected if its worker dies, so a batch in hand is delivered again; it does not
retry through Celery, because every failure is recorded on the rows themselves (sender.py).
Its time limits stay far below the broker's visibility timeout.
"""

import logging

from celery import current_app, shared_task

from statements.outbox import relay, sender

# The exports app's build task, named rather than imported: exports queue their builds through
# the outbox (exports.services imports it), so the outbox does not import exports' tasks back.
EXPORT_BUILD_TASK = "exports.tasks.export_build"

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def outbox_send(claim: str, ids: list[int]) -> dict:
    result = sender.deliver_batch(claim=claim, ids=ids)
    if result.stopped:
        logger.info("outbox batch: %d sent, stopped: %s", result.sent, result.stopped)
    return {"sent": result.sent, "failed": result.failed, "retried": result.retried}


def _send_batch(claim: str, ids: list[int]) -> None:
    outbox_send.apply_async((claim, ids))


def _build_export(export_id: str, claim: str) -> None:
    current_app.signature(
        EXPORT_BUILD_TASK, args=(export_id,), kwargs={"handoff": claim}
    ).apply_async()


# Not acknowledged late: a tick lost with its worker is simply the next tick.
@shared_task(acks_late=False, soft_time_limit=50, time_limit=60)
def outbox_relay() -> dict:
    result = relay.relay(send=_send_batch, build_export=_build_export)
    return {"batches": result.batches, "emails": result.emails, "handoffs": result.handoffs}
