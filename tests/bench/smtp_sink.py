"""An SMTP server (aiosmtpd) that accepts every message and logs one line per message.

    python -m tests.bench.smtp_sink --port 8125 --log /tmp/sink.log

Each line is `<monotonic seconds>\t<recipients>\t<confirmation path or ->\t<wall-clock
seconds>`, flushed as it is written, so the benchmark can count deliveries while they happen,
find lost or repeated emails, confirm signatures through the very links that were mailed, and
time each email from its signature's creation.
"""

import argparse
import asyncio
import email
import re
import signal
import time

from aiosmtpd.controller import Controller

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    with open(args.log, "a", buffering=1, encoding="utf-8") as log:
        controller = Controller(Handler(log), hostname="127.0.0.1", port=args.port)
        controller.start()
        print("sink ready", flush=True)
        stop = asyncio.Event()
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        loop.run_until_complete(stop.wait())
        controller.stop()


if __name__ == "__main__":
    main()
