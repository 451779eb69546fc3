"""First in MIDDLEWARE, around everything else: request ids and request metrics.

- Every request gets an id: the proxy's X-Request-ID when it sent one, a new one otherwise.
  Log lines written while the request runs carry it (LOG_FORMAT=json), the response returns it,
  and the Celery tasks the request queues carry it on (ops/propagation.py).
- Every request is counted by view name, method and status, and timed (ops/metrics.py).
"""

import time

from django.conf import settings

from ops import metrics
from ops.logs import accept_request_id, request_id

# The key the start-up warm-up sets in its requests' environ (ops/warmup.py): not counted.
WARMUP = "petition.warmup"


class OperationsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = settings.STATIC_URL or "/static/"

    def __call__(self, request):
        rid = accept_request_id(request.headers.get("X-Request-ID"))
        token = request_id.set(rid)
        request.request_id = rid
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            if WARMUP not in request.META:
                seconds = time.perf_counter() - started
                metrics.observe(
                    self._view_name(request), request.method, response.status_code, seconds
                )
            response.headers.setdefault("X-Request-ID", rid)
            return response
        finally:
            request_id.reset(token)

    def _view_name(self, request) -> str:
        match = getattr(request, "resolver_match", None)
        if match is not None:
            return match.view_name
        if request.path_info.startswith(self.static_prefix):
            return "static"
        return "unmatched"
