"""The site's cache client (petition/cache_fallback.py) against django-redis's stock client:
the same answers and the same Redis contents while Redis is up; answers from memory where the
stock client raises, or reads every call as a miss, while Redis is down."""

from unittest import mock

import pytest
import redis
from django.core.cache import caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache

from petition import cache_fallback
from statements.ratelimit import Budget, over_limits
from tests.conftest import DEAD_REDIS, redis_cache

STOCK = "django_redis.client.DefaultClient"


def _cache(location: str, **options) -> RedisCache:
    return RedisCache(location, {**redis_cache(location, **options), "TIMEOUT": 300})


def _exercise(cache: RedisCache) -> list:
    """The Django cache API as allauth and the site call it, answer by answer."""
    answers = [
        cache.add("spent", "y", 90),
        cache.add("spent", "y", 90),
        cache.set("history", [1.5, 2.5], 60),
        cache.get("history"),
        cache.get("missing", "default"),
        cache.set_many({"n:a": 1, "n:b": 2}, 120),
        cache.get_many(["n:a", "n:b", "n:missing"]),
        cache.incr("n:a", 5),
        cache.decr("n:b"),
        cache.has_key("n:a"),
        cache.touch("n:b", 30),
        cache.delete("history"),
        cache.delete("history"),
        cache.delete_many(["n:b"]),
    ]
    with pytest.raises(ValueError):
        cache.incr("n:missing")
    return answers


def _contents(db: redis.Redis) -> dict:
    """Every key with its raw value and whether it expires (the TTL itself would be timing)."""
    return {key: (db.get(key), db.ttl(key) > 0) for key in db.scan_iter()}


def test_with_redis_up_the_client_answers_and_stores_as_the_stock_one(redis_cache_db):
    db = redis.Redis.from_url(redis_cache_db)
    stock = _exercise(_cache(redis_cache_db, CLIENT_CLASS=STOCK))
    stored_by_stock = _contents(db)
    db.flushdb()
    ours = _exercise(_cache(redis_cache_db))
    assert ours == stock
    assert _contents(db) == stored_by_stock
    assert stored_by_stock[b"petition:1:n:a"] == (b"6", True)  # incr kept the expiry


def test_with_redis_down_the_stock_client_fails_allauth():
    with pytest.raises(redis.ConnectionError):  # staff sign-in: a server error
        _cache(DEAD_REDIS, CLIENT_CLASS=STOCK).add("spent", "y", 90)
    ignoring = _cache(DEAD_REDIS, CLIENT_CLASS=STOCK, IGNORE_EXCEPTIONS=True)
    # allauth marks a TOTP code spent with add(): falsy means "already used", for every code.
    assert not ignoring.add("spent", "y", 90)
    assert ignoring.get("history", []) == []  # its sign-in limits: never any history


def test_with_redis_down_the_client_answers_from_memory_and_waits_before_retrying(caplog):
    cache = _cache(DEAD_REDIS)
    cache.client.memory.clear()
    with mock.patch.object(
        redis.connection.AbstractConnection, "connect", side_effect=redis.ConnectionError
    ) as connect:
        assert _exercise(cache) == [
            True, False, None, [1.5, 2.5], "default", [], {"n:a": 1, "n:b": 2},
            6, 1, True, True, True, False, None,
        ]  # fmt: skip
    assert connect.call_count == 1  # not again for RETRY_SECONDS
    assert "cache unreachable" in caplog.text
    # Another backend of the process (another thread's) shares the memory.
    assert _cache(DEAD_REDIS).get("n:a") == 6
    cache.clear()


def test_once_redis_answers_again_the_client_goes_back_to_it(redis_cache_db):
    cache = _cache(redis_cache_db)
    with mock.patch.object(
        redis.connection.AbstractConnection,
        "send_packed_command",
        side_effect=redis.ConnectionError("refused"),
    ):
        cache.set("where", "memory")
    assert cache.get("where") == "memory"  # Redis answers, but is not asked yet
    assert cache.client.down_until > cache_fallback.time.monotonic()
    cache.client.down_until = 0.0  # RETRY_SECONDS have passed
    assert cache.get("where") is None  # asked Redis, which never had it
    cache.set("where", "redis")
    assert redis.Redis.from_url(redis_cache_db).get("petition:1:where") is not None
    cache.clear()


def test_raw_access_bypasses_the_memory(dead_redis_cache):
    """What the health check and the sign limiter use: Redis itself, never the fallback."""
    caches["default"].set("seen", 1)
    with pytest.raises(redis.ConnectionError):
        get_redis_connection("default").ping()


def test_the_sign_limiter_counts_on_the_caches_connection(settings, redis_cache_db):
    settings.CACHES = {**settings.CACHES, "default": redis_cache(redis_cache_db, timeout=1)}
    budget = Budget("test", "198.51.100.1", "2/h")
    assert [over_limits([budget]) for _ in range(3)] == [False, False, True]
    connection = get_redis_connection("default")
    [key] = connection.keys("rl:test:*")
    assert connection.get(key) == b"3" and connection.ttl(key) > 0
