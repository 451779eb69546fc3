"""Django's Redis cache backend, without two costs that show on the hot paths.

Every sign POST counts three rate limits and every confirmation bumps a counter, so each
request makes several cache calls. The stock backend (Django 6.1) spends most of such a call
outside Redis:

- it builds a new redis-py client object for every operation, which costs more than the round
  trip itself; here one client per connection pool is made and shared (redis-py clients are
  thread-safe: each command takes a connection from the pool);
- incr() is EXISTS then INCRBY, two round trips, and a key that expires between them comes
  back without its expiry (a rate-limit window that never closes); here it is one atomic
  script.

Everything else, including the keys and the serialisation, is Django's.

And it keeps answering while Redis is away. allauth counts its sign-in limits and spent TOTP
codes in the default cache; with the stock backend, a Redis outage turns staff sign-in into a
server error. Here an operation that cannot reach Redis is done in a per-process memory cache
instead, and Redis is not tried again for RETRY_SECONDS (so an outage does not add a
connection timeout to every call). Limits and spent codes then hold per process until Redis
is back. `ping()` asks Redis itself, for health checks.
"""

import logging
import time

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)

_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._incr_script = None

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        if self._incr_script is None:
            self._incr_script = client.register_script(_INCR_EXISTING)
        value = self._incr_script(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
        self.fallback = LocMemCache(f"fallback-{id(self)}", {**params, "OPTIONS": {}})
        self.down_until = 0.0

    def _either(self, name: str, *args, **kwargs):
        if time.monotonic() >= self.down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except UNREACHABLE:
                self.down_until = time.monotonic() + RETRY_SECONDS
                logger.warning("cache unreachable: this process uses its own memory for now")
        return getattr(self.fallback, name)(*args, **kwargs)

    def ping(self) -> bool:
        """Whether Redis itself answers (never the fallback)."""
        try:
            super().has_key("ping")
        except UNREACHABLE:
            return False
        return True

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._either("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._either("delete", key, version)

    def get_many(self, keys, version=None):
        return self._either("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._either("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._either("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._either("delete_many", keys, version)

    def clear(self):
        self.fallback.clear()
        return self._either("clear")
