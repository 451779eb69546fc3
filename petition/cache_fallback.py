"""A django-redis client that answers from this process's memory while Redis is unreachable.

Set as the cache's `OPTIONS["CLIENT_CLASS"]`, django-redis's extension point for pluggable
clients; everything else (connection pools, keys, serialisation, the one-round-trip `incr`
that keeps a key's expiry) is django-redis's `DefaultClient`.

Why any code at all: allauth counts its sign-in rate limits and spent TOTP codes in the
default cache, and django-redis offers two answers to an outage, neither of which works here
(`tests/test_cache_fallback.py` shows both):

- by default every cache call raises, so a Redis outage turns staff sign-in into a server
  error;
- with `IGNORE_EXCEPTIONS` every call reads as a miss: `add()` returns None, so allauth takes
  every TOTP code for one already spent (nobody can sign in) and its rate-limit lock is never
  taken (each attempt waits a second).

Here a call that cannot reach Redis is made on a local-memory cache instead, shared by the
process's threads, and Redis is not tried again for RETRY_SECONDS, so an outage does not add
a connection timeout to every call. Limits and spent codes then hold per process until Redis
is back. Only the Django cache API falls back (the calls allauth and the site make);
django-redis's extras (locks, sets, `ttl`, ...) still raise. Health checks ask Redis itself
through `django_redis.get_redis_connection()`, which this client does not cover.
"""

import logging
import time

import redis
from django.core.cache.backends.locmem import LocMemCache
from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)


def _unreachable(error: Exception) -> bool:
    cause = error.__cause__ if isinstance(error, ConnectionInterrupted) else error
    return isinstance(cause, UNREACHABLE)


class MemoryFallbackClient(DefaultClient):
    def __init__(self, server, params, backend):
        super().__init__(server, params, backend)
        # Named by the location, so every thread's backend in this process shares one memory.
        self.memory = LocMemCache(f"redis-fallback:{server}", {**params, "OPTIONS": {}})
        self.down_until = 0.0

    def _either(self, name: str, *args, **kwargs):
        # A caller that passes its own connection (set_many's pipeline) means Redis.
        if kwargs.get("client") is not None or time.monotonic() >= self.down_until:
            try:
                return getattr(DefaultClient, name)(self, *args, **kwargs)
            except (ConnectionInterrupted, *UNREACHABLE) as error:
                if kwargs.get("client") is not None or not _unreachable(error):
                    raise
                self.down_until = time.monotonic() + RETRY_SECONDS
                logger.warning("cache unreachable: this process uses its own memory for now")
        kwargs.pop("client", None)
        if kwargs.pop("nx", False):  # DefaultClient.add is set(nx=True)
            name = "add"
        return getattr(self.memory, name)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._either("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._either("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._either("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._either("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._either("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._either("get_many", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._either("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._either("delete_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._either("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._either("incr", *args, **kwargs)

    def decr(self, *args, **kwargs):
        return self._either("decr", *args, **kwargs)

    def clear(self, *args, **kwargs):
        self.memory.clear()
        return self._either("clear", *args, **kwargs)
