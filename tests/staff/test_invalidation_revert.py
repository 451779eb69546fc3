"""Undoing a large invalidation: bounded chunks, a task at a time, and a revert that stopped
half-way can always be set going again, restoring nothing twice."""

from django.urls import reverse

from statements import counters
from statements.models import AuditEvent, InvalidationRun, Signature
from statements.staff import tasks
from statements.staff.jobs.invalidation import invalidation_revert_process
from statements.staff.selectors import InvalidationConditions
from statements.staff.services.invalidation import (
    invalidation_prepare,
    invalidation_revert,
    invalidation_start,
)
from tests.factories import SignatureFactory

State = Signature.State
RunState = InvalidationRun.State


def _invalidated(statement, organiser, capture, count=23):
    for n in range(count):
        SignatureFactory(statement=statement, state=State.CONFIRMED, email=f"s{n}@flood.example")
    run = invalidation_prepare(
        conditions=InvalidationConditions(email_domain="flood.example"), actor=organiser
    )
    with capture(execute=True):
        invalidation_start(run_id=run.pk, actor=organiser)
    run.refresh_from_db()
    assert run.state == RunState.DONE and run.changed_count == count
    return run


def test_a_revert_goes_a_bounded_slice_at_a_time_and_queues_the_next(
    statement, organiser, django_capture_on_commit_callbacks, monkeypatch
):
    run = _invalidated(statement, organiser, django_capture_on_commit_callbacks)
    monkeypatch.setattr(tasks, "CHUNKS_PER_TASK", 2)
    slices = []
    original = invalidation_revert_process

    def counting(**kwargs):
        progress = original(chunk_size=5, **kwargs)
        slices.append((kwargs["after"], progress.restored))
        return progress

    monkeypatch.setattr(tasks, "invalidation_revert_process", counting)
    with django_capture_on_commit_callbacks(execute=True):
        assert invalidation_revert(run_id=run.pk, actor=organiser)
    # 23 signatures, 5 a chunk, 2 chunks a task: three tasks, each going on from the last.
    assert [restored for _after, restored in slices] == [10, 10, 3]
    assert slices[0][0] == 0 and slices[1][0] < slices[2][0]
    run.refresh_from_db()
    assert run.state == RunState.REVERTED
    assert Signature.objects.filter(state=State.CONFIRMED).count() == 23
    reverted = AuditEvent.objects.get(action="invalidation.reverted")
    assert reverted.data["restored"] == 23


def test_a_revert_that_stopped_half_way_is_resumed_and_restores_nothing_twice(
    statement, organiser, organiser_client, django_capture_on_commit_callbacks
):
    run = _invalidated(statement, organiser, django_capture_on_commit_callbacks)
    public_before = counters.get_counts(statement.pk)["individual"]
    # The revert is asked for, and its chain of tasks dies after one slice (the worker and
    # its queued follow-up were lost): nothing runs the rest.
    with django_capture_on_commit_callbacks(execute=False):
        assert invalidation_revert(run_id=run.pk, actor=organiser)
    with django_capture_on_commit_callbacks(execute=True):
        progress = invalidation_revert_process(run_id=run.pk, chunk_size=5, max_chunks=1)
    assert progress.restored == 5 and progress.after is not None
    run.refresh_from_db()
    assert run.state == RunState.DONE and run.reverted_at is not None

    # The page offers to resume it; resuming finishes the job.
    page = organiser_client.get(reverse("staff:invalidation", args=[run.pk]))
    assert "Resume the revert" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(reverse("staff:invalidation_revert", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.state == RunState.REVERTED
    assert Signature.objects.filter(state=State.CONFIRMED).count() == 23
    restores = AuditEvent.objects.filter(action="invalidation.restore", data__run=run.pk)
    assert restores.count() == 23
    assert restores.values("signature_id").distinct().count() == 23
    assert counters.get_counts(statement.pk)["individual"] == public_before + 23
    assert AuditEvent.objects.filter(action="invalidation.revert_resumed").count() == 1
    # Done: nothing more to resume.
    assert not invalidation_revert(run_id=run.pk, actor=organiser)
