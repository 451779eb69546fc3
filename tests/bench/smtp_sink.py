"""An SMTP server (aiosmtpd) that accepts every message and logs one line per message.

    python -m tests.bench.smtp_sink --port 8125 --log /tmp/sink.log [--processes 2]

Each line is `<monotonic seconds>\t<recipients>\t<confirmation path or ->\t<wall-clock
seconds>`, flushed as it is written, so the benchmark can count deliveries while they happen,
find lost or repeated emails, confirm signatures through the very links that were mailed, and
time each email from its signature's creation.

One aiosmtpd process takes about 400 messages a second here, each over its own few exchanges
on one event loop: a sender with several connections would measure the sink, not itself. So
the sink may run as several processes listening on the same port (SO_REUSEPORT: the kernel
spreads the connections among them), all appending to the same log, one write per line.
"""

import argparse
import asyncio
import contextlib
import email
import os
import re
import signal
import sys
import time

from aiosmtpd.smtp import SMTP

CONFIRM_LINK = re.compile(rb"https?://[^/\s]+(/[a-z]{2}(?:-[a-z]+)?/confirm/[A-Za-z0-9_:\-]+/)")


def confirmation_path(content: bytes) -> str:
    """The confirmation link's path: found in the raw bytes when a part is sent as 8-bit text
    (the usual case), else in the decoded parts."""
    match = CONFIRM_LINK.search(content)
    if match is None:
        message = email.message_from_bytes(content)
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if payload and (match := CONFIRM_LINK.search(payload)):
                break
    return match.group(1).decode() if match else "-"


class Handler:
    def __init__(self, log):
        self.log = log

    async def handle_DATA(self, server, session, envelope):
        path = confirmation_path(envelope.content)
        recipients = ",".join(envelope.rcpt_tos)
        self.log.write(f"{time.monotonic():.6f}\t{recipients}\t{path}\t{time.time():.6f}\n")
        return "250 OK"


def serve(port: int, log_path: str, ready_fd: int | None) -> None:
    """One process of the sink, until SIGTERM or SIGINT."""
    with open(log_path, "a", buffering=1, encoding="utf-8") as log:
        handler = Handler(log)
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(
            loop.create_server(
                lambda: SMTP(handler, hostname="sink", loop=loop),
                host="127.0.0.1",
                port=port,
                reuse_port=True,
            )
        )
        if ready_fd is not None:
            os.write(ready_fd, b".")
            os.close(ready_fd)
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        loop.run_until_complete(stop.wait())
        server.close()
        loop.run_until_complete(server.wait_closed())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    children = []
    read_fd, write_fd = os.pipe()
    for _ in range(max(1, args.processes)):
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            serve(args.port, args.log, write_fd)
            os._exit(0)
        children.append(pid)
    os.close(write_fd)
    started = b""
    while len(started) < len(children):
        chunk = os.read(read_fd, 64)
        if not chunk:
            sys.exit("a sink process failed to start")
        started += chunk
    print("sink ready", flush=True)

    def stop(signum, frame):
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue


if __name__ == "__main__":
    main()
