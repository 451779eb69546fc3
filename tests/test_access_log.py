"""No credential from a link reaches a log: gunicorn's access log and Django's request log name
the route (/confirm/<token>/), not the token, for the site's links and allauth's keys."""

import contextlib
import logging
import time
import urllib.error
import urllib.request

import pytest

from petition.access_log import route
from statements import tokens
from tests.chaos.conftest import WebServer, web_env
from tests.conftest import _free_port, _worker_database_url, wait_until
from tests.factories import SignatureFactory

STAFF_TOKEN = "Zm9yZ2VkLWludml0YXRpb24tdG9rZW4tZm9yLXRlc3Rz"
RESET_KEY = "3-cf7b2a-0123456789abcdef0123456789abcdef"
VERIFY_KEY = "MTpjb25maXJtLWVtYWlsLWtleS1mb3ItdGVzdHM"


def _secret_paths(signature) -> dict[str, str]:
    confirm = tokens.make_token(signature, tokens.CONFIRM)
    withdraw = tokens.make_token(signature, tokens.WITHDRAW)
    return {
        confirm: f"/en/confirm/{confirm}/",
        withdraw: f"/en/withdraw/{withdraw}/",
        STAFF_TOKEN: f"/staff/join/{STAFF_TOKEN}/",
        RESET_KEY.split("-", 1)[1]: f"/accounts/password/reset/key/{RESET_KEY}/",
        VERIFY_KEY: f"/accounts/confirm-email/{VERIFY_KEY}/",
    }


def test_routes_replace_each_credential_by_its_name(statement):
    signature = SignatureFactory(statement=statement, state="pending")
    paths = _secret_paths(signature)
    for secret, path in paths.items():
        assert secret not in route(path), path
    confirm = next(p for p in paths.values() if p.startswith("/en/confirm/"))
    assert route(confirm) == "/en/confirm/<token>/"
    assert route("/s/kazakhstan-2022/") == "/s/kazakhstan-2022/"  # nothing secret: as it is
    assert route(f"/confirm/{STAFF_TOKEN}/extra/") == "/confirm/<redacted>/extra/"


def test_django_request_log_names_the_route(client, statement, caplog):
    caplog.set_level(logging.WARNING, logger="django.request")
    for path in _secret_paths(SignatureFactory(statement=statement, state="pending")).values():
        client.get(path.replace("/confirm/", "/confirm/x"))  # broken links: 404s, logged
    assert "Not Found: /en/confirm/<token>/" in caplog.text
    assert STAFF_TOKEN not in caplog.text and "/confirm/x" not in caplog.text


@pytest.fixture
def logged_server(statement, transactional_db, redis_server_url, tmp_path):
    port = _free_port()
    access = tmp_path / "access.log"
    server = WebServer(
        port=port,
        env=web_env(
            _worker_database_url(),
            f"{redis_server_url}/5",
            port,
            REDIS_CACHE_DB="6",
            STATIC_ROOT=str(tmp_path / "static"),
            WEB_ACCESS_LOG=str(access),
        ),
    )
    server.manage("collectstatic", "--noinput")
    server.start(tmp_path / "gunicorn.log", workers=1)
    yield server, access
    server.stop()


@pytest.mark.slow
def test_gunicorn_access_log_names_the_route(logged_server, statement):
    server, access = logged_server
    paths = _secret_paths(SignatureFactory(statement=statement, state="pending"))
    confirm = next(p for p in paths.values() if p.startswith("/en/confirm/"))
    for path in paths.values():
        request = urllib.request.Request(
            f"{server.url}{path}?next={STAFF_TOKEN}", headers={"Referer": server.url + confirm}
        )
        with contextlib.suppress(urllib.error.HTTPError):  # a refused link is logged too
            urllib.request.urlopen(request, timeout=10).close()
    wait_until(lambda: access.exists() and access.read_text().count("\n") >= len(paths), 10)
    time.sleep(0.2)
    log = access.read_text()
    for secret in paths:
        assert secret not in log, secret
    assert "/en/confirm/<token>/" in log and "/staff/join/<token>/" in log
    assert " 500 " not in log
