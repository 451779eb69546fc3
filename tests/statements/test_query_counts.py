"""Database queries on the hot paths, pinned: a change that adds one to a request that runs
hundreds of times a second shows up here, not in production.

Each case makes the request once to warm the per-process reads (the statement, its texts,
the rendered page, the counts), then counts the queries of the next one. Inside a test the
durable transactions are savepoints, hence the SAVEPOINT/RELEASE pairs in the counts.
"""

import re

import pytest
from django.core import mail
from django.db import connection

from statements import tokens, views
from statements.models import Signature
from statements.outbox import relay, sender
from statements.outbox.models import Email
from tests.factories import SignatureFactory
from tests.outbox.helpers import queue_confirmations
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


def test_the_signers_own_thanks_page_makes_no_query(client, statement, django_assert_num_queries):
    location = client.post(SIGN_URL, individual(0))["Location"]
    client.get(location)
    with django_assert_num_queries(0):
        page = client.get(location)
    assert page.status_code == 200 and "count0@example.org" in page.content.decode()


def test_sign_post_is_one_statement_either_way(
    client, statement, django_assert_num_queries, monkeypatch
):
    """A first signature and a duplicate make the same single statement: the signature (or
    the count on the row holding the address) and its outbox row. Nothing else: no broker,
    no lookup of the existing row."""
    # However long this test takes, the statement read for the first POST is reused.
    monkeypatch.setattr(views, "SIGNING_STATE_SECONDS", 3600)
    client.post(SIGN_URL, individual(0))
    for data in (individual(1), individual(1)):
        # SAVEPOINT, the statement, RELEASE (on SQLite the outbox INSERT is a second one).
        expected = ["SAVEPOINT", "WITH", "RELEASE"]
        if connection.vendor == "sqlite":
            expected = ["SAVEPOINT", "INSERT", "INSERT", "RELEASE"]
        with django_assert_num_queries(len(expected)) as captured:
            assert client.post(SIGN_URL, data).status_code == 302
        assert [q["sql"].split()[0] for q in captured.captured_queries] == expected
    assert Signature.objects.count() == 2
    # Still unconfirmed, the duplicate got a fresh link: three confirmations.
    assert list(Email.objects.values_list("kind", flat=True)) == ["confirmation"] * 3


def test_the_sign_statement_stays_in_psycopgs_cache_of_parsed_queries(settings):
    """psycopg keeps the parsed form of a query of at most 4096 bytes and 50 parameters
    (psycopg/_queries.py); a longer one is parsed anew on every sign POST (0.3 ms)."""
    from statements import services

    for vendor in ("postgresql", "sqlite"):
        _fields, statement, _email = services._sign_statements(
            vendor, settings.SIGNATURE_MAX_EMAILS
        )
        assert len(statement.encode()) <= 4096
        assert statement.count("%s") <= 50


def test_confirm_post_is_one_update(client, statement, django_assert_num_queries):
    """Confirming through the link is one UPDATE … RETURNING: the new state and what the
    page shows come back from it, with no read before and no transaction around it."""
    first, second = SignatureFactory.create_batch(2, statement=statement, state="pending")
    client.post(f"/en/confirm/{tokens.make_token(first, tokens.CONFIRM)}/")
    path = f"/en/confirm/{tokens.make_token(second, tokens.CONFIRM)}/"
    with django_assert_num_queries(1) as captured:
        response = client.post(path)
    assert response.status_code == 200
    assert captured.captured_queries[0]["sql"].startswith("UPDATE")
    assert "Your signature is confirmed and counted." in response.content.decode()
    second.refresh_from_db()
    assert second.state == Signature.State.CONFIRMED
    # A used link: the UPDATE finds nothing unconfirmed, the row is read, the page says so.
    with django_assert_num_queries(2):
        again = client.post(path)
    assert "Already confirmed" in again.content.decode()


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_sign_statement_runs_alone_in_autocommit(client, monkeypatch):
    """Outside a test's own transaction, PostgreSQL runs the sign statement by itself, in
    autocommit: no atomic block, so neither BEGIN nor COMMIT costs a round trip. (SQLite's
    two statements keep their transaction.)"""
    from statements.content import load_all

    load_all()
    monkeypatch.setattr(views, "SIGNING_STATE_SECONDS", 3600)
    client.post(SIGN_URL, individual(0))
    seen = []

    def observe(execute, sql, params, many, context):
        seen.append((sql.split()[0], connection.in_atomic_block, connection.get_autocommit()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(observe):
        assert client.post(SIGN_URL, individual(1)).status_code == 302
    # (What follows the statement is the email leaving in-process, the embedded default's
    # eager relay, once the signature is committed.)
    if connection.vendor == "postgresql":
        assert seen[0] == ("WITH", False, True)
    else:
        assert [entry for entry in seen if entry[0] == "INSERT"][:2] == [
            ("INSERT", True, False)
        ] * 2
    assert Signature.objects.filter(email="count1@example.org").exists()
    assert Email.objects.filter(signature__email="count1@example.org").count() == 1


def test_a_batch_of_emails_costs_two_queries_and_one_update_each(
    statement, django_assert_num_queries
):
    queue_confirmations(statement, 2)
    claim, ids = relay.claim_batch(size=100)
    assert sender.deliver_batch(claim=claim, ids=ids).sent == 2  # the statement's title read
    emails = queue_confirmations(statement, 20)
    claim, ids = relay.claim_batch(size=100)
    # The hold on the batch and its rows with their signatures, in one transaction (here a
    # savepoint), then one UPDATE per email sent (one connection: each is marked before the
    # next goes), on PostgreSQL committed without waiting for the disk (SET … RESET).
    before, after = (["SET"], ["RESET"]) if connection.vendor == "postgresql" else ([], [])
    take = ["SAVEPOINT", "UPDATE", "SELECT", "RELEASE"]
    with django_assert_num_queries(len(take + before + after) + 20) as captured:
        assert sender.deliver_batch(claim=claim, ids=ids).sent == 20
    verbs = [q["sql"].split()[0] for q in captured.captured_queries]
    assert verbs == take + before + ["UPDATE"] * 20 + after
    assert len(mail.outbox) == 22
    assert all(re.search(r"/confirm/\S+/", m.body) for m in mail.outbox)
    assert sorted(m.to[0] for m in mail.outbox[2:]) == sorted(e.signature.email for e in emails)
