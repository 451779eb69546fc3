"""The request id is nginx's: the application behind deploy/nginx/ uses the id nginx made for
the request, and the client gets that id back."""

import re
import time
from pathlib import Path

import pytest

from statements.content import load_all
from tests.nginx import executable
from tests.test_nginx import Site

pytestmark = pytest.mark.slow


@pytest.fixture
def site(transactional_db, tmp_path):
    if executable() is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    load_all()
    running = Site(tmp_path)
    # gunicorn's access log ends with the id the application answered with.
    running.env["WEB_ACCESS_LOG"] = str(tmp_path / "access.log")
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _logged(log: Path, *words: str, seconds: float = 5) -> list[str]:
    """The access log's lines with all these words: gunicorn writes a request's line once
    its response has gone, so the client can read the log before the line is there."""
    deadline = time.monotonic() + seconds
    while True:
        lines = [line for line in log.read_text().splitlines() if all(w in line for w in words)]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_the_application_uses_the_id_nginx_made(site, tmp_path):
    forged = "client-chosen-id-0001"
    status, headers, _ = site.get("/healthz/ready", **{"X-Request-ID": forged})
    assert status == 200
    rid = headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid), rid
    # Not the one the client sent: only the proxy names requests.
    assert rid != forged
    (line,) = _logged(tmp_path / "access.log", "/healthz/ready", rid)
    assert line.endswith(rid)
    # A copy from the cache answers with this request's id, not the one that filled it.
    first = site.get("/en/")[1]["x-request-id"]
    again = site.get("/en/")[1]
    assert again["x-cache-status"] == "HIT"
    assert again["x-request-id"] != first
