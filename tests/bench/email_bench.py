"""The email measures of `make bench` (tests/bench/run.py calls them):

  email-ceiling  what the SMTP sink accepts from plain smtplib loops, one per connection, as
                 many connections as a worker's batch uses: no worker can deliver faster to
                 this sink on this machine
  latency        from a sign POST to its email accepted by the sink, while signatures arrive
                 at BENCH_LATENCY_RATE a second (200) for BENCH_LATENCY_SECONDS (60), with the
                 stack as deployed: gunicorn, a worker, beat's one-second relay tick
  duplicates     response times of first signatures and of duplicates, interleaved on one
                 connection, side by side: they must not tell who has signed

The sink logs one line per message: monotonic time, recipients, confirmation path, wall
time (tests/bench/smtp_sink.py); latencies compare its wall time with the signature's
`created_at`, both read from this machine's clock.
"""

import contextlib
import http.client
import smtplib
import statistics
import threading
import time
from collections import Counter
from urllib.parse import urlencode, urlsplit

from tests.bench.stack import Stack, wait_for

EMAIL_DOMAIN = "bench.invalid"


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def sink_lines(stack: Stack, prefix: str) -> list[list[str]]:
    lines = [line.split("\t") for line in stack.sink_log.read_text().splitlines() if line]
    return [line for line in lines if line[1].startswith(prefix)]


class SinkTail:
    """The lines the sink added to its log since the last call (whole lines only)."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def new_lines(self) -> list[list[str]]:
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            data = log.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        return [line.split("\t") for line in complete.decode().splitlines() if line]


# --- The sink's ceiling ----------------------------------------------------------------------


def sample_message() -> bytes:
    """A confirmation email as the site sends it, for the plain loop to send."""
    from statements.emails import FastEmailMessage, render_email

    context = {
        "signature": {"full_name": "Айгерим Сейткали", "language": "en", "state": "pending"},
        "statement_title": "Solidarity with the working people of Kazakhstan",
        "statement_url": "http://127.0.0.1:8000/s/kazakhstan-2022/",
        "token_days": 7,
        "confirm_url": "http://127.0.0.1:8000/confirm/" + "x" * 70 + "/",
        "withdraw_url": "http://127.0.0.1:8000/withdraw/" + "y" * 70 + "/",
    }
    subject, text, html = render_email("confirmation", context, language="en")
    message = FastEmailMessage.build(
        subject, text, html, to="ceiling@" + EMAIL_DOMAIN, language="en"
    )
    import email.policy

    return message.message(policy=email.policy.SMTP).as_bytes()


def smtplib_ceiling(stack: Stack, run_id: str, count: int, connections: int = 1) -> dict:
    """Send `count` prepared messages with smtplib, in `connections` loops at once (one
    connection each, in threads), as fast as the sink takes them: as many connections as a
    worker's batch uses. The rate is counted from the sink's own timestamps, like a
    worker's."""
    raw = sample_message()
    prefix = f"c{run_id}-"

    def loop(index: int) -> None:
        with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
            for n in range(index, count, connections):
                smtp.sendmail("noreply@" + EMAIL_DOMAIN, [f"{prefix}{n}@{EMAIL_DOMAIN}"], raw)

    loops = [threading.Thread(target=loop, args=(i,)) for i in range(connections)]
    for thread in loops:
        thread.start()
    for thread in loops:
        thread.join()
    wait_for(lambda: len(sink_lines(stack, prefix)) >= count, 30, "the ceiling's messages")
    stamps = sorted(float(line[0]) for line in sink_lines(stack, prefix))
    span = stamps[-1] - stamps[0]
    return {
        "rate": (len(stamps) - 1) / span if span else 0.0,
        "messages": len(stamps),
        "connections": connections,
    }


# --- Sign POSTs ----------------------------------------------------------------------------


class Signer:
    """One visitor's connection to the site: loads the statement page once (for the form's
    CSRF cookie and token, where the page carries them), then posts the sign form as a
    browser does, with Origin and Sec-Fetch-Site."""

    def __init__(self, stack: Stack, sign_path: str, page_path: str):
        self.stack = stack
        self.sign_path = sign_path
        # As visitors reach the site (through nginx, where the stack has it).
        port = urlsplit(stack.base_url).port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.cookie, self.token = self._credentials(page_path)

    def _credentials(self, page_path: str) -> tuple[str, str]:
        import html
        import re

        self.connection.request("GET", page_path)
        response = self.connection.getresponse()
        body = response.read().decode()
        cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        return (
            cookie.group(1) if cookie else "",
            html.unescape(token.group(1)) if token else "",
        )

    def sign(self, address: str) -> tuple[int, float]:
        fields = {
            "kind": "individual",
            "individual-full_name": "Bench Signer",
            "individual-email": address,
            "individual-country": "KZ",
            "individual-consent": "on",
        }
        if self.token:
            fields["csrfmiddlewaretoken"] = self.token
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": self.stack.base_url,
            "Sec-Fetch-Site": "same-origin",
        }
        if self.cookie:
            headers["Cookie"] = f"csrftoken={self.cookie}"
        started = time.perf_counter()
        self.connection.request("POST", self.sign_path, urlencode(fields), headers)
        response = self.connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started


