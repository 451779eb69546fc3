"""A request id from the proxy reaches the log lines of the Celery task the request queued."""

import json

import redis
from django.test import Client

from ops import logs
from statements.models import Signature
from tests.accounts.helpers import make_user
from tests.conftest import Worker, wait_until, worker_env
from tests.factories import SignatureFactory

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
    """An organiser starts a bulk invalidation: the request queues the task that runs it, and
    the worker's lines for that task carry the request's id."""
    spam = [SignatureFactory(statement=statement, email=f"bot{n}@spam.example") for n in range(3)]
    organiser = make_user("organiser@example.org", role="organiser")
    staff = Client(headers={"Accept-Language": "en"})
    staff.force_login(organiser)
    prepared = staff.post("/staff/invalidations/", {"email_domain": "spam.example"})
    assert prepared.status_code == 302, prepared.status_code
    worker = Worker(
        broker_url=broker_url,
        log=tmp_path / "worker.log",
        env=worker_env(broker_url, smtp_sink.port, LOG_FORMAT="json"),
    )
    worker.start()
    try:
        started = staff.post(prepared["Location"] + "run/", headers={"X-Request-ID": REQUEST_ID})
        assert started.status_code == 302
        assert started.headers["X-Request-ID"] == REQUEST_ID
        wait_until(
            lambda: all(
                s.state == Signature.State.FRAUDULENT
                for s in Signature.objects.filter(pk__in=[s.pk for s in spam])
            ),
            what="the invalidation",
        )
        wait_until(lambda: "succeeded" in worker.log.read_text(), what="the task's last line")
    finally:
        worker.stop()
    text = worker.log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert lines, text[:2000]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    ours = [line for line in lines if line.get("request_id") == REQUEST_ID]
    assert ours, "no worker line carries the request id"
    # The task the request queued, and any task that one queued in turn (the public lists
    # are rebuilt after an invalidation): all of them are tasks, none is anything else.
    assert "statements.staff.tasks.invalidation_execute" in {line["task"] for line in ours}
    assert all(line["task"] and line["task_id"] for line in ours)
    # Lines of work no request caused carry none.
    assert all(line.get("request_id") in {None, REQUEST_ID} for line in lines)
    # Privacy: no signer's address reaches a log line.
    assert not any(signature.email in text for signature in spam)
