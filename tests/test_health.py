"""Health endpoints: liveness, readiness, and what each caller may learn."""

from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import Client

PUBLIC = "203.0.113.7"


@pytest.fixture
def public():
    """A visitor from the internet, not this host."""
    return Client(REMOTE_ADDR=PUBLIC)


@pytest.fixture
def local():
    """A probe on this host: the container's health check, an operator's curl."""
    return Client(REMOTE_ADDR="127.0.0.1")


def _cache_down():
    broken = mock.patch("ops.health.cache")
    cache = broken.start()
    cache.set.side_effect = ConnectionError("refused")
    return broken


def _database_down():
    from django.db import connections

    return mock.patch.object(
        connections["default"], "cursor", side_effect=OperationalError("connection refused")
    )


def test_live_answers_without_touching_anything(public, db):
    with _database_down(), mock.patch("ops.health.check_cache") as cache_check:
        response = public.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    cache_check.assert_not_called()


@pytest.mark.parametrize("path", ["/healthz/ready", "/healthz"])
def test_ready_for_an_internal_caller_reports_every_part(local, db, path):
    response = local.get(path)
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok"
    assert data["database"] == "ok" and data["cache"] == "ok"
    assert data["broker"] in {"ok", "eager"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/healthz/ready", "/healthz"])
def test_cache_down_keeps_the_process_ready(local, db, path):
    broken = _cache_down()
    try:
        response = local.get(path)
    finally:
        broken.stop()
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["cache"] == "unavailable"


@pytest.mark.parametrize("path", ["/healthz/ready", "/healthz"])
def test_a_public_caller_learns_nothing_about_the_cache(public, db, path):
    broken = _cache_down()
    try:
        response = public.get(path)
    finally:
        broken.stop()
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert b"cache" not in response.content


@pytest.mark.parametrize("path", ["/healthz/ready", "/healthz"])
def test_database_down_is_not_ready(local, public, db, path):
    with _database_down():
        internal = local.get(path)
        outside = public.get(path)
    assert internal.status_code == 503
    assert internal.json()["database"] == "unavailable"
    assert outside.status_code == 503
    assert outside.json() == {"status": "unavailable"}


@pytest.fixture
def real_broker_unreachable():
    from petition.celery import app
    from tests.conftest import use_broker

    previous = (app.conf.task_always_eager, app.conf.broker_url)
    use_broker("redis://127.0.0.1:1/0", eager=False)
    yield
    use_broker(previous[1], eager=previous[0])


def test_broker_down_is_reported_but_still_ready(local, db, real_broker_unreachable):
    response = local.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json()["broker"] == "unavailable"


def test_the_metrics_token_opens_the_details_from_anywhere(public, db, settings):
    settings.METRICS_TOKEN = "t" * 40
    bare = public.get("/healthz/ready")
    wrong = public.get("/healthz/ready", headers={"Authorization": "Bearer " + "u" * 40})
    right = public.get("/healthz/ready", headers={"Authorization": "Bearer " + "t" * 40})
    assert bare.json() == {"status": "ok"}
    assert wrong.json() == {"status": "ok"}
    assert right.json()["database"] == "ok"


def test_a_loopback_request_through_a_proxy_is_public(db, settings):
    """nginx on the same host connects from 127.0.0.1 on behalf of a visitor."""
    settings.TRUSTED_PROXY_COUNT = 0
    via_proxy = Client(REMOTE_ADDR="127.0.0.1", headers={"X-Forwarded-For": PUBLIC})
    assert via_proxy.get("/healthz/ready").json() == {"status": "ok"}
    settings.TRUSTED_PROXY_COUNT = 1
    # Behind one trusted proxy the client is the address the proxy saw, whatever it claims.
    forged = Client(REMOTE_ADDR="127.0.0.1", headers={"X-Forwarded-For": f"127.0.0.1, {PUBLIC}"})
    assert forged.get("/healthz/ready").json() == {"status": "ok"}
    direct = Client(REMOTE_ADDR="127.0.0.1")
    assert "database" in direct.get("/healthz/ready").json()


@pytest.mark.parametrize("path", ["/healthz", "/healthz/live", "/healthz/ready"])
def test_health_answers_plain_http(public, db, settings, path):
    """Orchestrators probe a container over plain HTTP inside the network."""
    settings.SECURE_SSL_REDIRECT = True
    assert public.get(path).status_code == 200
    assert public.get("/en/privacy/").status_code == 301
