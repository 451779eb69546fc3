"""The site's figures for monitoring, read from the database and the broker at scrape time.

Counting rows is right for a site of many processes: every web process and worker writes to
the same database, so one scrape of any process sees the figures of all, and a restart loses
nothing. Each process keeps them FIGURES_SECONDS, so frequent scrapes by several Prometheus
servers cost one set of queries per process and interval. Nothing here writes.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from kombu.exceptions import ChannelError

from exports.models import SignatoryExport
from statements.models import Signature

logger = logging.getLogger(__name__)

FIGURES_SECONDS = 15
EXPORT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class EmailFigures:
    """Emails by where they are in the outbox (statements/outbox/): waiting to be sent (or to
    be tried again), sent, refused for good or given up on."""

    unsent: int
    sent: int
    refused: int
    oldest_unsent_age: float  # seconds; 0 when nothing waits


def email_figures(now=None) -> EmailFigures:
    from statements.outbox.models import Email
    from statements.outbox.selectors import outbox_figures

    waiting = outbox_figures()
    by_state = dict(
        Email.objects.filter(state__in=[Email.State.SENT, Email.State.FAILED])
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    oldest = waiting.oldest_queued_at
    now = now or timezone.now()
    return EmailFigures(
        unsent=waiting.queued,
        sent=by_state.get(Email.State.SENT, 0),
        refused=by_state.get(Email.State.FAILED, 0),
        oldest_unsent_age=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )


def signature_figures() -> dict[tuple[str, str], int]:
    """Signatures stored, by (kind, state); every pair present, zero included."""
    found = {
        (row["kind"], row["state"]): row["n"]
        for row in Signature.objects.values("kind", "state").annotate(n=Count("pk")).order_by()
    }
    return {
        (kind.value, state.value): found.get((kind.value, state.value), 0)
        for kind in Signature.Kind
        for state in Signature.State
    }


@dataclass(frozen=True)
class ExportFigures:
    by_state: dict[str, int]
    # Per format, over the exports finished in the last EXPORT_WINDOW: (count, sum, max) of
    # their build time in seconds, and the build time of the latest one.
    durations: dict[str, tuple[int, float, float]] = field(default_factory=dict)
    latest: dict[str, float] = field(default_factory=dict)


def export_figures(now=None) -> ExportFigures:
    now = now or timezone.now()
    by_state = dict.fromkeys(SignatoryExport.State.values, 0)
    for row in SignatoryExport.objects.values("state").annotate(n=Count("pk")).order_by():
        by_state[row["state"]] = row["n"]
    durations: dict[str, tuple[int, float, float]] = {}
    latest: dict[str, float] = {}
    finished = (
        SignatoryExport.objects.filter(
            state=SignatoryExport.State.DONE,
            finished_at__gte=now - EXPORT_WINDOW,
            started_at__isnull=False,
        )
        .order_by("finished_at")
        .values_list("format", "started_at", "finished_at")
    )
    for export_format, started, finished_at in finished:
        seconds = max(0.0, (finished_at - started).total_seconds())
        count, total, longest = durations.get(export_format, (0, 0.0, 0.0))
        durations[export_format] = (count + 1, total + seconds, max(longest, seconds))
        latest[export_format] = seconds
    return ExportFigures(by_state=by_state, durations=durations, latest=latest)


def queue_lengths() -> dict[str, int] | None:
    """Messages waiting in each declared Celery queue; None when tasks run in-process or the
    broker does not answer."""
    from petition.celery import app

    if app.conf.task_always_eager:
        return None
    names = [queue.name for queue in app.conf.task_queues or ()] or [app.conf.task_default_queue]
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=1)
            channel = connection.default_channel
            return {name: _queue_length(channel, name) for name in names}
    except Exception:
        logger.warning("metrics: broker unavailable", exc_info=True)
        return None


def _queue_length(channel, name: str) -> int:
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except ChannelError:
        return 0  # not declared yet: no worker or publisher has used it


_memo: dict[str, tuple[float, object]] = {}


def remembered[T](name: str, compute: Callable[[], T]) -> T:
    now = time.monotonic()
    hit = _memo.get(name)
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[return-value]
    value = compute()
    _memo[name] = (now + FIGURES_SECONDS, value)
    return value


def forget() -> None:
    _memo.clear()
