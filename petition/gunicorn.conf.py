"""Gunicorn settings for the web processes: `gunicorn petition.wsgi -c petition/gunicorn.conf.py`.

Sized to the machine: one process per core, each with a few threads. The work is CPU-bound
Python (the GIL lets one thread run at a time), so more processes than cores only add context
switches; the threads cover the moments a request waits on PostgreSQL or Redis, and the
threaded worker keeps HTTP connections alive, so a client (or a load balancer) does not pay a
TCP handshake per request. Every value can be changed through the environment.
"""

import gc
import os

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


def post_worker_init(worker):
    """Once the site is loaded, move everything loaded so far out of the garbage collector's
    sight: its full collections then walk only what requests create, instead of every module,
    template and translation catalogue (a pause of a tenth of a second or more per process)."""
    gc.freeze()
