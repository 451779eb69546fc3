"""Bulk invalidation: dry-run count, background run in chunks, cancellation, revert, audit."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from statements import counters
from statements.models import AuditEvent, InvalidationRun, Signature
from statements.staff.jobs import invalidation as invalidation_jobs
from statements.staff.jobs.invalidation import invalidation_process
from statements.staff.selectors import InvalidationConditions, NoConditions, invalidation_matches
from statements.staff.services.invalidation import (
    invalidation_cancel,
    invalidation_prepare,
    invalidation_revert,
    invalidation_start,
)
from statements.staff.services.moderation import signature_moderate
from statements.staff.tasks import invalidation_execute
from tests.factories import OrganisationFactory, SignatureFactory

State = Signature.State
RunState = InvalidationRun.State


@pytest.fixture
def spam(statement):
    """Signatures from one domain in every state, and honest ones elsewhere."""
    rows = {
        state: SignatureFactory(statement=statement, state=state, email=f"{state}@spam.example")
        for state in State
        if state != State.WITHDRAWN
    }
    rows["org"] = OrganisationFactory(
        statement=statement, state=State.APPROVED, email="union@spam.example"
    )
    rows["honest"] = SignatureFactory(statement=statement, email="someone@honest.example")
    return rows


def _changed_since(before: dict[int, str]) -> set[int]:
    after = dict(Signature.objects.values_list("pk", "state"))
    return {pk for pk, state in before.items() if after[pk] != state}


def test_the_dry_run_count_is_what_the_run_changes(
    organiser_client, organiser, spam, django_capture_on_commit_callbacks
):
    before = dict(Signature.objects.values_list("pk", "state"))
    response = organiser_client.post(
        reverse("staff:invalidations"), {"email_domain": "@spam.example"}
    )
    run = InvalidationRun.objects.get()
    assert response["Location"] == reverse("staff:invalidation", args=[run.pk])
    page = organiser_client.get(response["Location"])
    dry_run = page.context["current"]
    assert dry_run == run.matched_count
    # Pending, confirmed, awaiting, approved, rejected, and the organisation; the fraudulent
    # row already is; the honest one does not match.
    assert dry_run == 6
    assert _changed_since(before) == set()  # a dry run changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        organiser_client.post(reverse("staff:invalidation_run", args=[run.pk]))

    run.refresh_from_db()
    assert run.state == RunState.DONE and run.started_at and run.finished_at
    changed = _changed_since(before)
    assert len(changed) == run.changed_count == dry_run
    assert set(Signature.objects.filter(pk__in=changed).values_list("state", flat=True)) == {
        State.FRAUDULENT
    }
    assert spam["honest"].pk not in changed


def test_each_change_is_audited_with_its_run(organiser, spam):
    run = invalidation_prepare(
        conditions=InvalidationConditions(email_domain="spam.example"), actor=organiser
    )
    invalidation_start(run_id=run.pk, actor=organiser)
    invalidation_process(run_id=run.pk, chunk_size=2)
    events = AuditEvent.objects.filter(action="invalidation")
    assert events.count() == 6
    for event in events:
        assert event.data == {"run": run.pk}
        assert event.to_state == State.FRAUDULENT and event.actor == organiser
        assert (
            event.from_state == spam[event.from_state].state or event.signature_id == spam["org"].pk
        )
    assert AuditEvent.objects.filter(action="invalidation.start", data__run=run.pk).exists()
    assert AuditEvent.objects.filter(action="invalidation.done", data__run=run.pk).exists()


def test_at_least_one_condition_is_required(organiser_client):
    response = organiser_client.post(reverse("staff:invalidations"), {})
    assert response.status_code == 400
    assert "at least one condition" in response.content.decode()
    assert not InvalidationRun.objects.exists()
    with pytest.raises(NoConditions):
        invalidation_matches(InvalidationConditions())


def test_each_condition_narrows_the_match(statement, organiser):
    now = timezone.now()
    old = SignatureFactory(
        statement=statement,
        email="Jane.Doe@GoogleMail.com",
        email_key="janedoe@gmail.com",
        ip_hash="cafe",
        country="AR",
        created_at=now - timedelta(days=2),
    )
    new = SignatureFactory(statement=statement, ip_hash="beef", country="KZ", created_at=now)

    def matched(**conditions):
        return set(invalidation_matches(InvalidationConditions(**conditions)))

    assert matched(email_domain="googlemail.com") == {old}  # normalised like email keys
    assert matched(ip_hash="beef") == {new}
    assert matched(country="AR") == {old}
    assert matched(created_from=now - timedelta(hours=1)) == {new}
    assert matched(created_to=now - timedelta(days=1)) == {old}
    assert matched(statement_id=statement.pk) == {old, new}
    assert matched(country="KZ", ip_hash="cafe") == set()


def test_a_run_can_be_cancelled_between_chunks(organiser, spam, monkeypatch):
    run = invalidation_prepare(
        conditions=InvalidationConditions(email_domain="spam.example"), actor=organiser
    )
    invalidation_start(run_id=run.pk, actor=organiser)
    real_chunk = invalidation_jobs._invalidate_chunk

    def chunk_then_cancel(*args):
        changed = real_chunk(*args)
        assert invalidation_cancel(run_id=run.pk, actor=organiser)
        return changed

    monkeypatch.setattr(invalidation_jobs, "_invalidate_chunk", chunk_then_cancel)
    assert invalidation_process(run_id=run.pk, chunk_size=2) is True
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    assert run.changed_count == 2
    assert Signature.objects.filter(state=State.FRAUDULENT).count() == 3  # 2 + the one before
    assert AuditEvent.objects.filter(action="invalidation.cancel", actor=organiser).exists()


def test_cancelling_a_queued_run_stops_it_before_it_starts(organiser, spam):
    run = invalidation_prepare(
        conditions=InvalidationConditions(email_domain="spam.example"), actor=organiser
    )
    invalidation_start(run_id=run.pk, actor=organiser)
    invalidation_cancel(run_id=run.pk, actor=organiser)
    invalidation_process(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED and run.changed_count == 0


def test_a_long_run_continues_in_a_new_task(organiser, spam):
    run = invalidation_prepare(
        conditions=InvalidationConditions(email_domain="spam.example"), actor=organiser
    )
    invalidation_start(run_id=run.pk, actor=organiser)
    assert invalidation_process(run_id=run.pk, chunk_size=2, max_chunks=1) is False
    run.refresh_from_db()
    assert run.state == RunState.RUNNING and run.changed_count == 2
    assert invalidation_process(run_id=run.pk, chunk_size=2) is True
    run.refresh_from_db()
    assert run.state == RunState.DONE and run.changed_count == 6


def test_a_crashed_run_is_marked_failed(organiser, spam, monkeypatch):
    run = invalidation_prepare(
        conditions=InvalidationConditions(email_domain="spam.example"), actor=organiser
    )
    invalidation_start(run_id=run.pk, actor=organiser)

    def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(invalidation_jobs, "_invalidate_chunk", broken)
    with pytest.raises(RuntimeError):
        invalidation_execute.delay(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.FAILED


def test_revert_restores_every_state_and_count(
    organiser_client, organiser, moderator, statement, spam, django_capture_on_commit_callbacks
):
    before = dict(Signature.objects.values_list("pk", "state"))
    counts_before = counters.get_counts(statement.pk)
    run = invalidation_prepare(
        conditions=InvalidationConditions(email_domain="spam.example"), actor=organiser
    )
    with django_capture_on_commit_callbacks(execute=True):
        invalidation_start(run_id=run.pk, actor=organiser)
    assert counters.get_counts(statement.pk) == {
        "individual": counts_before["individual"] - 2,  # confirmed + approved individuals
        "organisation": counts_before["organisation"] - 1,
        "paper_individual": 0,
        "paper_organisation": 0,
    }
    # A moderator decides on one of them afterwards: that decision must survive the revert.
    later = spam[State.REJECTED]
    with django_capture_on_commit_callbacks(execute=True):
        signature_moderate(signature_id=later.pk, action="approve", actor=moderator)

    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(reverse("staff:invalidation_revert", args=[run.pk]))
    assert response.status_code == 302

    run.refresh_from_db()
    assert run.state == RunState.REVERTED and run.reverted_at is not None
    after = dict(Signature.objects.values_list("pk", "state"))
    assert after[later.pk] == State.APPROVED
    assert {pk: state for pk, state in after.items() if pk != later.pk} == {
        pk: state for pk, state in before.items() if pk != later.pk
    }
    assert counters.get_counts(statement.pk)["organisation"] == counts_before["organisation"]
    assert counters.get_counts(statement.pk)["individual"] == counts_before["individual"] + 1
    restores = AuditEvent.objects.filter(action="invalidation.restore", data__run=run.pk)
    assert restores.count() == 5 and {e.actor for e in restores} == {organiser}
    # Reverting twice restores nothing more.
    assert invalidation_revert(run_id=run.pk, actor=organiser) is False


def test_moderators_cannot_invalidate(moderator_client):
    response = moderator_client.post(reverse("staff:invalidations"), {"country": "KZ"})
    assert response.status_code == 403
    assert not InvalidationRun.objects.exists()


def test_dashboard_links_prefill_the_form(organiser_client):
    page = organiser_client.get(reverse("staff:invalidations"), {"email_domain": "spam.example"})
    assert 'value="spam.example"' in page.content.decode()
