"""Log lines as JSON (LOG_FORMAT=json) and the request id that ties a request's lines to the
lines of the tasks it queued.

Free of Django imports: gunicorn's master process formats its own log with this module before
any Django code is loaded.
"""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

# The id of the request (or of the request that queued the task) this thread is working for.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# The Celery task this process is running, if any.
task: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("task", default=None)

# nginx's $request_id is 32 hex digits; other proxies send UUIDs. The id is written to logs
# and response headers, so nothing else is accepted from the outside.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def accept_request_id(value: str | None) -> str:
    """The proxy's X-Request-ID when it looks like an id, otherwise a new one."""
    if value and _ACCEPTABLE_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the request id and
    task when there are any. Messages are the site's own: they never carry personal data (see
    tests/test_privacy.py), and this formatter adds none."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current:
            line["request_id"] = current
        running = task.get()
        if running:
            line["task"], line["task_id"] = running
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)
