"""Gunicorn settings for the web processes. The one way to start them, everywhere (README,
Procfile, Dockerfile, docker-compose.yml, the benchmark, the tests):

    gunicorn -c petition/gunicorn.conf.py petition.wsgi

Sized to the machine: one process per core, each with a few threads. The work is CPU-bound
Python (the GIL lets one thread run at a time), so more processes than cores only add context
switches; the threads cover the moments a request waits on PostgreSQL or Redis, and the
threaded worker keeps HTTP connections alive, so a client (or a load balancer) does not pay a
TCP handshake per request. Every value can be changed through the environment.
"""

import gc
import logging
import os
import shutil
import tempfile
from pathlib import Path

# Where to listen: loopback by default, behind the proxy on the same host; the container image
# sets 0.0.0.0:8000. Several addresses may be given, separated by commas. (Set here rather
# than left to gunicorn's default, which listens on every interface whenever $PORT is set, as
# process managers such as honcho do.)
bind = [a.strip() for a in (os.environ.get("WEB_BIND") or "127.0.0.1:8000").split(",") if a]
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS") or 4)
# Idle keep-alive connections each process holds (beyond those being served).
worker_connections = int(os.environ.get("WEB_CONNECTIONS") or 1000)
keepalive = int(os.environ.get("WEB_KEEPALIVE") or 5)
timeout = int(os.environ.get("WEB_TIMEOUT") or 30)
graceful_timeout = 30
# Recycle processes now and then, so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS") or 100_000)
max_requests_jitter = max_requests // 10
# Two servers on one host would collide on the default control socket path.
control_socket_disable = True

# Access log: off unless WEB_ACCESS_LOG names a file ("-" for standard output; the container
# image sets "-"). Behind nginx its own access log already has every request.
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
access_log_format = "%(t)s %(m)s %(U)s %(s)s %(b)s %(L)s %({x-request-id}o)s"
# Links in emails carry credentials in their paths: the access log names the route instead
# (/confirm/<token>/; petition/access_log.py).
logger_class = "petition.access_log.RouteLogger"

# LOG_FORMAT=json: gunicorn's own lines as JSON too, like the site's (petition/settings.py).
if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
        "handlers": {
            "error": {"class": "logging.StreamHandler", "formatter": "json"},
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }

# Request metrics: each worker process writes its counts to files in this folder, and /metrics
# adds them up (prometheus_client's multiprocess mode). It must be set before any process
# imports prometheus_client, and hold no files of an earlier server.
_metrics_dir_ours = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_dir_ours:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="petition-metrics-")


def on_starting(server):
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def post_worker_init(worker):
    """Before the worker takes its first connection: load the site (ops/warmup.py), then move
    everything loaded so far out of the garbage collector's sight: its full collections then
    walk only what requests create, instead of every module, template and translation
    catalogue (a pause of a tenth of a second or more per process)."""
    try:
        from ops.warmup import warm

        warm(worker.wsgi)
    except Exception:
        logging.getLogger("gunicorn.error").exception("warm-up failed; starting cold")
    gc.freeze()


def child_exit(server, worker):
    # A dead worker's live gauges would otherwise linger in the sums.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir_ours:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
