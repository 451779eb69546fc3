"""Request helpers: the client's address and the sign form's rate limits."""

import ipaddress
import logging

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from django_ratelimit.core import (
    EXPIRATION_FUDGE,
    _get_window,
    _make_cache_key,
    _split_rate,
    is_ratelimited,
)

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client address under the trusted-proxy rule.

    With TRUSTED_PROXY_COUNT = 0 the X-Forwarded-For header is ignored: anyone can write it.
    With N trusted proxies, each appends the address it saw, so the N-th entry from the right
    was written by our outermost proxy; entries further left are the client's own claims.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - a key, not a bind
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [p for p in forwarded if p]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate


def ip_bucket(ip: str) -> str:
    """IPv6 clients get a /64 each (what one subscriber usually holds); IPv4 its address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return ip


Budget = tuple[str, str, str]  # (group, value, rate) in django-ratelimit's terms


def over_limits(request: HttpRequest, budgets: list[Budget], then: list[Budget] = ()) -> bool:
    """Count this POST against each budget, and against those in `then` only if it is within
    all of the first ones; True if any budget counted is exceeded.

    The counting is django-ratelimit's: the same fixed windows, cache keys and counts, so its
    decorators and get_usage() see these budgets as their own. On Redis every budget is
    counted in one round trip (django-ratelimit makes two or three per budget, and a sign POST
    counts three). A cache outage fails open, and is logged, rather than turning signing into
    an error page.
    """
    if not settings.RATELIMIT_ENABLE or request.method != "POST":
        return False
    try:
        cache = caches[settings.RATELIMIT_USE_CACHE]
        if not isinstance(cache, RedisCache):
            return _over_limits_elsewhere(request, budgets, then)
        keys, args = [], []
        for group, value, rate in [*budgets, *then]:
            limit, period = _split_rate(rate)
            key = _make_cache_key(group, _get_window(value, period), rate, value, "POST")
            keys.append(cache.make_and_validate_key(key))
            args += [period + EXPIRATION_FUDGE, limit]
        counts = _count_script(cache)(keys=keys, args=[*args, len(budgets)])
        return any(count > limit for count, limit in zip(counts, args[1::2], strict=False))
    except Exception:
        groups = ", ".join(group for group, _value, _rate in [*budgets, *then])
        logger.warning("rate-limit cache unavailable; %s not enforced for this request", groups)
        return False


def _over_limits_elsewhere(request: HttpRequest, budgets: list[Budget], then: list[Budget]):
    """The same counting through django-ratelimit itself, for caches other than Redis."""

    def counted(group: str, value: str, rate: str) -> bool:
        return is_ratelimited(
            request,
            group=group,
            key=lambda _group, _request: value,
            rate=rate,
            method="POST",
            increment=True,
        )

    over = any([counted(*budget) for budget in budgets])
    return over or any([counted(*budget) for budget in then])


# django-ratelimit's counting (add the key with its expiry if new, then increment) for every
# key; keys after the first ARGV[#ARGV] only while none of those is over its limit.
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
_scripts: dict[object, object] = {}  # per connection pool


def _count_script(cache: RedisCache):
    client = cache._cache.get_client(write=True)
    script = _scripts.get(client.connection_pool)
    if script is None:
        script = _scripts[client.connection_pool] = client.register_script(_COUNT)
    return script


def sign_rate_limited(request: HttpRequest, email_key: str | None) -> bool:
    """Count a sign POST against the client's burst and sustained budgets, and, if it is within
    them and the form gave an address, against the budget of that normalised address."""
    bucket = ip_bucket(client_ip(request))
    return over_limits(
        request,
        [
            ("sign-ip-burst", bucket, settings.SIGN_RATE_IP_BURST),
            ("sign-ip-sustained", bucket, settings.SIGN_RATE_IP_SUSTAINED),
        ],
        then=[("sign-email", email_key, settings.SIGN_RATE_EMAIL)] if email_key else [],
    )
