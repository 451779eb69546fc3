import asyncio
import contextlib
import email
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache, caches
from django.test import Client
from django.utils import timezone

from petition.celery import app as celery_app
from statements import counters, ratelimit
from statements.content import load_all
from statements.models import Signature, Statement
from tests.factories import OrganisationFactory, SignatureFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_state(settings, tmp_path_factory):
    """Unit tests run tasks eagerly (the real-worker tests switch this off), start with an
    empty cache, so counts and rate limits never leak between tests, and write the public
    lists to a folder of their own."""
    set_eager(True)
    celery_app.conf["CELERY_TASK_EAGER_PROPAGATES"] = True
    settings.HTTPS = False
    settings.SECURE_SSL_REDIRECT = False
    settings.PUBLIC_LISTS_ROOT = tmp_path_factory.mktemp("public-lists")
    cache.clear()
    caches["fragments"].clear()
    counters._memo.clear()
    ratelimit.reset()
    yield
    with contextlib.suppress(Exception):  # a test may have pointed the cache at a dead server
        cache.clear()
    counters._memo.clear()
    ratelimit.reset()


@pytest.fixture
def client():
    """A visitor whose browser asks for English, so assertions read in one language; tests
    of other languages say so with their own Accept-Language."""
    return Client(headers={"Accept-Language": "en"})


def wait_until(predicate, timeout: float = 30, what: str = "the condition") -> None:
    _wait_for(predicate, timeout, what)


@pytest.fixture
def statement(db) -> Statement:
    load_all()
    return Statement.objects.get(slug="kazakhstan-2022")


@pytest.fixture
def pending_org(statement):
    """An organisation that confirmed its email and waits for a moderator."""
    return OrganisationFactory(
        statement=statement,
        state=Signature.State.AWAITING_MODERATION,
        decided_at=None,
        organisation_name="Almaty Teachers' Union",
        email="contact@teachers.example.kz",
        language="en",
    )


# --- Real services: Redis broker, SMTP sink, Celery worker ------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def set_eager(eager: bool) -> None:
    """Run tasks in-process or publish them. Celery's configuration is read from Django's
    CELERY_-prefixed settings, and Celery 5.6 looks a prefixed name up before an unprefixed
    one, so the prefixed name is the one to change."""
    celery_app.conf["CELERY_TASK_ALWAYS_EAGER"] = eager


def use_broker(url: str, *, eager: bool) -> None:
    """Point this process's Celery app at another broker, dropping pooled connections."""
    set_eager(eager)
    celery_app.conf["CELERY_BROKER_URL"] = url
    # close() also unregisters the app, after which the tasks of a module imported later
    # would be missing from it: import every task module first, as a worker does.
    celery_app.loader.import_default_modules()
    celery_app.close()
    celery_app.amqp._producer_pool = None


@pytest.fixture(scope="session")
def redis_server_url():
    """A Redis server: the one REDIS_URL names (CI), else a private redis-server."""
    configured = os.environ.get("REDIS_URL")
    if configured:
        parts = urlsplit(configured)
        yield f"redis://{parts.netloc}"
        return
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("needs a Redis server: set REDIS_URL or install redis-server")
    port = _free_port()
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}"
    _wait_for(lambda: _redis_ping(url), 10, "redis-server")
    yield url
    process.terminate()
    process.wait(10)


def redis_dbs() -> tuple[int, int]:
    """The broker and cache databases this run may flush: those REDIS_URL and REDIS_CACHE_DB
    name on a shared server (runs side by side never flush each other's), else 7 and 8 on the
    private one."""
    configured = os.environ.get("REDIS_URL")
    if not configured:
        return 7, 8
    broker = int(urlsplit(configured).path.strip("/") or 0)
    return broker, int(os.environ.get("REDIS_CACHE_DB", broker + 1))


@pytest.fixture
def redis_cache_db(redis_server_url):
    """The URL of this run's cache database on a real Redis, empty before and after."""
    import redis

    url = f"{redis_server_url}/{redis_dbs()[1]}"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


DEAD_REDIS = "redis://127.0.0.1:1/0"  # no Redis listens there


