"""Targets and closing dates set by organisers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from statements import counters, goals, selectors
from statements.models import Signature, Statement
from tests.factories import OrganisationFactory, SignatureFactory
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL

COUNTS_URL = "/api/statements/kazakhstan-2022/counts.json"


def _set(statement: Statement, **fields) -> None:
    """What an organiser does in the admin; the page reflects it once its cache expires."""
    Statement.objects.filter(pk=statement.pk).update(**fields, updated_at=timezone.now())
    selectors.forget()


def test_next_round_number():
    assert [goals.next_round_number(n) for n in (0, 1, 999, 1000, 1999, 4999, 12000)] == [
        1,
        2,
        1000,
        2000,
        2000,
        5000,
        20000,
    ]


def test_page_shows_progress_toward_the_target(client, statement):
    SignatureFactory.create_batch(3, statement=statement)
    OrganisationFactory(statement=statement)
    _set(statement, signature_goal=10)
    body = client.get("/", follow=True).content.decode()
    assert "4 of 10 signatures" in body
    assert '<progress id="goal-progress" max="10" value="4">40%</progress>' in body
    assert "is reached" not in body
    counts = client.get(COUNTS_URL).json()
    assert counts["goal"] == 10 and counts["goal_reached"] is None


def test_page_shows_the_next_target_once_reached(client, statement):
    SignatureFactory.create_batch(12, statement=statement)
    _set(statement, signature_goal=10)
    body = client.get("/", follow=True).content.decode()
    assert "The target of 10 signatures is reached!" in body
    assert "12 of 20 signatures (next target)" in body
    counts = client.get(COUNTS_URL).json()
    assert counts["goal"] == 20 and counts["goal_reached"] == 10


def test_no_target_no_progress(client, statement):
    assert "<progress" not in client.get("/", follow=True).content.decode()


def test_signing_closes_by_itself_at_the_closing_date(client, statement):
    _set(statement, closes_at=timezone.now() + timedelta(hours=1))
    body = client.get("/", follow=True).content.decode()
    form = 'action="/en/s/kazakhstan-2022/sign/#sign-problem"'
    assert "Signing closes on" in body and form in body
    assert client.post(SIGN_URL, INDIVIDUAL).status_code == 302
    assert Signature.objects.count() == 1

    _set(statement, closes_at=timezone.now() - timedelta(seconds=1))
    body = client.get("/", follow=True).content.decode()
    assert "Signing closed on" in body and form not in body
    other = {**INDIVIDUAL, "individual-email": "late@example.org"}
    response = client.post(SIGN_URL, other)
    assert response.status_code == 403
    assert "Signing is closed for this statement." in response.content.decode()
    assert Signature.objects.count() == 1
    assert client.get(COUNTS_URL).json()["signing_open"] is False


@pytest.mark.parametrize("language", ["es", "ru", "kk"])
def test_progress_is_translated(client, statement, language):
    SignatureFactory(statement=statement)
    _set(statement, signature_goal=100)
    counters.refresh(statement.pk)
    body = client.get("/", HTTP_ACCEPT_LANGUAGE=language, follow=True).content.decode()
    assert "1 of 100 signatures" not in body and 'max="100"' in body
