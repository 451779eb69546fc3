"""nginx with the repository's configuration (deploy/nginx/), for the tests and `make bench`.

The template is rendered as the README says (every ${PETITION_...} from a value, nginx's own
$names left alone) into a folder of its own, inside a minimal nginx.conf whose pid file, logs
and temporary files are in that folder too, so nginx runs as a child process on free ports of
127.0.0.1, without root and beside any other nginx on the machine.
"""

import getpass
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx" / "petition.conf.template"
PLACEHOLDER = re.compile(r"\$\{(PETITION_[A-Z_]+)\}")


def executable() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(path)),
        None,
    )


def placeholders() -> set[str]:
    return set(PLACEHOLDER.findall(TEMPLATE.read_text()))


def render(values: dict[str, str]) -> str:
    missing = placeholders() - set(values)
    if missing:
        raise ValueError(f"no value for {', '.join(sorted(missing))}")
    return Template(TEMPLATE.read_text()).safe_substitute(values)


def main_config(folder: Path, site: Path, *, workers: str = "auto", extra: str = "") -> str:
    mime = "/etc/nginx/mime.types"
    temp = "\n".join(
        f"    {name}_temp_path {folder / 'temp' / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    return f"""{user}
worker_processes {workers};
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{
    worker_connections 4096;
}}
http {{
    {f"include {mime};" if os.path.exists(mime) else ""}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 100000;
{temp}
    include {site};
{extra}
}}
"""


@dataclass
class Nginx:
    folder: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def config(self) -> Path:
        return self.folder / "nginx.conf"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def prepare(
        cls,
        folder: Path,
        *,
        port: int,
        upstream: str,
        static_root: Path,
        lists_root: Path,
        sign_rate: str = "30r/m",
        sign_burst: int = 30,
        workers: str = "auto",
        extra: str = "",
    ) -> "Nginx":
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / "temp" / name).mkdir(parents=True, exist_ok=True)
        site = folder / "petition.conf"
        site.write_text(
            render(
                {
                    "PETITION_LISTEN": f"127.0.0.1:{port}",
                    "PETITION_SERVER_NAME": "127.0.0.1 localhost",
                    "PETITION_UPSTREAM": upstream,
                    "PETITION_STATIC_ROOT": str(static_root),
                    "PETITION_LISTS_ROOT": str(lists_root),
                    "PETITION_CACHE_DIR": str(folder / "cache"),
                    "PETITION_SIGN_RATE": sign_rate,
                    "PETITION_SIGN_BURST": str(sign_burst),
                }
            )
        )
        nginx = cls(folder=folder, port=port)
        nginx.config.write_text(main_config(folder, site, workers=workers, extra=extra))
        return nginx

    def _argv(self, *args: str) -> list[str]:
        binary = executable()
        if binary is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
        return [
            binary,
            "-p",
            str(self.folder),
            "-e",
            str(self.folder / "error.log"),
            "-c",
            str(self.config),
            *args,
        ]

    def test(self) -> subprocess.CompletedProcess:
        """`nginx -t`: the configuration as nginx reads it."""
        return subprocess.run(self._argv("-t"), capture_output=True, text=True, timeout=30)

    def start(self) -> None:
        self.process = subprocess.Popen(
            self._argv("-g", "daemon off;"),
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "stderr.log").open("ab"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.log()}")
            try:
                urllib.request.urlopen(f"{self.base_url}/static/", timeout=1)
            except urllib.error.HTTPError:
                return  # it answers (a 403 or 404 for the folder itself)
            except OSError:
                time.sleep(0.1)
                continue
            return
        raise RuntimeError(f"nginx did not start: {self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def log(self) -> str:
        parts = []
        for name in ("error.log", "stderr.log"):
            path = self.folder / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)
