"""The Prometheus endpoint, /metrics, for internal callers only (see ops/access.py).

Two kinds of figures:
- per request, counted in each web process: requests by view, method and status, and their
  latency by view. Under gunicorn every worker process writes its counts to files in
  PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, set up by
  petition/gunicorn.conf.py), so any process answers for all of them;
- the site's figures, read at scrape time from the database and the broker (ops/figures.py):
  signatures by kind and state, emails waiting, sent and refused, the oldest waiting email's
  age, Celery queue lengths, exports and their build times.

Labels are view names, never paths: paths carry tokens and would make a series per visitor.
"""

import logging
import os

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from ops import figures
from ops.access import is_internal

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "petition_http_requests",
    "HTTP requests answered, by view name, method and status code.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "petition_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by view name.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe(view: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(view, method if method in METHODS else "other", str(status)).inc()
    LATENCY.labels(view).observe(seconds)


class SiteCollector:
    """The site's figures, collected when Prometheus asks."""

    def collect(self):
        yield from _part("signatures", _signature_metrics)
        yield from _part("emails", _email_metrics)
        yield from _part("exports", _export_metrics)
        yield from _part("queues", _queue_metrics)

    def describe(self):
        return []


def _part(name: str, produce):
    """One group of figures; a failing group (the database is down) is reported as down
    instead of failing the whole scrape."""
    up = GaugeMetricFamily(
        "petition_figures_up", "Whether a group of site figures could be read.", labels=["part"]
    )
    try:
        metrics = list(produce())
    except Exception:
        logger.warning("metrics: %s figures unavailable", name)
        metrics = []
        up.add_metric([name], 0)
    else:
        up.add_metric([name], 1)
    yield from metrics
    yield up


def _signature_metrics():
    found = figures.remembered("signatures", figures.signature_figures)
    family = GaugeMetricFamily(
        "petition_signatures", "Signatures stored, by kind and state.", labels=["kind", "state"]
    )
    for (kind, state), count in sorted(found.items()):
        family.add_metric([kind, state], count)
    yield family


def _email_metrics():
    found = figures.remembered("emails", figures.email_figures)
    family = GaugeMetricFamily(
        "petition_emails", "Emails in the outbox by state: unsent, sent, refused.", labels=["state"]
    )
    family.add_metric(["unsent"], found.unsent)
    family.add_metric(["sent"], found.sent)
    family.add_metric(["refused"], found.refused)
    yield family
    yield GaugeMetricFamily(
        "petition_email_oldest_unsent_age_seconds",
        "Age of the oldest email still waiting to be sent; 0 when none waits.",
        value=found.oldest_unsent_age,
    )


def _export_metrics():
    found = figures.remembered("exports", figures.export_figures)
    exports = GaugeMetricFamily("petition_exports", "Signatory exports by state.", labels=["state"])
    for state, count in sorted(found.by_state.items()):
        exports.add_metric([state], count)
    yield exports
    window = "Exports finished in the last 24 hours"
    count = GaugeMetricFamily("petition_export_recent", f"{window}, by format.", labels=["format"])
    total = GaugeMetricFamily(
        "petition_export_recent_duration_seconds_sum",
        f"{window}: their build times added up, by format.",
        labels=["format"],
    )
    longest = GaugeMetricFamily(
        "petition_export_recent_duration_seconds_max",
        f"{window}: the longest build time, by format.",
        labels=["format"],
    )
    latest = GaugeMetricFamily(
        "petition_export_last_duration_seconds",
        "Build time of the latest export finished in the last 24 hours, by format.",
        labels=["format"],
    )
    for export_format, (n, seconds, most) in sorted(found.durations.items()):
        count.add_metric([export_format], n)
        total.add_metric([export_format], seconds)
        longest.add_metric([export_format], most)
        latest.add_metric([export_format], found.latest[export_format])
    yield from (count, total, longest, latest)


def _queue_metrics():
    found = figures.remembered("queues", figures.queue_lengths)
    if found is None:
        return
    family = GaugeMetricFamily(
        "petition_celery_queue_length", "Tasks waiting in each Celery queue.", labels=["queue"]
    )
    for queue, length in sorted(found.items()):
        family.add_metric([queue], length)
    yield family


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return registry


_site = CollectorRegistry(auto_describe=False)
_site.register(SiteCollector())


def metrics(request: HttpRequest) -> HttpResponse:
    if not is_internal(request):
        # Not advertised: the public sees no such page.
        return HttpResponseNotFound("Not found", content_type="text/plain")
    body = generate_latest(_registry()) + generate_latest(_site)
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
