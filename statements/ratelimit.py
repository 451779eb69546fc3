"""The sign form's rate limits: fixed windows, counted in Redis in one round trip, and in this
process's memory while Redis cannot be reached.

Defends against one client or one address signing without bound, and against a Redis outage
switching the limits off: while Redis is away every budget is counted per process, so a
client gets at most the budget times the number of web processes (a ceiling, where failing
open would leave none). A failed connection is not retried for RETRY_SECONDS, so an outage
does not add a connection timeout to every sign POST. Keys hold a hash of the counted value
(a client's address bucket, a normalised email), never the value itself.

The site owns this limiter outright (django-ratelimit's helpers are private): it counts
on the cache's own Redis connection where the cache is django-redis (its documented raw
access, `get_redis_connection`), and through Django's cache API otherwise (the embedded
default's local-memory cache).
"""

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import caches
from django_redis import get_redis_connection

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")


@dataclass(frozen=True)
class Budget:
    group: str
    value: str
    rate: str  # "count/period": 5/m, 50/h, 10/5m


def parse_rate(rate: str) -> tuple[int, int]:
    """(limit, period in seconds) of "5/m", "50/h", "10/5m"."""
    match = _RATE.match(rate.strip())
    if match is None:
        raise ValueError(f"not a rate: {rate!r}")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * UNITS[unit]


def _key(budget: Budget, period: int, now: float) -> str:
    digest = hashlib.sha256(f"{budget.group}\0{budget.value}".encode()).hexdigest()[:32]
    return f"rl:{budget.group}:{period}:{int(now // period)}:{digest}"


# Count every key (setting its expiry when new); keys after the first ARGV[#ARGV] only while
# none of those is over its limit.
_COUNT = """
local always = tonumber(ARGV[#ARGV])
local counts = {}
local over = false
for i, key in ipairs(KEYS) do
    if i > always and over then
        break
    end
    redis.call('SET', key, 0, 'EX', ARGV[2 * i - 1], 'NX')
    counts[i] = redis.call('INCR', key)
    if counts[i] > tonumber(ARGV[2 * i]) then
        over = true
    end
end
return counts
"""


class _Local:
    """Fixed-window counters in this process, for while Redis is away."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[str, tuple[int, float]] = {}

    def count(self, keys: list[str], periods: list[int], limits: list[int], always: int):
        now = time.monotonic()
        counts = []
        with self.lock:
            if len(self.counts) > 100_000:  # windows expire; drop the dead ones now and then
                self.counts = {k: v for k, v in self.counts.items() if v[1] > now}
            for i, key in enumerate(keys):
                if i >= always and any(c > lim for c, lim in zip(counts, limits, strict=False)):
                    break
                value, expires = self.counts.get(key, (0, 0.0))
                if expires <= now:
                    value, expires = 0, now + periods[i]
                self.counts[key] = (value + 1, expires)
                counts.append(value + 1)
        return counts


_local = _Local()
_script = None
_down_until = 0.0


def reset() -> None:
    """Forget the in-process counts and any outage (tests start from a clean slate)."""
    global _down_until
    _local.counts.clear()
    _down_until = 0.0


def _redis() -> redis.Redis | None:
    """The cache's Redis connection, or None where the cache is not django-redis."""
    try:
        return get_redis_connection(settings.RATELIMIT_USE_CACHE)
    except NotImplementedError:
        return None


def _count_on(connection: redis.Redis, keys, periods, limits, always) -> list[int]:
    global _script
    if _script is None:
        _script = connection.register_script(_COUNT)
    args = [value for pair in zip(periods, limits, strict=True) for value in pair]
    return _script(keys=keys, args=[*args, always], client=connection)


def _cache_count(keys, periods, limits, always):
    """Through Django's cache API: add with expiry, then increment (the local-memory cache of
    the embedded default; atomic within its one process)."""
    cache = caches[settings.RATELIMIT_USE_CACHE]
    counts = []
    for i, key in enumerate(keys):
        if i >= always and any(c > lim for c, lim in zip(counts, limits, strict=False)):
            break
        cache.add(key, 0, periods[i] + 1)
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, periods[i] + 1)
            counts.append(1)
    return counts


def over_limits(budgets: list[Budget], then: list[Budget] = ()) -> bool:
    """Count one attempt against each budget, and against those in `then` only if it is
    within all of the first ones; True if any budget counted is exceeded."""
    global _down_until
    if not settings.RATELIMIT_ENABLE:
        return False
    now = time.time()
    keys, periods, limits = [], [], []
    for budget in [*budgets, *then]:
        limit, period = parse_rate(budget.rate)
        keys.append(_key(budget, period, now))
        periods.append(period)
        limits.append(limit)
    always = len(budgets)
    connection = _redis()
    if connection is None:
        counts = _cache_count(keys, periods, limits, always)
    elif time.monotonic() < _down_until:
        counts = _local.count(keys, periods, limits, always)
    else:
        try:
            counts = _count_on(connection, keys, periods, limits, always)
        except redis.RedisError:
            _down_until = time.monotonic() + RETRY_SECONDS
            groups = ", ".join(budget.group for budget in [*budgets, *then])
            logger.warning("rate-limit cache unavailable; %s counted in this process", groups)
            counts = _local.count(keys, periods, limits, always)
    return any(int(count) > limit for count, limit in zip(counts, limits, strict=False))
