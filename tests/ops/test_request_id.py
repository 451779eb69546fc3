"""A request id from the proxy reaches the log lines of the Celery task the request queued."""

import json

import redis
from django.test import Client

from ops import logs
from tests.conftest import Worker, worker_env
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL

REQUEST_ID = "3f1c9a0e5b7d4e2a9c8b6d5e4f3a2b1c"


def test_the_response_returns_the_proxy_id_or_a_new_one(statement):
    visitor = Client(headers={"X-Request-ID": REQUEST_ID})
    assert visitor.get("/").headers["X-Request-ID"] == REQUEST_ID
    anonymous = Client().get("/").headers["X-Request-ID"]
    assert len(anonymous) == 32 and anonymous != REQUEST_ID
    # Nothing that is not an id is taken from outside (it would land in logs and headers).
    forged = Client(headers={"X-Request-ID": "x\nINFO forged line"}).get("/")
    assert "\n" not in forged.headers["X-Request-ID"]


def test_published_tasks_carry_the_request_id(statement, broker_url):
    from statements.tasks import counts_refresh

    token = logs.request_id.set(REQUEST_ID)
    try:
        counts_refresh.delay()
    finally:
        logs.request_id.reset(token)
    counts_refresh.delay()  # outside any request: no id
    messages = [
        json.loads(raw) for raw in redis.Redis.from_url(broker_url).lrange("default", 0, -1)
    ]
    carried = [m["headers"].get("petition_request_id") for m in messages]
    assert sorted(carried, key=str) == sorted([REQUEST_ID, None], key=str)


def test_json_log_lines_follow_a_request_into_its_task(statement, broker_url, smtp_sink, tmp_path):
    worker = Worker(
        broker_url=broker_url,
        log=tmp_path / "worker.log",
        env=worker_env(broker_url, smtp_sink.port, LOG_FORMAT="json"),
    )
    worker.start()
    try:
        visitor = Client(headers={"X-Request-ID": REQUEST_ID, "Accept-Language": "en"})
        assert visitor.post(SIGN_URL, INDIVIDUAL).status_code == 302
        smtp_sink.wait_for(1)
    finally:
        worker.stop()
    lines = [
        json.loads(line) for line in worker.log.read_text().splitlines() if line.startswith("{")
    ]
    assert lines, worker.log.read_text()[:2000]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    ours = [line for line in lines if line.get("request_id") == REQUEST_ID]
    assert ours, "no worker line carries the request id"
    assert {line["task"] for line in ours} == {"statements.tasks.confirmation_send"}
    assert all(line["task_id"] for line in ours)
    # Lines of work no request caused carry none.
    assert all(line.get("request_id") in {None, REQUEST_ID} for line in lines)
    # Privacy: the signer's address reaches no log line.
    assert INDIVIDUAL["individual-email"] not in worker.log.read_text()
