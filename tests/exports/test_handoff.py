"""Requesting an export while the broker is away: an answer at once, no error, and the build
handed over by the outbox relay once the broker is back (never left queued for good)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from exports import tasks as export_tasks
from exports.models import SignatoryExport
from petition.celery import app as celery_app
from statements.outbox import relay
from statements.outbox import tasks as outbox_tasks
from statements.outbox.models import Handoff
from tests.conftest import set_eager, use_broker

REQUEST = {
    "format": "csv",
    "kinds": ["organisation", "individual"],
    "states": ["confirmed", "approved"],
    "language": "en",
    "notify": "on",
}


@pytest.fixture
def broker_down():
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    use_broker("redis://127.0.0.1:1/0", eager=False)
    yield
    use_broker(previous[1], eager=previous[0])


def test_an_export_requested_while_the_broker_is_down_is_built_once_it_is_back(
    organiser_client, statement, signatures, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = organiser_client.post(
            reverse("staff:exports"), {**REQUEST, "statement": statement.pk}
        )
    assert response.status_code == 302
    assert callbacks == []  # no publish, not even after the commit
    export = SignatoryExport.objects.get()
    assert export.state == SignatoryExport.State.QUEUED
    handoff = Handoff.objects.get(export=export)
    assert handoff.state == Handoff.State.QUEUED

    # The relay's tick while the broker is down gives the hand-off back at once.
    outbox_tasks.outbox_relay.run()
    handoff.refresh_from_db()
    assert (handoff.state, handoff.claim) == (Handoff.State.QUEUED, None)
    assert handoff.due_at <= timezone.now()

    # The broker is back: the next tick hands the build over; the organiser is told.
    set_eager(True)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_tasks.outbox_relay.run()["handoffs"] == 1
    export.refresh_from_db()
    assert export.state == SignatoryExport.State.DONE
    handoff.refresh_from_db()
    assert handoff.state == Handoff.State.STARTED
    assert [m.subject for m in mail.outbox] == ["Your signatory list is ready"]


def test_a_build_whose_message_was_lost_is_handed_over_again_and_the_stale_one_does_nothing(
    organiser_client, statement, signatures, broker_down, django_capture_on_commit_callbacks
):
    organiser_client.post(reverse("staff:exports"), {**REQUEST, "statement": statement.pk})
    export = SignatoryExport.objects.get()
    handed = []
    set_eager(False)
    first = relay.claim_handoff()
    assert first is not None
    handed.append(first)
    # Its message never reached a worker: once the lease is over it is claimed anew.
    assert relay.claim_handoff() is None
    Handoff.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    second = relay.claim_handoff()
    assert second is not None and second[1] != first[1]

    set_eager(True)
    export_tasks.export_build.apply(args=(str(export.pk),), kwargs={"handoff": first[1]})
    export.refresh_from_db()
    assert export.state == SignatoryExport.State.QUEUED  # the stale delivery did nothing
    export_tasks.export_build.apply(args=(str(export.pk),), kwargs={"handoff": second[1]})
    export.refresh_from_db()
    assert export.state == SignatoryExport.State.DONE
