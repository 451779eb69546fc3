"""Request helpers: the client's address and the sign form's rate limits."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from statements.ratelimit import Budget, over_limits


def client_ip(request: HttpRequest) -> str:
    """The client address under the trusted-proxy rule.

    With TRUSTED_PROXY_COUNT = 0 the X-Forwarded-For header is ignored: anyone can write it.
    With N trusted proxies, each appends the address it saw, so the N-th entry from the right
    was written by our outermost proxy; entries further left are the client's own claims.
    An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) is given as that IPv4 address.
    """
    remote = _unmapped(request.META.get("REMOTE_ADDR", "") or "0.0.0.0")  # noqa: S104 - a key
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
    return _unmapped(candidate)


def _unmapped(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped) if mapped is not None else ip


def ip_bucket(ip: str) -> str:
    """The rate-limit bucket of a client address: IPv4 its address; IPv6 its /64 (what one
    subscriber usually holds), except where an IPv4 address is wrapped inside, which is then
    the bucket. Every IPv4 client behind an IPv6 socket arrives as ::ffff:a.b.c.d, all in one
    /64; so do all the Teredo clients of one server (2001:0:<server>::/64), while one 6to4
    site (2002:<ipv4>::/48) spans 65,536 /64s."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address.sixtofour is not None:
        return str(address.sixtofour)
    if address.teredo is not None:
        return str(address.teredo[1])  # (server, client): the client's own address
    return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)


def sign_rate_limited(request: HttpRequest, email_key: str | None) -> bool:
    """Count a sign POST against the client's burst and sustained budgets, and, if it is within
    them and the form gave an address, against the budget of that normalised address."""
    if request.method != "POST":
        return False
    bucket = ip_bucket(client_ip(request))
    return over_limits(
        [
            Budget("sign-ip-burst", bucket, settings.SIGN_RATE_IP_BURST),
            Budget("sign-ip-sustained", bucket, settings.SIGN_RATE_IP_SUSTAINED),
        ],
        then=[Budget("sign-email", email_key, settings.SIGN_RATE_EMAIL)] if email_key else [],
    )
