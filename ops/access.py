"""Who may read the operational details: health details and metrics.

Internal callers are the ones that either present the METRICS_TOKEN as a bearer token
(Prometheus, a monitoring probe across the network) or connect from this host's loopback
interface without passing through a proxy (the container's own health check, an operator's
curl on the machine). Everyone else gets a bare status, so nobody outside learns, say, that the
cache is down and the rate limits with it.
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest

from statements.http import client_ip

# Headers a proxy adds. With TRUSTED_PROXY_COUNT = 0 no proxy is expected; a loopback request
# carrying one of them came through a proxy on this host, on behalf of someone else.
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def has_metrics_token(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    if not expected:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def is_internal(request: HttpRequest) -> bool:
    if has_metrics_token(request):
        return True
    if settings.TRUSTED_PROXY_COUNT <= 0 and any(h in request.META for h in _PROXY_HEADERS):
        return False
    # Under the trusted-proxy rule: a request through the proxies is the client's address,
    # a direct connection on this host is loopback.
    return is_loopback(client_ip(request))
