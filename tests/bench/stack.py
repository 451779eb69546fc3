"""The production-like stack the benchmark runs against, on this machine: nginx with the
repository's configuration (deploy/nginx/) in front of gunicorn (sized by
petition/gunicorn.conf.py), a Celery worker, an aiosmtpd SMTP sink, PostgreSQL and Redis.

PostgreSQL and Redis are the machine's own servers; the benchmark only ever uses a database
whose name contains "bench" and two Redis logical databases of its own, so it cannot disturb
the real or the test data.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.nginx import Nginx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (gunicorn's workers, Celery's pool)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 if it is gone."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_seconds() -> dict[str, float]:
    """CPU seconds the machine has spent so far: busy (any process or the kernel) and stolen
    (by the hypervisor, for other guests)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return {
        "busy": (user + nice + system + irq + softirq) / CLOCK_TICKS,
        "stolen": steal / CLOCK_TICKS,
    }


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        kids = children(queue.pop())
        found += kids
        queue += kids
    return found


def check_database_name(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not parts.scheme.startswith("postgres") or "bench" not in name:
        sys.exit(
            f"Refusing to run against {name!r}: the benchmark needs a PostgreSQL database of its "
            "own whose name contains 'bench' (e.g. petition_bench)."
        )
    return name


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = check_database_name(url)
    admin = urlunsplit(parts._replace(path="/postgres", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def flush_redis(base_url: str, *databases: int) -> None:
    import redis

    for db in databases:
        redis.Redis.from_url(f"{base_url}/{db}").flushdb()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def stop(self, timeout: float = 30) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


# nginx's limit on sign POSTs per address during the benchmark: every request comes from
# 127.0.0.1, so it must hold the whole site's signing; it is still counted on every POST.
NGINX_SIGN_RATE = "100000r/s"


@dataclass
class Stack:
    env: dict[str, str]
    work: Path
    web_port: int
    smtp_port: int
    nginx_port: int
    processes: dict[str, Process] = field(default_factory=dict)
    nginx: Nginx | None = None
    reference_port: int = 0
    page_size: int = 0

    @property
    def base_url(self) -> str:
        """The site as visitors reach it: through nginx."""
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def web_url(self) -> str:
        """gunicorn itself, with nothing in front."""
        return f"http://127.0.0.1:{self.web_port}"

    def start_nginx(self) -> None:
        """nginx with the repository's configuration in front of gunicorn, and a second
        server on another port that serves files from a folder: the reference."""
        self.reference_port = free_port()
        reference = self.work / "reference"
        reference.mkdir(exist_ok=True)
        self.nginx = Nginx.prepare(
            self.work / "nginx",
            port=self.nginx_port,
            upstream=f"127.0.0.1:{self.web_port}",
            static_root=Path(self.env["STATIC_ROOT"]),
            lists_root=Path(self.env["PUBLIC_LISTS_ROOT"]),
            sign_rate=NGINX_SIGN_RATE,
            sign_burst=100000,
            extra=f"""
    server {{
        listen 127.0.0.1:{self.reference_port};
        root {reference};
        default_type "text/html; charset=utf-8";
    }}""",
        )
        checked = self.nginx.test()
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {checked.stderr}")
        self.nginx.start()

    def keep_reference(self, path: str) -> None:
        """The page at `path`, as nginx answers it, saved for the reference server."""
        with urllib.request.urlopen(self.base_url + path, timeout=10) as response:
            body = response.read()
        target = self.work / "reference" / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        self.page_size = len(body)

    def reference_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.reference_port}{path}"

    def cache_status(self, url: str) -> str | None:
        """nginx's X-Cache-Status for one more GET of `url` (None if nginx did not say)."""
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
            return response.headers.get("X-Cache-Status")

    def nginx_pids(self) -> list[int]:
        process = self.nginx.process if self.nginx is not None else None
        if process is None or process.poll() is not None:
            return []
        return [process.pid, *descendants(process.pid)]

    @property
    def sink_log(self) -> Path:
        return self.work / "sink.tsv"

    def _start(self, name: str, argv: list[str], env: dict | None = None) -> Process:
        log = self.work / f"{name}.log"
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = Process(name, popen, log)
        self.processes[name] = process
        return process

    def start_sink(self, processes: int = 1) -> None:
        """The SMTP sink, as `processes` processes sharing its port (tests/bench/smtp_sink.py)."""
        self.sink_log.write_text("")
        process = self._start(
            "smtp-sink",
            [
                sys.executable,
                "-m",
                "tests.bench.smtp_sink",
                "--port",
                str(self.smtp_port),
                "--log",
                str(self.sink_log),
                "--processes",
                str(processes),
            ],
        )
        wait_for(lambda: b"sink ready" in process.log.read_bytes(), 30, "the SMTP sink")

    def start_web(
        self,
        app: str = "petition.wsgi",
        name: str = "gunicorn",
        port: int = 0,
        env: dict | None = None,
    ) -> None:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        port = port or self.web_port
        self._start(
            name,
            [
                gunicorn,
                app,
                "-c",
                "petition/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--no-control-socket",
            ],
            env,
        )

        def answers() -> bool:
            try:
                url = f"http://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_for(answers, 60, name)

    def web_workers(self) -> list[int]:
        return children(self.processes["gunicorn"].popen.pid)

    def start_worker(
        self, *, concurrency: int, prefetch: int, queues: str = "default,email"
    ) -> Process:
        celery = str(Path(sys.executable).with_name("celery"))
        process = self._start(
            "celery",
            [
                celery,
                "-A",
                "petition",
                "worker",
                "-Q",
                queues,
                "--concurrency",
                str(concurrency),
                "--prefetch-multiplier",
                str(prefetch),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
                "-n",
                "bench@%h",
            ],
        )
        wait_for(lambda: b" ready." in process.log.read_bytes(), 60, "the Celery worker")
        return process

    def start_beat(self) -> Process:
        """`celery beat`: its one-second tick runs the outbox relay, as in production."""
        celery = str(Path(sys.executable).with_name("celery"))
        return self._start(
            "beat",
            [
                celery,
                "-A",
                "petition",
                "beat",
                "--schedule",
                str(self.work / "beat-schedule"),
                "--loglevel",
                "WARNING",
            ],
        )

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.processes.clear()


def pyspy() -> str | None:
    """py-spy, if installed (it is not a dependency: `pip install --target /tmp/pyspy py-spy`
    and BENCH_PYSPY=/tmp/pyspy/bin/py-spy)."""
    return os.environ.get("BENCH_PYSPY") or shutil.which("py-spy")
