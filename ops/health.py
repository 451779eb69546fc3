"""Health for orchestrators and load balancers.

- /healthz/live: the process answers. Nothing else is checked, so a database or Redis outage
  never gets a healthy process restarted.
- /healthz/ready: the database is reachable, so the process can do its work. Redis (cache and
  rate limits) and the Celery broker are reported but do not fail readiness: signing survives
  without them (rate limits fall back, emails wait in the outbox until the broker is back),
  and a Redis blip must not take every web process out of the load balancer at once. The
  details also give the outbox's depth and the age of its oldest unsent email.
- /healthz: the same as /healthz/ready, for the scripts and probes written against it.

Public callers get a bare {"status": ...}; internal callers (see ops/access.py) get each part.
A public caller does not even cause the cache and broker checks, so the answer's timing says
nothing about them either.
"""

import contextlib
import logging

from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django_redis import get_redis_connection

from ops.access import is_internal
from ops.routers import REPLICA
from statements.outbox.selectors import outbox_health

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"


def _answer(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


def live(request: HttpRequest) -> JsonResponse:
    return _answer({"status": OK})


def ready(request: HttpRequest) -> JsonResponse:
    database = check_database("default")
    is_ready = database == OK
    body: dict[str, object] = {"status": OK if is_ready else UNAVAILABLE}
    if is_internal(request):
        body["database"] = database
        if REPLICA in connections.settings:
            body["replica"] = check_database(REPLICA)
        body["cache"] = check_cache()
        body["broker"] = check_broker()
        if database == OK:
            body["outbox"] = outbox_health()
    return _answer(body, status=200 if is_ready else 503)


def check_database(alias: str) -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
        return OK
    except Exception:
        logger.warning("health check: database %s unavailable", alias)
        return UNAVAILABLE


def check_cache() -> str:
    try:
        # The site's Redis cache answers from memory while Redis is away
        # (petition/cache_fallback.py): ask Redis itself.
        with contextlib.suppress(NotImplementedError):  # not Redis: the embedded default
            get_redis_connection("default").ping()
        cache.set("healthz", "1", 10)
        return OK if cache.get("healthz") == "1" else UNAVAILABLE
    except Exception:
        logger.warning("health check: cache unavailable")
        return UNAVAILABLE


def check_broker() -> str:
    from petition.celery import app

    if app.conf.task_always_eager:
        return "eager"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        return OK
    except Exception:
        logger.warning("health check: broker unavailable")
        return UNAVAILABLE
