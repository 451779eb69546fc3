from unittest import mock

import pytest
from django.db.utils import OperationalError


def test_healthy(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok"
    assert data["database"] == "ok" and data["cache"] == "ok"
    assert data["broker"] in {"ok", "eager"}


def test_database_down_is_503(client, db):
    with mock.patch(
        "statements.views.connection.cursor", side_effect=OperationalError("connection refused")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_cache_down_is_503(client, db):
    with mock.patch("statements.views.cache") as broken:
        broken.set.side_effect = ConnectionError("refused")
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["cache"] == "unavailable"


@pytest.fixture
def real_broker_unreachable():
    from petition.celery import app
    from tests.conftest import use_broker

    previous = (app.conf.task_always_eager, app.conf.broker_url)
    use_broker("redis://127.0.0.1:1/0", eager=False)
    yield
    use_broker(previous[1], eager=previous[0])


def test_broker_down_is_503(client, db, real_broker_unreachable):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