def redis_cache(location: str, *, timeout: float = 0.2, **options) -> dict:
    """A CACHES entry as production's (petition/settings.py) for another Redis location;
    `options` override django-redis's OPTIONS (CLIENT_CLASS: the stock client)."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": "petition",
        "OPTIONS": {
            "CLIENT_CLASS": "petition.cache_fallback.MemoryFallbackClient",
            "SOCKET_CONNECT_TIMEOUT": timeout,
            "SOCKET_TIMEOUT": timeout,
            **options,
        },
    }


@pytest.fixture
def dead_redis_cache(settings):
    """The site's own cache, pointed at a port where no Redis listens."""
    settings.CACHES = {**settings.CACHES, "default": redis_cache(DEAD_REDIS)}


def _redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@dataclass
class SmtpSink:
    """Keeps what it receives. `faults` scripts the next replies: an SMTP reply line such as
    "421 try later" refuses that delivery; a number stalls that long, then drops it.
    `refuse` maps an address to the reply its every delivery gets. `sessions` holds each
    SMTP session (connection) that delivered or tried to."""

    port: int
    # What was received, as (recipients, raw bytes): parsed only when a test looks, so the
    # sink keeps up with a worker's pace.
    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    _parsed: list[EmailMessage] = field(default_factory=list)
    faults: list[str | float] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    sessions: list = field(default_factory=list)

    controller: object = None

    @property
    def connections(self) -> int:
        return len(self.sessions)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(_SinkHandler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        """The mail server goes away: connections are refused until start()."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        for _recipients, raw in self.received[len(self._parsed) :]:
            self._parsed.append(email.message_from_bytes(raw, policy=default))
        return list(self._parsed)

    def delivered_to(self) -> list[str]:
        return [",".join(recipients) for recipients, _raw in self.received]

    def wait_for(self, count: int, timeout: float = 90) -> list[EmailMessage]:
        _wait_for(lambda: len(self.received) >= count, timeout, f"{count} email(s)")
        return self.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]


class _SinkHandler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        self.sink.attempts += 1
        if not any(known is session for known in self.sink.sessions):
            self.sink.sessions.append(session)
        for address in envelope.rcpt_tos:
            if address in self.sink.refuse:
                return self.sink.refuse[address]
        fault = self.sink.faults.pop(0) if self.sink.faults else None
        if isinstance(fault, (int, float)):
            await asyncio.sleep(fault)  # the client times out meanwhile
            return "451 4.4.2 timed out"
        if fault:
            return fault
        self.sink.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_sink():
    """A real SMTP server (aiosmtpd) that keeps what it receives."""
    # aiosmtpd logs every SMTP command at INFO.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = SmtpSink(port=_free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_mailer(smtp_sink, settings):
    """This process's default mailer sends to the SMTP sink, over real SMTP."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_sink.port, "timeout": 1},
        }
    }
    return smtp_sink


def _worker_database_url() -> str:
    from django.db import connection

    config = connection.settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    user = config["USER"] or ""
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{config['PORT']}" if config["PORT"] else ""
    return f"postgresql://{auth}{config['HOST']}{port}/{config['NAME']}"


