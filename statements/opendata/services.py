"""Keeping the hourly history in step with the signatures.

`history_refresh` counts the public signatures of a statement by hour, country and kind in
one grouped query, compares the result with the stored rows and writes only the difference
(new buckets inserted, changed ones updated, emptied ones deleted). Running it twice changes
nothing the second time; running it after any change (a confirmation, a withdrawal, a bulk
invalidation, a paper import or its undoing) brings the history to the same state as counting
from scratch, because that is what it does.
"""

import logging
from datetime import UTC

from django.db import transaction
from django.db.models import Case, Count, F, Q, When
from django.db.models.functions import Coalesce, TruncHour

from statements.models import Signature, Statement
from statements.opendata.models import SignatureHour

logger = logging.getLogger(__name__)

State = Signature.State

# When a signature began to count publicly: its approval where that is what made it public,
# else its email confirmation (a paper signature has both set to the day it was signed).
COUNTED_AT = Case(
    When(Q(state=State.APPROVED) & Q(decided_at__isnull=False), then=F("decided_at")),
    default=Coalesce("confirmed_at", "created_at"),
)

Bucket = tuple  # (hour, country, kind)


def history_counts(statement_id: int) -> dict[Bucket, int]:
    """The history as it should be, counted from the signatures (one grouped query)."""
    rows = (
        Signature.objects.filter(statement_id=statement_id, state__in=Signature.PUBLIC_STATES)
        .annotate(bucket=TruncHour(COUNTED_AT, tzinfo=UTC))
        .values_list("bucket", "country", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(hour, country, kind): n for hour, country, kind, n in rows}


@transaction.atomic
def history_refresh(*, statement_id: int) -> dict[str, int]:
    """Bring the stored history of one statement in line with its signatures. Returns how
    many buckets were created, updated and deleted."""
    # One refresh per statement at a time: the statement's row is the lock.
    Statement.objects.select_for_update().filter(pk=statement_id).first()
    wanted = history_counts(statement_id)
    stored = {
        (row.hour, row.country, row.kind): row
        for row in SignatureHour.objects.filter(statement_id=statement_id)
    }
    created = [
        SignatureHour(statement_id=statement_id, hour=h, country=c, kind=k, count=n)
        for (h, c, k), n in wanted.items()
        if (h, c, k) not in stored
    ]
    updated = []
    for bucket, row in stored.items():
        n = wanted.get(bucket)
        if n is not None and n != row.count:
            row.count = n
            updated.append(row)
    deleted = [row.pk for bucket, row in stored.items() if bucket not in wanted]
    SignatureHour.objects.bulk_create(created, batch_size=2000)
    SignatureHour.objects.bulk_update(updated, ["count"], batch_size=2000)
    for start in range(0, len(deleted), 2000):
        SignatureHour.objects.filter(pk__in=deleted[start : start + 2000]).delete()
    changes = {"created": len(created), "updated": len(updated), "deleted": len(deleted)}
    if any(changes.values()):
        from statements.opendata import selectors

        transaction.on_commit(lambda: selectors.forget_history(statement_id))
        logger.info("history of statement %d refreshed: %s", statement_id, changes)
    return changes
