"""The repository's nginx configuration (deploy/nginx/): it passes `nginx -t`, and with nginx
and gunicorn started here it caches the public pages (a second GET is a cache hit), keeps the
statement readable with gunicorn stopped, serves the static files and the public lists
itself, caps request bodies, limits sign POSTs and forwards the client's address for
TRUSTED_PROXY_COUNT=1."""

import gzip
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from statements.content import load_all
from statements.models import Signature
from tests.conftest import ROOT, _worker_database_url
from tests.nginx import Nginx, executable, placeholders
from tests.statements.test_signing import INDIVIDUAL

needs_nginx = pytest.mark.skipif(
    executable() is None, reason="nginx is not installed (Debian: apt-get install nginx)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_every_placeholder_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert placeholders() >= {"PETITION_UPSTREAM", "PETITION_STATIC_ROOT", "PETITION_LISTS_ROOT"}
    for name in placeholders():
        assert name in readme, name


@needs_nginx
def test_the_configuration_passes_nginx_t(tmp_path):
    nginx = Nginx.prepare(
        tmp_path / "nginx",
        port=_free_port(),
        upstream="127.0.0.1:8000",
        static_root=tmp_path / "static",
        lists_root=tmp_path / "lists",
    )
    checked = nginx.test()
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


class Site:
    """gunicorn serving the site (production settings, the test database) behind nginx."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.web_port, self.nginx_port = _free_port(), _free_port()
        self.static = folder / "static"
        self.lists = folder / "lists"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "petition.settings",
            "DATABASE_URL": _worker_database_url(),
            "DEBUG": "false",
            "HTTPS": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"http://127.0.0.1:{self.nginx_port}",
            "TRUSTED_PROXY_COUNT": "1",
            "STATIC_ROOT": str(self.static),
            "PUBLIC_LISTS_ROOT": str(self.lists),
            "PUBLIC_CACHE_SECONDS": "1",
            "PUBLIC_STALE_SECONDS": "1",
            # An hour's window: a minute boundary between the four POSTs cannot reset the count.
            "SIGN_RATE_IP_BURST": "3/h",
            "EMAIL_URL": "console://",
            "WEB_CONCURRENCY": "1",
            "LOG_LEVEL": "WARNING",
        }
        # Tasks run in the web process, as in the embedded default: no broker here.
        self.env.pop("REDIS_URL", None)
        self.gunicorn: subprocess.Popen | None = None
        self.nginx = Nginx.prepare(
            folder / "nginx",
            port=self.nginx_port,
            upstream=f"127.0.0.1:{self.web_port}",
            static_root=self.static,
            lists_root=self.lists,
            sign_rate="60r/m",
            sign_burst=5,
            workers="1",
        )

    def start(self) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=self.env,
            check=True,
            timeout=120,
        )
        self.gunicorn = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "petition.wsgi",
                "-c",
                "petition/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.web_port}",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=(self.folder / "gunicorn.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while self.get("/healthz", port=self.web_port)[0] != 200:
            assert self.gunicorn.poll() is None, (self.folder / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        self.nginx.start()

    def stop_gunicorn(self) -> None:
        if self.gunicorn and self.gunicorn.poll() is None:
            self.gunicorn.terminate()
            self.gunicorn.wait(30)

    def stop(self) -> None:
        self.nginx.stop()
        self.stop_gunicorn()

    def request(self, method: str, path: str, body=None, headers=None, port=None):
        connection = http.client.HTTPConnection("127.0.0.1", port or self.nginx_port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
        except OSError:
            return 0, {}, b""
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def get(self, path: str, port=None, **headers):
        try:
            return self.request("GET", path, headers=headers, port=port)
        except OSError:
            return 0, {}, b""

    def sign(self, data: dict, **headers):
        return self.request(
            "POST",
            "/en/s/kazakhstan-2022/sign/",
            body=urlencode(data),
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )


@pytest.fixture
def site(transactional_db, tmp_path):
    if executable() is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    load_all()
    running = Site(tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.mark.slow
def test_second_get_is_a_cache_hit_and_the_page_outlives_gunicorn(site):
    status, headers, first = site.get("/en/")
    assert status == 200 and headers["x-cache-status"] in {"MISS", "EXPIRED"}
    assert headers["cache-control"].startswith("public")
    status, headers, second = site.get("/en/")
    assert status == 200 and headers["x-cache-status"] == "HIT"
    assert second == first
    # Made-up query parameters are the same page, from the same copy.
    assert site.get("/en/?utm_source=x&as=nonsense")[1]["x-cache-status"] == "HIT"
    assert site.get("/en/?as=organisation")[1]["x-cache-status"] == "MISS"
    # A revalidation by a browser is answered by nginx.
    status, _, body = site.get("/en/", **{"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    assert site.get("/api/statements/kazakhstan-2022/counts.json")[0] == 200
    assert site.get("/api/statements/kazakhstan-2022/counts.json")[1]["x-cache-status"] == "HIT"

    site.stop_gunicorn()
    assert site.get("/healthz", port=site.web_port)[0] == 0
    time.sleep(3)  # past s-maxage and stale-while-revalidate: every copy is stale now
    status, headers, during = site.get("/en/")
    assert status == 200 and during == first
    assert headers["x-cache-status"] in {"STALE", "UPDATING"}
    status, _, counts = site.get("/api/statements/kazakhstan-2022/counts.json")
    assert status == 200 and json.loads(counts)["statement"] == "kazakhstan-2022"
    # What was never cached cannot be served: nginx says the application is unreachable.
    assert site.get("/ru/privacy/")[0] == 502


@pytest.mark.slow
def test_static_files_lists_limits_and_forwarded_addresses(site):
    manifest = json.loads((site.static / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/site.css"]
    status, headers, body = site.get(f"/static/{hashed}", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(body) == (site.static / hashed).read_bytes()
    assert "x-cache-status" not in headers  # nginx's own file, not the application's
    assert "immutable" not in site.get("/static/css/site.css")[1]["cache-control"]

    # The public list: the first request reaches the application, which writes the files;
    # from then on nginx serves them.
    status, _, first = site.get("/ru/s/kazakhstan-2022/signatories.json")
    assert status == 200
    assert (site.lists / "ru" / "s" / "kazakhstan-2022" / "signatories.json").exists()
    status, headers, again = site.get("/ru/s/kazakhstan-2022/signatories.json")
    assert status == 200 and again == first and "x-cache-status" not in headers
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["content-disposition"] == 'inline; filename="kazakhstan-2022-signatories.json"'

    # A sign POST's body is capped before it reaches the application.
    big = {**INDIVIDUAL, "individual-comment": "x" * 20_000}
    assert site.sign(big, **{"Sec-Fetch-Site": "same-origin"})[0] == 413
    assert Signature.objects.count() == 0

    # Forged X-Forwarded-For entries buy no budget: the application counts the address nginx
    # saw (SIGN_RATE_IP_BURST=3/h here), so the fourth is refused by its form page.
    statuses = []
    for n in range(4):
        data = {**INDIVIDUAL, "individual-email": f"proxy{n}@example.org"}
        status, _, body = site.sign(data, **{"X-Forwarded-For": f"10.9.8.{n}"})
        statuses.append(status)
    assert statuses == [302, 302, 302, 429], statuses
    assert b"csrfmiddlewaretoken" not in body and b'name="individual-email"' in body
    assert Signature.objects.count() == 3

    # A header named SCRIPT_NAME never reaches the application.
    status, _, page = site.get("/en/s/kazakhstan-2022/thanks/", SCRIPT_NAME="/evil")
    assert status == 200 and b"/evil" not in page

    # nginx's own first line: beyond its burst, sign POSTs stop at nginx.
    refused = [site.sign({"kind": "individual"})[0] for _ in range(10)]
    assert 429 in refused
    assert Signature.objects.count() == 3


@pytest.mark.slow
def test_head_and_404_through_the_proxy(site):
    status, headers, body = site.request("HEAD", "/en/s/kazakhstan-2022/")
    assert status == 200 and body == b"" and headers["cache-control"].startswith("public")
    status, headers, _ = site.get("/en/s/no-such-statement/")
    assert status == 404 and "no-store" in headers["cache-control"]
    assert site.get("/en/s/no-such-statement/")[1]["x-cache-status"] == "MISS"


@pytest.mark.slow
def test_the_embedded_form_is_shared_per_language_and_code(site):
    from statements.models import Partner

    Partner.objects.create(name="Union", code="metal-kz", origins="https://metal.example.kz")
    embed = "/kk/embed/kazakhstan-2022/"
    status, headers, first = site.get(embed + "?ref=metal-kz")
    assert status == 200 and headers["x-cache-status"] in {"MISS", "EXPIRED"}
    assert "frame-ancestors https://metal.example.kz" in headers["content-security-policy"]
    assert "x-frame-options" not in headers
    status, headers, second = site.get(embed + "?ref=metal-kz")
    assert headers["x-cache-status"] == "HIT" and second == first
    # Its frame policy is kept with the copy.
    assert "frame-ancestors https://metal.example.kz" in headers["content-security-policy"]
    # Another code, or none, is another page; a made-up code is a redirect, never a page.
    assert site.get(embed)[1]["x-cache-status"] == "MISS"
    status, headers, _ = site.get(embed + "?ref=made-up")
    assert status == 302 and headers["location"] == embed
    assert site.get("/en/embed/kazakhstan-2022/?ref=metal-kz")[1]["x-cache-status"] == "MISS"


@pytest.mark.slow
def test_the_thanks_page_naming_the_address_is_never_kept(site):
    """The thanks page with the sign POST's value names the address typed: nginx passes it
    to the signer and keeps no copy; the plain thanks page stays shared, without it."""
    status, headers, _ = site.sign(INDIVIDUAL, **{"Sec-Fetch-Site": "same-origin"})
    assert status == 302
    location = headers["location"].split("#")[0]
    assert location.startswith("/en/s/kazakhstan-2022/thanks/?t=")
    for _ in range(2):
        status, headers, page = site.get(location)
        assert status == 200 and b"aigerim@example.org" in page
        assert headers["x-cache-status"] != "HIT"
        assert "no-store" in headers["cache-control"] and "set-cookie" not in headers
    site.get("/en/s/kazakhstan-2022/thanks/")
    status, headers, page = site.get("/en/s/kazakhstan-2022/thanks/")
    assert status == 200 and headers["x-cache-status"] == "HIT"
    assert b"aigerim@example.org" not in page
