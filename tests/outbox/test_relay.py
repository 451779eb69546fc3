"""The relay: claims due rows in batches, never the same row twice, hands each batch over,
and gives a batch back at once when the broker refuses it."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from statements.outbox import relay
from statements.outbox.models import Email
from tests.outbox.helpers import queue_confirmations


def test_claims_in_batches_oldest_due_first(statement, settings):
    settings.OUTBOX_BATCH_SIZE = 10
    emails = queue_confirmations(statement, 25)
    Email.objects.filter(pk=emails[-1].pk).update(due_at=timezone.now() - timedelta(hours=1))
    handed = []
    result = relay.relay(send=lambda claim, ids: handed.append((claim, ids)))
    assert result.batches == 3 and result.emails == 25
    assert [len(ids) for _claim, ids in handed] == [10, 10, 5]
    assert handed[0][1][0] == emails[-1].pk
    assert len({claim for claim, _ids in handed}) == 3
    for claim, ids in handed:
        rows = Email.objects.filter(pk__in=ids)
        assert {str(row.claim) for row in rows} == {claim}
        # Held for the claim's lease: not due again meanwhile.
        assert all(row.due_at > timezone.now() + timedelta(seconds=20) for row in rows)
    assert relay.relay(send=lambda *a: pytest.fail("nothing is due")).batches == 0


def test_rows_not_due_yet_wait(statement):
    (later,) = queue_confirmations(statement, 1)
    Email.objects.filter(pk=later.pk).update(due_at=timezone.now() + timedelta(minutes=1))
    assert relay.claim_batch(size=100) is None


def test_a_batch_the_broker_refuses_is_due_again_at_once(statement):
    emails = queue_confirmations(statement, 3)

    def broker_down(claim, ids):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    result = relay.relay(send=broker_down)
    assert result.refused_by_broker and result.batches == 0
    rows = Email.objects.filter(pk__in=[e.pk for e in emails])
    assert {(row.claim, row.state) for row in rows} == {(None, "queued")}
    assert all(row.due_at <= timezone.now() for row in rows)


def test_at_most_max_in_flight_emails_are_claimed_and_unsent(statement, settings):
    settings.OUTBOX_BATCH_SIZE = 10
    settings.OUTBOX_MAX_IN_FLIGHT = 25
    queue_confirmations(statement, 60)
    handed = []
    relay.relay(send=lambda claim, ids: handed.extend(ids))
    assert len(handed) == 25
    # Nothing more until some of those are sent.
    relay.relay(send=lambda claim, ids: handed.extend(ids))
    assert len(handed) == 25
    Email.objects.filter(pk__in=handed[:10]).update(state="sent", claim=None)
    relay.relay(send=lambda claim, ids: handed.extend(ids))
    assert len(handed) == 35


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks: SQLite runs one writer at a time"
)


@postgres_only
def test_two_relays_at_once_never_claim_the_same_row(transactional_db, settings):
    from statements.content import load_all
    from statements.models import Statement

    load_all()
    settings.OUTBOX_BATCH_SIZE = 20
    emails = queue_confirmations(Statement.objects.get(), 400)
    claimed: dict[int, list[int]] = {0: [], 1: []}
    start = threading.Barrier(2)

    def run(index: int) -> None:
        try:
            start.wait()
            while (batch := relay.claim_batch(size=20)) is not None:
                claimed[index].extend(batch[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    first, second = set(claimed[0]), set(claimed[1])
    assert not first & second
    assert first | second == {e.pk for e in emails}
    assert len(claimed[0]) + len(claimed[1]) == 400
    assert claimed[0] and claimed[1], "both relays should have claimed some batches"


@postgres_only
def test_claims_lock_rows_so_a_concurrent_claim_skips_them(transactional_db):
    """While one relay's claim transaction holds its rows, another relay's SELECT … FOR
    UPDATE SKIP LOCKED passes over them instead of waiting or taking them."""
    from django.db import transaction

    from statements.content import load_all
    from statements.models import Statement

    load_all()
    emails = queue_confirmations(Statement.objects.get(), 10)
    locked = threading.Event()
    release = threading.Event()

    def hold_five():
        try:
            with transaction.atomic():
                list(
                    Email.objects.filter(pk__in=[e.pk for e in emails[:5]])
                    .select_for_update()
                    .values_list("pk", flat=True)
                )
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_five)
    holder.start()
    try:
        assert locked.wait(10)
        _claim, ids = relay.claim_batch(size=100)
        assert sorted(ids) == sorted(e.pk for e in emails[5:])
    finally:
        release.set()
        holder.join(10)
    _claim, ids = relay.claim_batch(size=100)
    assert sorted(ids) == sorted(e.pk for e in emails[:5])
