"""Redis stopped while people sign, PostgreSQL restarted under load, a mail server that
refuses or stalls: no server error, nothing lost, recovery without restarts."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from statements import tasks
from statements.content import load_all
from statements.models import Signature
from tests.chaos.conftest import Browser, WebServer, web_env
from tests.conftest import Worker, _free_port, use_broker, worker_env
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(600)]

REDIS_DOWN_SECONDS = 30


def person(n: int) -> dict:
    return {**INDIVIDUAL, "individual-email": f"outage{n}@example.org"}


def test_redis_down_for_30_seconds_while_people_sign(
    transactional_db, private_redis, smtp_sink, settings, tmp_path
):
    load_all()
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "petition.cache.RedisCache",  # the site's own, as in production
            "LOCATION": f"{private_redis.url}/1",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.SIGN_RATE_IP_BURST = settings.SIGN_RATE_IP_SUSTAINED = "100000/m"
    broker = f"{private_redis.url}/0"
    use_broker(broker, eager=False)
    worker = Worker(
        broker_url=broker, log=tmp_path / "worker.log", env=worker_env(broker, smtp_sink.port)
    )
    worker.start()
    client = Client()
    try:
        assert client.post(SIGN_URL, person(0)).status_code == 302
        smtp_sink.wait_for(1)

        private_redis.stop()
        statuses = Counter()
        n = 1
        stop_at = time.monotonic() + REDIS_DOWN_SECONDS
        while time.monotonic() < stop_at:
            statuses[
                client.post(
                    SIGN_URL, person(n), REMOTE_ADDR=f"10.1.{n // 250}.{n % 250}"
                ).status_code
            ] += 1
            statuses[client.get("/en/").status_code] += 1
            n += 1
        assert set(statuses) == {200, 302}, statuses
        signed_while_down = statuses[302]
        assert signed_while_down >= 5
        assert Signature.objects.count() == signed_while_down + 1

        private_redis.start()
        if worker.process.poll() is not None:
            # Celery's worker can exit when its broker vanishes (kombu's reconnect may fail
            # with "'NoneType' object has no attribute 'hostname'"); in production its
            # supervisor restarts it (docker-compose.yml: restart: unless-stopped), as here.
            worker.start()
        # Redis is back: the periodic sweeper (every 5 minutes, for rows older than 10)
        # re-enqueues what could not be queued.
        Signature.objects.filter(confirmation_sent_at__isnull=True).update(
            created_at=timezone.now() - timedelta(minutes=11)
        )
        use_broker(broker, eager=False)
        tasks.confirmation_sweep.delay()
        smtp_sink.wait_for(signed_while_down + 1, timeout=180)
        assert {m["To"] for m in smtp_sink.messages} == {f"outage{i}@example.org" for i in range(n)}
    finally:
        worker.stop()
        use_broker("memory://", eager=True)


def _postmaster_started(url: str):
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]


def test_postgres_restart_under_load(private_postgres, private_redis, tmp_path):
    port = _free_port()
    env = web_env(
        private_postgres.url, f"{private_redis.url}/0", port, STATIC_ROOT=str(tmp_path / "static")
    )
    server = WebServer(port=port, env=env)
    server.manage("collectstatic", "--noinput")
    server.manage("migrate", "--noinput")
    server.manage("load_statement")
    server.start(tmp_path / "gunicorn.log")
    results: list[tuple[str, int, str]] = []
    accepted: list[str] = []
    stop = threading.Event()

    def visitor(index: int) -> None:
        browser = Browser(server.url)
        n = 0
        while not stop.is_set():
            email = f"pg{index}-{n}@example.org"
            status = browser.sign(
                {
                    "kind": "individual",
                    "individual-full_name": f"Visitor {index}-{n}",
                    "individual-email": email,
                    "individual-country": "KZ",
                    "individual-consent": "on",
                }
            )
            results.append(("sign", status, email))
            if status == 302:
                accepted.append(email)
            status, body = browser.request("/es/")
            results.append(("page", status, body if status == 503 else ""))
            n += 1

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(3)
        started_before = _postmaster_started(private_postgres.url)
        private_postgres.restart()
        time.sleep(5)
        stop.set()
        for thread in threads:
            thread.join(60)
        statuses = Counter(status for _, status, _ in results)
        assert 500 not in statuses and 502 not in statuses, statuses
        assert set(statuses) <= {200, 302, 503}, statuses
        # The restart happened while the visitors kept going (requests during it got 503s,
        # or none did when the pool's connection check swapped connections in time).
        assert _postmaster_started(private_postgres.url) != started_before
        assert statuses[200] > 0 and statuses[302] > 0
        unavailable_pages = [
            body for kind, status, body in results if kind == "page" and status == 503
        ]
        assert all("<h1>" in body for body in unavailable_pages)  # the friendly page

        # Recovered without restarting the web processes.
        browser = Browser(server.url)
        assert browser.request("/healthz")[0] == 200
        assert (
            browser.sign(
                {
                    "kind": "individual",
                    "individual-full_name": "After restart",
                    "individual-email": "after@example.org",
                    "individual-country": "KZ",
                    "individual-consent": "on",
                }
            )
            == 302
        )
        assert server.process.poll() is None
    finally:
        stop.set()
        server.stop()

    import psycopg

    with psycopg.connect(private_postgres.url) as conn:
        rows = dict(conn.execute("SELECT email, full_name FROM statements_signature").fetchall())
    # Every accepted signature is stored, whole; nothing was stored half-written.
    assert set(accepted) <= set(rows)
    assert all(name for name in rows.values())
