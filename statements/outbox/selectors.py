"""Reads of the outbox: its figures for the staff dashboard and the health details, and the
emails that could not be delivered, for moderators."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from statements.outbox.models import Email, Handoff

State = Email.State


@dataclass(frozen=True)
class OutboxFigures:
    queued: int  # emails waiting to be sent, including those being retried
    oldest_queued_at: datetime | None
    failed: int  # refused for good or given up on
    handoffs_waiting: int  # background work not yet picked up by a worker

    @property
    def oldest_age_seconds(self) -> float:
        if self.oldest_queued_at is None:
            return 0.0
        return max(0.0, (timezone.now() - self.oldest_queued_at).total_seconds())

    def as_dict(self) -> dict:
        return {
            "queued": self.queued,
            "oldest_unsent_seconds": round(self.oldest_age_seconds, 1),
            "failed": self.failed,
            "handoffs_waiting": self.handoffs_waiting,
        }


def outbox_figures() -> OutboxFigures:
    """Queue depth and the age of the oldest unsent email: two reads of partial indexes that
    hold only unsent rows, cheap however many emails were ever sent."""
    waiting = Email.objects.filter(state=State.QUEUED).aggregate(
        count=Count("pk"), oldest=Min("queued_at")
    )
    return OutboxFigures(
        queued=waiting["count"],
        oldest_queued_at=waiting["oldest"],
        failed=Email.objects.filter(state=State.FAILED).count(),
        handoffs_waiting=Handoff.objects.filter(state=Handoff.State.QUEUED).count(),
    )


def outbox_health() -> dict:
    """The outbox's part of the health details (for internal callers): plain numbers."""
    return outbox_figures().as_dict()


def failed_emails(limit: int = 50) -> QuerySet[Email]:
    """The latest emails refused for good or given up on, with what they were about."""
    return (
        Email.objects.filter(state=State.FAILED)
        .select_related("signature", "export")
        .order_by("-queued_at")[:limit]
    )
