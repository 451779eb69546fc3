"""CPU time per request or email, measured in one process: robust while other jobs share the
machine, where the rates of `make bench` are not.

    DATABASE_URL=postgresql://…/petition_x REDIS_URL=redis://…/8 REDIS_CACHE_DB=9 \\
        .venv/bin/python -m tests.bench.cpu page sign confirm emails

Each measure is `time.process_time()` around N calls (`CPU_N`, 500) through Django's
WSGIHandler with the production settings (DEBUG off, the full middleware stack, the Redis
cache, request metrics in prometheus_client's multiprocess mode as under gunicorn), repeated
`CPU_ROUNDS` times (5); the lowest and the median round are printed, in ms per request:

  page     GET of the statement page, nothing in front: what the "cold" measure serves
  sign     sign POSTs as a browser sends them (Origin, Sec-Fetch-Site), a new address each
  confirm  confirmation POSTs, through links to signatures made by the sign path
  yardstick  the bench's bare Django view (tests/bench/bare_django.py): a form and one
           INSERT, the least a sign POST can cost; alone, as it needs settings of its own
  emails   the outbox sender (statements/outbox/sender.py) delivering batches of
           confirmation emails to an SMTP sink in a process of its own (tests/bench/smtp_sink.py):
           ms of this process's CPU (every thread) per email

Signatures it makes use addresses @bench.invalid and are deleted when it ends. Never run it
against a database that matters.
"""

import io
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
SLUG = "kazakhstan-2022"
SITE = "http://127.0.0.1:8080"
EMAIL_DOMAIN = "bench.invalid"
MEASURES = ("page", "sign", "confirm", "emails", "yardstick")