@dataclass
class Worker:
    """A `celery worker` process group, started, killed and restarted at will."""

    broker_url: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    concurrency: int = 2
    # As production runs it (`celery -A petition worker`): every bootstep, gossip, mingle
    # and heartbeat included, so a test sees what a broker outage does to a real worker.
    options: tuple[str, ...] = ()
    process: subprocess.Popen | None = None

    def start(self) -> None:
        ready_marks = self.log.read_bytes().count(b" ready.") if self.log.exists() else 0
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "petition",
                "worker",
                "-Q",
                "default,email,exports",
                "--concurrency",
                str(self.concurrency),
                *self.options,
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() reaches the children
        )
        _wait_for(
            lambda: self.log.read_bytes().count(b" ready.") > ready_marks, 60, "the Celery worker"
        )

    def kill(self) -> None:
        """kill -9 the main process and its pool, as a crash or an OOM kill would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


@dataclass
class Beat:
    """`celery beat`: its one-second tick runs the outbox relay, as in production."""

    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        schedule = self.log.with_name("beat-schedule")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "petition",
                "beat",
                "--schedule",
                str(schedule),
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def worker_env(broker_url: str, smtp_port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "petition.settings",
        "DATABASE_URL": _worker_database_url(),
        "REDIS_URL": broker_url,
        "REDIS_CACHE_DB": os.environ.get("REDIS_CACHE_DB", "6"),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SITE_URL": "http://testserver",
        "DEBUG": "true",
        "PUBLIC_LISTS_ROOT": tempfile.mkdtemp(prefix="public-lists-"),
        **extra,
    }


@pytest.fixture
def broker_url(transactional_db, redis_server_url):
    """A clean Redis database as broker, which this test process publishes to."""
    import redis

    # The logical database REDIS_URL names (tests run tasks eagerly, so nothing else uses it),
    # so that test runs side by side on one Redis server, each with its own REDIS_URL, never
    # share a queue; 5 on a private server.
    configured = urlsplit(os.environ.get("REDIS_URL", "")).path.strip("/")
    url = f"{redis_server_url}/{configured or 5}"
    redis.Redis.from_url(url).flushdb()
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    use_broker(url, eager=False)
    yield url
    use_broker(previous[1], eager=previous[0])


@pytest.fixture
def celery_worker(broker_url, smtp_sink, tmp_path):
    """A real `celery worker` process and `celery beat` on a real Redis broker, sharing the
    test database and delivering to the SMTP sink. The test process publishes to the same
    broker."""
    env = worker_env(broker_url, smtp_sink.port)
    worker = Worker(broker_url=broker_url, log=tmp_path / "worker.log", env=env)
    beat = Beat(env=env, log=tmp_path / "beat.log")
    worker.start()
    beat.start()
    yield worker
    beat.stop()
    worker.stop()


# --- A real browser: Playwright driving Debian's chromium (never a downloaded one) ----------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    # The live server speaks plain HTTP on loopback.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SITE_URL = live_server.url
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


# --- Signatures the public lists and the exports are read from -------------------------------


@pytest.fixture
def signatures(statement):
    """A mixed list: organisations and individuals in several countries and states, texts
    that spreadsheets, CSV and PDF markup would misread, and an older signature."""
    now = timezone.now()
    rows = {
        "org_kz": OrganisationFactory(
            statement=statement,
            organisation_name="Профсоюз «Әділет»",
            country="KZ",
            city="Жанаозен",
            comment="Солидарность!",
            website="https://example.org/adilet",
        ),
        "org_ar": OrganisationFactory(
            statement=statement,
            organisation_name='=HYPERLINK("http://evil.example","click")',
            country="AR",
            city='Buenos Aires, "Centro"',
            organisation_type=Signature.OrganisationType.PARTY,
        ),
        "org_markup": OrganisationFactory(
            statement=statement,
            organisation_name="Workers <b>&</b> Students",
            country="AR",
            city="",
        ),
        "org_pending": OrganisationFactory(
            statement=statement, state=Signature.State.AWAITING_MODERATION, country="BR"
        ),
        "org_rejected": OrganisationFactory(statement=statement, state=Signature.State.REJECTED),
        "ind_kz": SignatureFactory(
            statement=statement,
            full_name="Айгуль Сапарова",
            country="KZ",
            affiliation="учитель",
            comment="+7 700 000 00 00",
        ),
        "ind_formula": SignatureFactory(
            statement=statement,
            full_name="@SUM(A1:A9)",
            country="ES",
            city="-Madrid",
            comment="\tcmd|' /C calc'!A0",
        ),
        "ind_multiline": SignatureFactory(
            statement=statement,
            full_name="Line Breaker",
            country="ES",
            comment="first line\nsecond line; with, commas",
        ),
        "ind_hidden": SignatureFactory(statement=statement, show_publicly=False, country="RU"),
        "ind_pending": SignatureFactory(
            statement=statement, state=Signature.State.PENDING, confirmed_at=None, country="RU"
        ),
        "ind_old": SignatureFactory(
            statement=statement,
            country="KZ",
            full_name="Early Signer",
            created_at=now - timedelta(days=40),
        ),
    }
    return rows
