"""The Procfile runs the stack: honcho starts the web, worker and beat lines as they are
written, and a signature made through the web process is emailed by the worker."""

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.chaos.conftest import Browser, web_env
from tests.conftest import ROOT, _free_port, _wait_for, _worker_database_url
from tests.statements.test_signing import INDIVIDUAL

pytestmark = pytest.mark.slow


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_honcho_runs_web_worker_and_beat(statement, broker_url, smtp_sink, tmp_path):
    port = _free_port()
    env = web_env(
        _worker_database_url(),
        broker_url,
        port,
        REDIS_CACHE_DB="6",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_sink.port}",
        STATIC_ROOT=str(tmp_path / "static"),
        CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"),
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    log = tmp_path / "honcho.log"
    honcho_command = [str(Path(sys.executable).with_name("honcho")), "-e", str(empty_env_file)]
    honcho = subprocess.Popen(
        [*honcho_command, "start", "web", "worker", "beat"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _ready(url), 90, "the web process")
        _wait_for(lambda: b" ready." in log.read_bytes(), 90, "the worker")
        _wait_for(lambda: b"beat: Starting" in log.read_bytes(), 60, "beat")
        assert Browser(url).sign(INDIVIDUAL) == 302
        (message,) = smtp_sink.wait_for(1, timeout=60)
        assert message["To"] == INDIVIDUAL["individual-email"]
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        try:
            honcho.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(10)
    text = log.read_text(errors="replace")
    # Each line ran under its Procfile name; gunicorn listened where WEB_BIND said (not on
    # the PORT honcho hands every process).
    assert "web.1" in text and "worker.1" in text and "beat.1" in text
    assert f"Listening at: http://127.0.0.1:{port}" in text
    assert "process warmed" in text
