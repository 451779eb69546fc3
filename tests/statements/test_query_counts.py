"""Database queries on the hot paths, pinned: a change that adds one to a request that runs
hundreds of times a second shows up here, not in production.

Each case makes the request once to warm the per-process reads (the statement, its texts,
the rendered page, the counts), then counts the queries of the next one. Inside a test the
durable transactions are savepoints, hence the SAVEPOINT/RELEASE pairs in the counts.
"""

import re

import pytest
from django.core import mail

from statements import tokens, views
from statements.models import Signature
from statements.services import confirmation_deliver
from tests.factories import SignatureFactory
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL

COUNTS_URL = "/api/statements/kazakhstan-2022/counts.json"


def individual(n: int) -> dict:
    return {**INDIVIDUAL, "individual-email": f"count{n}@example.org"}


@pytest.mark.parametrize("path", ["/en/", "/ru/s/kazakhstan-2022/", "/es/?as=organisation"])
def test_statement_page_makes_no_query(client, statement, django_assert_num_queries, path):
    client.get(path)
    with django_assert_num_queries(0):
        response = client.get(path)
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' not in response.content.decode()


def test_counts_json_makes_no_query(client, statement, django_assert_num_queries):
    client.get(COUNTS_URL)
    with django_assert_num_queries(0):
        assert client.get(COUNTS_URL).status_code == 200


def test_thanks_page_makes_no_query(client, statement, django_assert_num_queries):
    url = "/en/s/kazakhstan-2022/thanks/"
    client.get(url)
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200


def test_sign_post_is_one_insert(client, statement, django_assert_num_queries, monkeypatch):
    # However long this test takes, the statement read for the first POST is reused.
    monkeypatch.setattr(views, "SIGNING_STATE_SECONDS", 3600)
    client.post(SIGN_URL, individual(0))
    with django_assert_num_queries(3) as captured:  # SAVEPOINT, INSERT, RELEASE
        assert client.post(SIGN_URL, individual(1)).status_code == 302
    assert [q["sql"].split()[0] for q in captured.captured_queries] == [
        "SAVEPOINT",
        "INSERT",
        "RELEASE",
    ]
    assert Signature.objects.count() == 2


def test_confirm_post_reads_locks_and_updates(client, statement, django_assert_num_queries):
    first, second = SignatureFactory.create_batch(2, statement=statement, state="pending")
    client.post(f"/en/confirm/{tokens.make_token(first, tokens.CONFIRM)}/")
    path = f"/en/confirm/{tokens.make_token(second, tokens.CONFIRM)}/"
    # The token's row, then SAVEPOINT, SELECT … FOR UPDATE, UPDATE, RELEASE.
    with django_assert_num_queries(5):
        response = client.post(path)
    assert response.status_code == 200
    second.refresh_from_db()
    assert second.state == Signature.State.CONFIRMED


def test_confirmation_email_reads_locks_and_updates(statement, django_assert_num_queries):
    first, second = SignatureFactory.create_batch(
        2, statement=statement, state="pending", confirmation_sent_at=None
    )
    assert confirmation_deliver(signature_id=first.pk)
    # SAVEPOINT, SELECT … FOR UPDATE, UPDATE, RELEASE: the statement's title is remembered.
    with django_assert_num_queries(4):
        assert confirmation_deliver(signature_id=second.pk)
    assert len(mail.outbox) == 2
    assert re.search(r"/confirm/\S+/", mail.outbox[1].body)
