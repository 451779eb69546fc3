"""Services that chaos tests may stop and restart: private Redis and PostgreSQL servers on
free ports (never the machine's own), and a gunicorn serving the site."""

import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import pytest

from tests.conftest import ROOT, Beat, Worker, _free_port, _redis_ping, _wait_for, worker_env


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        _wait_for(lambda: _redis_ping(self.url), 15, "redis-server")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("chaos tests need the redis-server binary")
    server = RedisServer(port=_free_port())
    server.start()
    yield server
    server.stop()


@dataclass
class PostgresServer:
    data: Path
    port: int
    bin_dir: Path
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/petition"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-w", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.data / "server.log"), "start")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def stop(self, mode: str = "immediate") -> None:
        self._ctl("-m", mode, "stop")

    def createdb(self, name: str) -> None:
        subprocess.run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            check=True,
            timeout=60,
        )


@pytest.fixture
def private_postgres():
    candidates = sorted(glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb")]
    if not candidates or candidates[-1] is None:
        pytest.skip("chaos tests need PostgreSQL's server binaries (initdb, pg_ctl)")
    bin_dir = Path(candidates[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="petition-pg-"))
    # PostgreSQL refuses to run as root: run it as the postgres user when we are root.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=120,
    )
    server = PostgresServer(data=data, port=_free_port(), bin_dir=bin_dir, as_user=as_user)
    server.start()
    subprocess.run(
        [
            str(bin_dir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "petition",
        ],
        check=True,
        timeout=60,
    )
    yield server
    server.stop()
    shutil.rmtree(data, ignore_errors=True)


# The one way to start the web processes (see the Procfile).
GUNICORN_ARGS = ("-c", "petition/gunicorn.conf.py", "petition.wsgi")


@dataclass
class WebServer:
    port: int
    env: dict[str, str]
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            timeout=300,
            stdout=subprocess.DEVNULL,
        )

    def start(self, log: Path, workers: int = 2, until_logged: str = "") -> None:
        """gunicorn as production starts it: with the project's configuration. Waits until
        the site is ready, or, given `until_logged`, until the log holds that line (without
        sending a request)."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS],
            cwd=ROOT,
            env={
                **self.env,
                "WEB_BIND": f"127.0.0.1:{self.port}",
                "WEB_CONCURRENCY": str(workers),
                "WEB_TIMEOUT": "30",
            },
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        if until_logged:
            _wait_for(lambda: until_logged in log.read_text(errors="replace"), 60, until_logged)
        else:
            _wait_for(self._up, 60, "gunicorn")

    def _up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz/ready", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


def web_env(database_url: str, redis_url: str, port: int, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
        "DJANGO_SETTINGS_MODULE": "petition.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": "chaos-test-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "EMAIL_URL": "locmem://",
        "SIGN_RATE_IP_BURST": "100000/m",
        "SIGN_RATE_IP_SUSTAINED": "100000/h",
        "SIGN_RATE_EMAIL": "100000/h",
        "PUBLIC_LISTS_ROOT": tempfile.mkdtemp(prefix="public-lists-"),
        **extra,
    }


class Browser:
    """A cookie-keeping HTTP client that signs through the real form, as a browser sends it
    from the page: with its Origin and Sec-Fetch-Site headers (the form carries no token)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirect(),
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            request.add_header("Origin", self.base)
            request.add_header("Sec-Fetch-Site", "same-origin")
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def sign(self, fields: dict) -> int:
        status, page = self.request("/es/")
        if status != 200:
            return status
        action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
        status, _ = self.request(action, fields)
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# --- The email path: a worker and beat delivering the outbox to the SMTP sink ---------------


@dataclass
class MailStack:
    worker: Worker
    beat: Beat

    def stop(self) -> None:
        self.beat.stop()
        self.worker.stop()


def start_mail_stack(broker_url: str, smtp_port: int, folder: Path, **env: str) -> MailStack:
    environment = worker_env(broker_url, smtp_port, **env)
    worker = Worker(broker_url=broker_url, log=folder / "worker.log", env=environment)
    beat = Beat(env=environment, log=folder / "beat.log")
    worker.start()
    beat.start()
    return MailStack(worker, beat)


def queue_emails(count: int, prefix: str = "signer") -> list[int]:
    """`count` unconfirmed signatures with their confirmation emails in the outbox, written
    in bulk as if that many people had just signed. Returns the emails' ids."""
    from django.conf import settings
    from django.utils import timezone

    from statements.content import load_all
    from statements.models import Signature, Statement
    from statements.outbox.models import Email

    load_all()
    statement = Statement.objects.get()
    now = timezone.now()
    signatures = Signature.objects.bulk_create(
        Signature(
            statement=statement,
            kind="individual",
            state="pending",
            full_name=f"Signer {n}",
            email=f"{prefix}{n}@example.org",
            email_key=f"{prefix}{n}@example.org",
            country="KZ",
            language="en",
            consent_version=settings.PRIVACY_NOTICE_VERSION,
            consent_at=now,
            created_at=now,
            email_count=1,
        )
        for n in range(count)
    )
    emails = Email.objects.bulk_create(
        Email(kind="confirmation", signature=s, language="en") for s in signatures
    )
    return [e.pk for e in emails]


def unsent(ids: list[int]) -> int:
    from statements.outbox.models import Email

    return Email.objects.filter(pk__in=ids).exclude(state__in=["sent", "failed"]).count()
