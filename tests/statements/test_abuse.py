"""Rate limits, outages and races on the sign form: 429s and stored rows, never a 500."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from petition.celery import app as celery_app
from statements import tasks
from statements.models import Signature
from statements.outbox import tasks as outbox_tasks
from tests.conftest import DEAD_REDIS, redis_cache, set_eager, use_broker
from tests.factories import SignatureFactory
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL


def individual(n: int, **overrides) -> dict:
    return {**INDIVIDUAL, "individual-email": f"person{n}@example.org", **overrides}


def test_ip_burst_gets_429_with_the_form_still_filled(client, statement, settings):
    settings.SIGN_RATE_IP_BURST = "5/m"
    for n in range(5):
        assert client.post(SIGN_URL, individual(n)).status_code == 302
    response = client.post(SIGN_URL, individual(99), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many attempts" in body
    assert 'value="person99@example.org"' in body
    assert Signature.objects.count() == 5


def test_a_form_with_a_field_error_spends_no_budget(client, statement, settings):
    settings.SIGN_RATE_IP_BURST = "3/m"
    for _ in range(10):
        mistake = individual(0, **{"individual-email": "person0@example"})
        assert client.post(SIGN_URL, mistake).status_code == 400
    assert [client.post(SIGN_URL, individual(n)).status_code for n in range(4)] == [
        302,
        302,
        302,
        429,
    ]


class _Stopped:
    """The clock of the rate limits, stopped: the whole meeting falls in one ten-minute
    window, as it would if everybody signed at once."""

    monotonic = staticmethod(time.monotonic)
    now = (time.time() // 600) * 600 + 1

    @classmethod
    def time(cls) -> float:
        return cls.now


@mock.patch("statements.ratelimit.time", _Stopped)
def test_a_meeting_of_a_hundred_on_one_wifi_signs_and_a_flood_stops(client, statement):
    # The production budgets: a hundred people behind one address sign, even all at once,
    # each after a typing mistake; the hundred-and-first signature from it waits.
    for n in range(100):
        assert (
            client.post(SIGN_URL, individual(n, **{"individual-email": "typo"})).status_code == 400
        )
        assert client.post(SIGN_URL, individual(n)).status_code == 302
    assert Signature.objects.count() == 100
    assert client.post(SIGN_URL, individual(100)).status_code == 429
    assert Signature.objects.count() == 100


def test_429_message_is_translated(client, statement, settings):
    settings.SIGN_RATE_IP_BURST = "1/m"
    client.post(SIGN_URL, individual(0))
    response = client.post(SIGN_URL.replace("/en/", "/ru/"), individual(1))
    assert response.status_code == 429
    assert "Слишком много попыток" in response.content.decode()


def test_forged_forwarded_for_buys_no_budget_without_trusted_proxies(client, statement, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.SIGN_RATE_IP_BURST = "3/m"
    statuses = [
        client.post(SIGN_URL, individual(n), HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]


def test_behind_one_proxy_only_the_proxys_entry_counts(client, statement, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SIGN_RATE_IP_BURST = "2/m"
    # The client forges entries to the left; our proxy appends the real address last.
    forged = [
        client.post(
            SIGN_URL, individual(n), HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.7"
        ).status_code
        for n in range(3)
    ]
    assert forged == [302, 302, 429]
    other_client = client.post(SIGN_URL, individual(9), HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert other_client.status_code == 302


def test_email_limit_holds_across_addresses_and_aliases(client, statement, settings):
    settings.SIGN_RATE_EMAIL = "3/h"
    aliases = ["ana@gmail.com", "A.N.A@gmail.com", "ana+1@googlemail.com", "ANA+2@gmail.com"]
    statuses = [
        client.post(
            SIGN_URL, individual(0, **{"individual-email": alias}), REMOTE_ADDR=f"192.0.2.{n}"
        ).status_code
        for n, alias in enumerate(aliases)
    ]
    assert statuses == [302, 302, 302, 429]
    assert Signature.objects.count() == 1


@pytest.fixture
def redis_down(settings):
    """Redis unreachable, behind django-redis's stock client (no memory fallback): signing
    must not lean on the site's fallback client either."""
    stock = redis_cache(DEAD_REDIS, CLIENT_CLASS="django_redis.client.DefaultClient")
    settings.CACHES = {**settings.CACHES, "default": stock}


def test_redis_down_never_turns_signing_into_an_error(
    client, statement, redis_down, django_capture_on_commit_callbacks, caplog
):
    assert client.get("/en/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SIGN_URL, individual(1))
    assert response.status_code == 302
    assert Signature.objects.count() == 1
    assert len(mail.outbox) == 1
    assert "rate-limit cache unavailable" in caplog.text
    assert client.get("/api/statements/kazakhstan-2022/counts.json").status_code == 200


@pytest.fixture
def broker_down():
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    use_broker("redis://127.0.0.1:1/0", eager=False)
    yield
    use_broker(previous[1], eager=previous[0])


def test_broker_down_stores_the_signature_and_its_email_leaves_once_it_is_back(
    client, statement, django_capture_on_commit_callbacks, broker_down
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SIGN_URL, individual(1))
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.emails.get().state == "queued"
    assert mail.outbox == []

    # The broker is back: the relay's next tick hands the email over.
    set_eager(True)
    outbox_tasks.outbox_relay.delay()
    assert signature.emails.get().state == "sent"
    assert [m.to for m in mail.outbox] == [["person1@example.org"]]


def test_unconfirmed_signatures_are_purged_after_the_retention_period(statement, settings):
    settings.SIGNATURE_RETENTION = timedelta(days=30)
    old = timezone.now() - timedelta(days=31)
    stale = SignatureFactory(statement=statement, state="pending", created_at=old)
    fresh = SignatureFactory(statement=statement, state="pending")
    confirmed = SignatureFactory(statement=statement, state="confirmed", created_at=old)
    assert tasks.signature_purge.delay().get() == 1
    remaining = set(Signature.objects.values_list("pk", flat=True))
    assert remaining == {fresh.pk, confirmed.pk}
    assert stale.pk not in remaining


def test_fifty_concurrent_identical_posts_make_one_row(transactional_db, settings):
    from statements.content import load_all

    load_all()
    settings.SIGN_RATE_IP_BURST = settings.SIGN_RATE_IP_SUSTAINED = "1000/m"
    settings.SIGN_RATE_EMAIL = "1000/m"
    barrier = threading.Barrier(50)

    def post(_):
        try:
            barrier.wait(timeout=30)
            return Client().post(SIGN_URL, INDIVIDUAL).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(post, range(50)))
    assert statuses == [302] * 50
    assert Signature.objects.count() == 1
    signature = Signature.objects.get()
    # Fifty submissions, fifty outbox rows, at most the cap of them to be sent.
    assert signature.emails.count() == 50
    assert signature.emails.exclude(state="cancelled").count() <= settings.SIGNATURE_MAX_EMAILS