def configure(smtp_port: int, settings_module: str = "petition.settings") -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (a database of your own), REDIS_URL and REDIS_CACHE_DB.")
    work = Path(tempfile.mkdtemp(prefix="petition-cpu-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        HTTPS="false",
        SITE_URL=SITE,
        TRUSTED_PROXY_COUNT="1",
        STATIC_ROOT=str(work / "static"),
        PUBLIC_LISTS_ROOT=str(work / "public"),
        PRIVATE_STORAGE_ROOT=str(work / "private"),
        LOG_LEVEL="WARNING",
        CELERY_TASK_ALWAYS_EAGER="false",
        SIGN_RATE_IP_BURST="2000000/m",
        SIGN_RATE_IP_SUSTAINED="20000000/h",
        PROMETHEUS_MULTIPROC_DIR=str(work / "metrics"),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
    )
    (work / "metrics").mkdir()
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def environ(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> dict:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_ACCEPT_LANGUAGE": "es",
        "HTTP_X_FORWARDED_FOR": "10.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
    }
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
        env["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    for name, value in (headers or {}).items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


SAME_ORIGIN = {"Origin": SITE, "Sec-Fetch-Site": "same-origin"}


class Client:
    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.app = WSGIHandler()

    def __call__(self, env: dict) -> tuple[str, bytes]:
        status = []
        result = self.app(env, lambda s, h, *a: status.append(s))
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        return status[0], body


def rounds(name: str, run_round, n: int, count: int) -> dict:
    """`run_round(n)` `count` times, each timed with process_time: ms per item."""
    figures, rates = [], []
    for _ in range(count):
        started, clock = time.process_time(), time.perf_counter()
        done = run_round(n)
        figures.append((time.process_time() - started) * 1000 / done)
        rates.append(done / (time.perf_counter() - clock))
    result = {"min": min(figures), "median": statistics.median(figures), "rounds": figures}
    print(
        f"{name:<8} {result['min']:.3f} ms min, {result['median']:.3f} ms median "
        f"(rounds of {n}: {', '.join(f'{f:.2f}' for f in figures)}; "
        f"{statistics.median(rates):,.0f}/s by the clock, machine permitting)",
        flush=True,
    )
    return result


def sign_environ(address: str) -> dict:
    fields = {
        "kind": "individual",
        "individual-full_name": "Bench Signer",
        "individual-email": address,
        "individual-country": "KZ",
        "individual-city": "Almaty",
        "individual-consent": "on",
    }
    return environ("POST", f"/es/s/{SLUG}/sign/", urlencode(fields).encode(), SAME_ORIGIN)


def measure_page(client: Client, n: int, count: int) -> dict:
    env = environ("GET", f"/es/s/{SLUG}/")

    def run(n: int) -> int:
        for _ in range(n):
            env["wsgi.input"] = io.BytesIO()
            status, _body = client(dict(env))
            assert status.startswith("200"), status
        return n

    run(50)
    return rounds("page", run, n, count)


def _signer(prefix: str):
    counter = iter(range(10**9))
    return lambda: f"{prefix}{next(counter)}@{EMAIL_DOMAIN}"


def make_signatures(client: Client, prefix: str, n: int) -> None:
    address = _signer(prefix)
    for _ in range(n):
        status, body = client(sign_environ(address()))
        assert status.startswith("302"), (status, body[:300])


def measure_sign(client: Client, n: int, count: int, run_id: str, name: str = "sign") -> dict:
    address = _signer(f"cpu-s{run_id}-")

    def run(n: int) -> int:
        for _ in range(n):
            status, body = client(sign_environ(address()))
            assert status.startswith("302"), (status, body[:300])
        return n

    run(50)
    return rounds(name, run, n, count)


def measure_confirm(client: Client, n: int, count: int, run_id: str) -> dict:
    from statements import tokens
    from statements.models import Signature

    prefix = f"cpu-c{run_id}-"
    make_signatures(client, prefix, n * count + 50)
    signatures = Signature.objects.filter(email__startswith=prefix).only("public_id")
    paths = iter(
        [f"/es/confirm/{tokens.make_token(s, tokens.CONFIRM)}/" for s in signatures.iterator()]
    )

    def run(n: int) -> int:
        for _ in range(n):
            status, body = client(environ("POST", next(paths), b"", SAME_ORIGIN))
            assert status.startswith("200"), (status, body[:300])
        return n

    run(50)
    return rounds("confirm", run, n, count)


def measure_emails(client: Client, n: int, count: int, run_id: str) -> dict:
    """The sender on batches of OUTBOX_BATCH_SIZE claimed by the relay, as the Celery task
    runs it, against the benchmark's SMTP sink in a process of its own."""
    from django.conf import settings

    from statements.outbox import relay, sender
    from statements.outbox.models import Email
    from tests.bench.stack import wait_for

    prefix = f"cpu-e{run_id}-"
    Email.objects.filter(state=Email.State.QUEUED).update(state=Email.State.CANCELLED)
    port = int(os.environ["EMAIL_URL"].rsplit(":", 1)[1])
    log = Path(tempfile.mkdtemp(prefix="petition-cpu-sink-")) / "sink.tsv"
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bench.smtp_sink",
            "--port",
            str(port),
            "--log",
            str(log),
            "--processes",
            str(os.cpu_count() or 1),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: "sink ready" in sink.stdout.readline(), 30, "the SMTP sink")
        make_signatures(client, prefix, n * count + 100)

        def run(n: int) -> int:
            sent = 0
            while sent < n:
                batch = relay.claim_batch(size=settings.OUTBOX_BATCH_SIZE)
                assert batch is not None, "no queued email left"
                result = sender.deliver_batch(claim=batch[0], ids=batch[1])
                assert result.sent == len(batch[1]), result
                sent += result.sent
            return sent

        run(100)
        return rounds("emails", run, n, count)
    finally:
        sink.terminate()
        sink.wait(10)


def main(argv: list[str]) -> int:
    wanted = argv or list(MEASURES)
    unknown = set(wanted) - set(MEASURES)
    if unknown:
        sys.exit(f"unknown measures: {', '.join(sorted(unknown))} (of {', '.join(MEASURES)})")
    from tests.bench.stack import free_port

    if "yardstick" in wanted and len(wanted) > 1:
        sys.exit("yardstick runs alone: it needs settings of its own")
    settings_module = "tests.bench.bare_django" if wanted == ["yardstick"] else "petition.settings"
    configure(free_port(), settings_module)
    from statements import counters
    from statements.content import load_all
    from statements.models import Signature, Statement

    load_all()
    for statement_id in Statement.objects.values_list("pk", flat=True):
        counters.refresh(statement_id)
    n = int(os.environ.get("CPU_N") or 500)
    count = int(os.environ.get("CPU_ROUNDS") or 5)
    run_id = secrets.token_hex(3)
    client = Client()
    try:
        for measure in wanted:
            if measure == "page":
                measure_page(client, n, count)
            elif measure == "sign":
                measure_sign(client, n, count, run_id)
            elif measure == "confirm":
                measure_confirm(client, n, count, run_id)
            elif measure == "emails":
                measure_emails(client, n, count, run_id)
            elif measure == "yardstick":
                measure_sign(client, n, count, run_id, name="yardstick")
    finally:
        Signature.objects.filter(email__endswith="@" + EMAIL_DOMAIN).delete()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
