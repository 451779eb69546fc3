"""Public counts: cached and batched, so signing never updates a hot row and reading never
counts rows per request.

The counts live in the cache, one key per statement and kind. A state change that enters or
leaves the public set adjusts its key atomically after commit (INCR, not a row update); a miss
recomputes both kinds with one grouped query; the periodic task `counts_refresh` rewrites them
from the database, which corrects any drift. A short in-process memo absorbs bursts of reads.
If the cache is unreachable the counts come from the database and the page still renders.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count

from statements.models import Signature
from statements.signals import public_set_changed

logger = logging.getLogger(__name__)

KINDS = (Signature.Kind.INDIVIDUAL, Signature.Kind.ORGANISATION)
# Of which gathered on paper ("paper_individual", "paper_organisation"). They change only
# when an import is made or undone, which refreshes the counts; a moderator's decision on a
# paper signature is corrected by the periodic refresh.
PAPER = tuple(f"paper_{kind.value}" for kind in KINDS)
NAMES = (*KINDS, *PAPER)
# Long enough to outlive the refresh period; the refresh and the bumps keep it current.
CACHE_SECONDS = 300
_memo: dict[int, tuple[float, dict[str, int]]] = {}


def _key(statement_id: int, kind: str) -> str:
    return f"counts:v1:{statement_id}:{kind}"


def count_from_database(statement_id: int) -> dict[str, int]:
    rows = (
        Signature.objects.filter(statement_id=statement_id, state__in=Signature.PUBLIC_STATES)
        .values("kind", "source")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = dict.fromkeys(NAMES, 0)
    for row in rows:
        counts[row["kind"]] += row["n"]
        if row["source"] == Signature.Source.PAPER:
            counts[f"paper_{row['kind']}"] += row["n"]
    return counts


def refresh(statement_id: int) -> dict[str, int]:
    counts = count_from_database(statement_id)
    try:
        cache.set_many({_key(statement_id, k): v for k, v in counts.items()}, CACHE_SECONDS)
    except Exception:
        logger.warning("counts cache unavailable; serving counts from the database")
    _memo[statement_id] = (time.monotonic() + settings.COUNTS_CACHE_SECONDS, counts)
    return counts


def get_counts(statement_id: int) -> dict[str, int]:
    """{"individual": n, "organisation": m, "paper_individual": …, "paper_organisation": …}
    for the statement's public signatures."""
    memo = _memo.get(statement_id)
    if memo and memo[0] > time.monotonic():
        return memo[1]
    keys = [_key(statement_id, name) for name in NAMES]
    try:
        cached = cache.get_many(keys)
    except Exception:
        logger.warning("counts cache unavailable; serving counts from the database")
        cached = {}
    if len(cached) == len(keys):
        counts = {str(name): max(int(cached[_key(statement_id, name)]), 0) for name in NAMES}
        _memo[statement_id] = (time.monotonic() + min(settings.COUNTS_CACHE_SECONDS, 2), counts)
        return counts
    return refresh(statement_id)


def _bump(statement_id: int, kind: str, delta: int) -> None:
    _memo.pop(statement_id, None)
    try:
        cache.incr(_key(statement_id, kind), delta)
    except ValueError:
        pass  # not cached: the next read counts from the database
    except Exception:
        logger.warning("counts cache unavailable; the periodic refresh will correct the count")


def bump_on_commit(statement_id: int, kind: str, delta: int) -> None:
    transaction.on_commit(lambda: _bump(statement_id, kind, delta))
    # What else shows the same set of signatures (the public lists) follows.
    transaction.on_commit(lambda: public_set_changed.send(sender=None, statement_id=statement_id))