# --- Latency from sign to delivery ---------------------------------------------------------


def measure_latency(
    stack: Stack, run_id: str, *, rate: int, seconds: int, sign_path: str, page_path: str
) -> dict:
    """Sign at `rate` a second for `seconds` (paced, from 32 connections: visitors do not
    wait for each other, so a slow answer to one does not hold the others back), then wait
    for the emails; latency is each email's arrival at the sink minus its signature's
    creation."""
    from statements.models import Signature

    prefix = f"l{run_id}-"
    threads = 32
    statuses: Counter = Counter()
    lock = threading.Lock()
    started = time.monotonic() + 1.0

    def visitor(index: int) -> None:
        signer = Signer(stack, sign_path, page_path)
        interval = threads / rate
        n = 0
        while True:
            due = started + index / rate + n * interval
            if due - started >= seconds:
                break
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            status, _elapsed = signer.sign(f"{prefix}{index}-{n}@{EMAIL_DOMAIN}")
            with lock:
                statuses[status] += 1
            n += 1

    pool = [threading.Thread(target=visitor, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(seconds + 120)
    sent_window = time.monotonic() - started
    created = dict(
        Signature.objects.filter(email__startswith=prefix).values_list("email", "created_at")
    )
    expected = len(created)
    with contextlib.suppress(RuntimeError):  # reported as lost below
        wait_for(lambda: len(sink_lines(stack, prefix)) >= expected, 120, "the emails")
    time.sleep(2)
    lines = sink_lines(stack, prefix)
    arrived: dict[str, float] = {}
    repeated = 0
    for line in lines:
        if line[1] in arrived:
            repeated += 1
            continue
        arrived[line[1]] = float(line[3])
    latencies = [
        arrived[address] - created_at.timestamp()
        for address, created_at in created.items()
        if address in arrived
    ]
    return {
        "rate_asked": rate,
        "rate_achieved": round(statuses[302] / sent_window, 1) if sent_window else 0.0,
        "seconds": seconds,
        "statuses": dict(statuses),
        "signatures": expected,
        "delivered": len(arrived),
        "lost": expected - len(arrived),
        "repeated": repeated,
        "p50_s": round(_percentile(latencies, 0.50), 3),
        "p99_s": round(_percentile(latencies, 0.99), 3),
        "max_s": round(max(latencies), 3) if latencies else 0.0,
    }


# --- First signature against duplicate -----------------------------------------------------


def measure_duplicates(
    stack: Stack, run_id: str, *, samples: int, sign_path: str, page_path: str
) -> dict:
    """Alternate a first signature (a new address) and a duplicate (the address signed just
    before), on one keep-alive connection, `samples` of each after a warm-up."""
    prefix = f"d{run_id}-"
    signer = Signer(stack, sign_path, page_path)
    warm_up = 50
    first: list[float] = []
    duplicate: list[float] = []
    statuses: Counter = Counter()
    for n in range(samples + warm_up):
        status, elapsed = signer.sign(f"{prefix}{n}@{EMAIL_DOMAIN}")
        statuses[("first", status)] += 1
        if n >= warm_up:
            first.append(elapsed)
        status, elapsed = signer.sign(f"{prefix}{n}@{EMAIL_DOMAIN}")
        statuses[("duplicate", status)] += 1
        if n >= warm_up:
            duplicate.append(elapsed)

    def summary(values: list[float]) -> dict:
        return {
            "median_ms": round(statistics.median(values) * 1000, 3),
            "p10_ms": round(_percentile(values, 0.10) * 1000, 3),
            "p90_ms": round(_percentile(values, 0.90) * 1000, 3),
        }

    first_summary, duplicate_summary = summary(first), summary(duplicate)
    difference = abs(duplicate_summary["median_ms"] - first_summary["median_ms"]) / max(
        first_summary["median_ms"], 1e-9
    )
    return {
        "samples": samples,
        "first": first_summary,
        "duplicate": duplicate_summary,
        "median_difference": round(difference, 3),
        "statuses": {f"{kind} {status}": n for (kind, status), n in statuses.items()},
    }
