"""Personal data stays in the database: not in Redis (broker or cache), not in task
arguments, not in logs."""

import logging

import pytest
import redis
from django.test import Client

from statements.models import Signature
from statements.outbox.tasks import outbox_relay
from tests.conftest import redis_cache, redis_dbs, use_broker
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL

EMAIL = INDIVIDUAL["individual-email"]
NAME = INDIVIDUAL["individual-full_name"]


def _everything_in(db: redis.Redis) -> bytes:
    dump = []
    for key in db.scan_iter():
        dump.append(key)
        kind = db.type(key)
        if kind == b"string":
            dump.append(db.get(key) or b"")
        elif kind == b"list":
            dump.extend(db.lrange(key, 0, -1))
        elif kind == b"hash":
            for field, value in db.hgetall(key).items():
                dump.extend([field, value])
        elif kind == b"set":
            dump.extend(db.smembers(key))
        elif kind == b"zset":
            dump.extend(db.zrange(key, 0, -1))
    return b"\n".join(dump)


@pytest.fixture
def real_redis(transactional_db, redis_server_url, settings):
    broker_db, cache_db_number = redis_dbs()
    broker = redis.Redis.from_url(f"{redis_server_url}/{broker_db}")
    cache_db = redis.Redis.from_url(f"{redis_server_url}/{cache_db_number}")
    broker.flushdb()
    cache_db.flushdb()
    settings.CACHES = {
        **settings.CACHES,
        "default": redis_cache(f"{redis_server_url}/{cache_db_number}", timeout=1),
    }
    from petition.celery import app

    previous = (app.conf.task_always_eager, app.conf.broker_url)
    # No worker: the queued task stays in Redis where we can read it.
    use_broker(f"{redis_server_url}/{broker_db}", eager=False)
    yield broker, cache_db
    use_broker(previous[1], eager=previous[0])
    broker.flushdb()
    cache_db.flushdb()


def test_no_personal_data_in_redis_task_arguments_or_logs(real_redis, caplog):
    from statements.content import load_all

    broker, cache_db = real_redis
    load_all()
    caplog.set_level(logging.DEBUG)
    client = Client()
    client.get("/")
    assert client.post(SIGN_URL, INDIVIDUAL).status_code == 302
    # A duplicate, a rate-limited burst and the public pages touch the cache too.
    for _ in range(6):
        client.post(SIGN_URL, INDIVIDUAL)
    client.get("/api/statements/kazakhstan-2022/counts.json")
    signature = Signature.objects.get()

    # The relay's tick hands the confirmation email to the broker.
    outbox_relay.run()
    queued = broker.lrange("email", 0, -1)
    assert queued, "the confirmation email's batch should be waiting in the broker"
    stored = _everything_in(broker) + _everything_in(cache_db)
    assert stored, "the cache should hold rate-limit and count keys"
    for secret in (EMAIL, EMAIL.split("@")[0], NAME, signature.email_key):
        assert secret.encode() not in stored, secret
    confirmation = signature.emails.order_by("pk").first()
    assert str(confirmation.pk).encode() in b"".join(queued)

    logged = caplog.text
    for secret in (EMAIL, NAME, "127.0.0.1"):
        assert secret not in logged, secret
