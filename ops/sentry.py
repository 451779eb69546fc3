"""Error reports to Sentry when SENTRY_DSN is set, with no personal data in them.

The SDK is told not to send what it would by default identify someone with (user, IP
address, cookies: `send_default_pii=False`), nor request bodies (what a signer typed), nor
local variables (a frame may hold a signature's email). `scrub` then removes what could still
slip through in the text of a message or exception: email addresses, and the tokens that
confirmation, withdrawal and invitation links carry in their paths.
"""

import re
from typing import Any

EMAIL = re.compile(r"[^\s@<>()\"',;:]+@[^\s@<>()\"',;:]+\.[A-Za-z]{2,}")
# A path segment of 20 or more letters, digits, ":", "_" or "-" is a signed token.
TOKEN = re.compile(r"(?<=/)[A-Za-z0-9:_\-]{20,}(?=/|$|\?)")
# Request headers kept in a report; everything else (Cookie, Authorization, …) is dropped.
SAFE_HEADERS = {"accept", "accept-language", "content-type", "content-length", "user-agent", "host"}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return TOKEN.sub("[token]", EMAIL.sub("[email]", value))
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def scrub(event: dict, hint: dict | None = None) -> dict:
    """before_send: the event without request body, cookies, query string or personal data."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k.lower() in SAFE_HEADERS}
    event.pop("user", None)
    return _clean(event)


def scrub_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    return _clean(crumb)


def init(dsn: str, *, environment: str = "", release: str = "", transport=None) -> None:
    """Errors only (no performance tracing). `transport` replaces the network, for tests."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        # The SDK's documented switch for personal data (newer releases derive their
        # `data_collection` defaults from it when that is not given).
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=0.0,
        before_send=scrub,
        before_send_transaction=scrub,
        before_breadcrumb=scrub_breadcrumb,
        integrations=[DjangoIntegration(transaction_style="url"), CeleryIntegration()],
        transport=transport,
    )
