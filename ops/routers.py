"""Reads off the primary: DATABASE_REPLICA_URL adds a "replica" database, and this router
sends to it the reads that may be a moment old — exports, the public lists, the staff
dashboard — and everything else to the primary.

Which reads go to the replica is said where they are made, with `replica_reads()` (or the
`reads_from_replica` view decorator), not guessed from the model: the same Signature table is
read by the confirmation view, which must see the row it just changed, and by an export, which
may lag a second behind. Within such a block:

- only the signature data (statements, their texts and demands, signatures) is read from the
  replica; rows a request or task writes and reads back (exports' progress, sessions, users,
  audit events) still come from the primary;
- a read inside a transaction on the primary stays on the primary, so it sees its own writes;
- every write goes to the primary, always.

Without DATABASE_REPLICA_URL the router sends everything to the primary.
"""

import contextlib
import contextvars
import functools
from collections.abc import Iterator

from django.db import connections

REPLICA = "replica"
PRIMARY = "default"

# Models whose rows the replica may serve (app_label.model_name).
REPLICA_MODELS = frozenset(
    {
        "statements.statement",
        "statements.statementtranslation",
        "statements.demand",
        "statements.demandtranslation",
        "statements.signature",
        # The outbox's figures on the dashboard. Its relay and senders read it in
        # transactions or outside replica_reads(), so they always see the primary.
        "outbox.email",
        "outbox.handoff",
    }
)

_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "replica_reads", default=False
)


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Reads of signature data inside this block may come from the replica."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def _streamed_in_replica_reads(chunks: Iterator) -> Iterator:
    # A streaming response is produced after the view returned, chunk by chunk.
    iterator = iter(chunks)
    while True:
        with replica_reads():
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk


def reads_from_replica(view):
    """A view whose signature reads may come from the replica, streamed content included."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with replica_reads():
            response = view(request, *args, **kwargs)
        if getattr(response, "streaming", False):
            response.streaming_content = _streamed_in_replica_reads(response.streaming_content)
        return response

    return wrapper


def replica_configured() -> bool:
    return REPLICA in connections.settings


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _replica_reads.get() or model._meta.label_lower not in REPLICA_MODELS:
            return PRIMARY
        if not replica_configured() or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the primary's rows: an object read from either may point at one
        # read from the other.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema through replication, never by migrating.
        return db != REPLICA
