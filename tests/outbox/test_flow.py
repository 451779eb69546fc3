"""From a signature to its email through the outbox, as the site runs it: in the embedded
default (eager tasks: the email leaves as the request ends) and with a broker (the request
writes the row and nothing else; the relay hands it over)."""

import pytest
from django.core import mail
from django.db import transaction

from petition.celery import app as celery_app
from statements.models import Signature
from statements.outbox import tasks
from statements.outbox.models import Email
from statements.outbox.services import email_queue
from tests.conftest import set_eager, use_broker
from tests.factories import SignatureFactory
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL


def person(n: int) -> dict:
    return {**INDIVIDUAL, "individual-email": f"flow{n}@example.org"}


def test_eager_the_email_leaves_once_the_signature_is_committed(
    client, statement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert client.post(SIGN_URL, person(1)).status_code == 302
    assert len(callbacks) == 1  # the relay, after the commit
    (email,) = Email.objects.all()
    assert (email.kind, email.state, email.language) == ("confirmation", "sent", "en")
    assert email.sent_at is not None and email.signature == Signature.objects.get()
    assert [m.to for m in mail.outbox] == [["flow1@example.org"]]


def test_an_email_queued_in_a_transaction_that_rolls_back_is_never_sent(
    statement, django_capture_on_commit_callbacks
):
    signature = SignatureFactory(statement=statement, state="pending", confirmed_at=None)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        email_queue(kind="confirmation", signature=signature, language="en")
        raise RuntimeError("the change that caused the email failed")
    assert not Email.objects.exists()
    assert mail.outbox == []


@pytest.fixture
def broker_down():
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    use_broker("redis://127.0.0.1:1/0", eager=False)
    yield
    use_broker(previous[1], eager=previous[0])


def test_with_a_broker_the_sign_post_writes_its_rows_and_nothing_else(
    client, statement, broker_down, django_capture_on_commit_callbacks
):
    """No publish in the request, not even after the commit: the broker being down does not
    slow the POST down or lose the email."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.post(SIGN_URL, person(3)).status_code == 302
    assert callbacks == []
    (email,) = Email.objects.all()
    assert email.state == "queued" and email.claim is None
    assert mail.outbox == []

    # The relay's tick while the broker is still down gives the row back at once.
    result = tasks.outbox_relay.run()
    assert result["batches"] == 0
    email.refresh_from_db()
    assert email.state == "queued" and email.claim is None

    # The broker is back: the next tick hands it over and it is sent.
    set_eager(True)
    assert tasks.outbox_relay.run()["emails"] == 1
    email.refresh_from_db()
    assert email.state == "sent"
    assert [m.to for m in mail.outbox] == [["flow3@example.org"]]


def test_every_submission_writes_one_outbox_row_and_the_cap_holds(
    client, statement, settings, django_capture_on_commit_callbacks
):
    """Unconfirmed, a new submission gets a fresh link; confirmed, "already signed"; past
    the cap its row is written cancelled and nothing is sent."""
    settings.SIGNATURE_MAX_EMAILS = 3
    settings.SIGN_RATE_EMAIL = "100/h"
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(SIGN_URL, person(4)).status_code == 302
    signature = Signature.objects.get()
    signature.state = "confirmed"
    signature.save(update_fields=["state"])
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(SIGN_URL, person(4)).status_code == 302
    assert [m.subject for m in mail.outbox] == [
        "Please confirm your signature",
        "Please confirm your signature",
        "You have already signed",
    ]
    assert list(signature.emails.order_by("pk").values_list("kind", "state")) == [
        ("confirmation", "sent"),
        ("confirmation", "sent"),
        ("already_signed", "sent"),
        ("already_signed", "cancelled"),
    ]
    assert Signature.objects.count() == 1
