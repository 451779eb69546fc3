"""Request helpers: the client's address and the sign form's rate limits."""

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

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


def over_limit(request: HttpRequest, *, group: str, value: str, rate: str) -> bool:
    """Count this POST against `value`'s budget. A cache outage fails open, and is logged,
    rather than turning signing into an error page."""
    try:
        return is_ratelimited(
            request,
            group=group,
            key=lambda _group, _request: value,
            rate=rate,
            method="POST",
            increment=True,
        )
    except Exception:
        logger.warning("rate-limit cache unavailable; %s not enforced for this request", group)
        return False


def ip_rate_limited(request: HttpRequest) -> bool:
    """Count a sign POST against the client's burst and sustained budgets."""
    bucket = ip_bucket(client_ip(request))
    burst = over_limit(
        request, group="sign-ip-burst", value=bucket, rate=settings.SIGN_RATE_IP_BURST
    )
    sustained = over_limit(
        request, group="sign-ip-sustained", value=bucket, rate=settings.SIGN_RATE_IP_SUSTAINED
    )
    return burst or sustained


def email_rate_limited(request: HttpRequest, email_key: str) -> bool:
    """Count a sign POST against the budget of its normalised email address."""
    return over_limit(request, group="sign-email", value=email_key, rate=settings.SIGN_RATE_EMAIL)
