"""The container's health check: `python -m ops.probe /healthz/live`.

Asks this container's web server for a health endpoint and exits 0 if it answers 200. The
request names the first ALLOWED_HOSTS entry as its Host, since host validation refuses an
address it does not know. Runs without Django, so a probe costs little.
"""

import os
import sys
import urllib.error
import urllib.request


def host() -> str:
    first = (os.environ.get("ALLOWED_HOSTS") or "localhost").split(",")[0].strip()
    if first in {"", "*"}:
        return "localhost"
    # ".example.org" allows any subdomain of example.org.
    return "health" + first if first.startswith(".") else first


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/healthz/live"
    port = (os.environ.get("WEB_BIND") or "127.0.0.1:8000").split(",")[0].rsplit(":", 1)[-1]
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host()})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 - http only
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"health check {path}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
