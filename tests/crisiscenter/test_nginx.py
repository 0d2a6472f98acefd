"""The public crisis pages stay up when the app is down: nginx, run with the committed
deploy/nginx/crisiscell.conf (the file docs/deployment.md shows), serves the rendered files
itself and proxies the rest to the app, a real uvicorn process. The test reads a live page,
its feeds and a 304 through nginx, stops the app, and reads them again.

Real processes (nginx and uvicorn): marked `integration`. Without nginx the test is skipped,
unless CRISISCELL_REQUIRE_BROWSER=1 (CI, whose .ci/run installs nginx-light), where a
missing nginx is a failure, as a missing Chromium is for the browser tests."""

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from incidents.crisiscenter import actions
from incidents.crisiscenter.render import PUBLIC_CSP

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "crisiscell.conf"
DOCS = ROOT / "docs" / "deployment.md"
UPDATE = "Every batch tested since Monday is clean."


def _nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        message = "the web-server test needs nginx (Debian: apt-get install nginx-light)"
        if os.environ.get("CRISISCELL_REQUIRE_BROWSER", "").strip() == "1":
            pytest.fail(f"{message} (CRISISCELL_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def site_config(*, pages: Path, app_port: int, port: int, cert: Path, key: Path) -> str:
    """The committed site file with the lines it marks "yours" set to this test's: each
    must be found exactly once, so the file and the test cannot drift apart."""
    text = SITE.read_text()
    for line, ours in [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
        ("/etc/ssl/certs/crisis.example.com.pem;", f"{cert};"),
        ("/etc/ssl/private/crisis.example.com.key;", f"{key};"),
        ("alias /srv/crisiscell/crisis-pages/;", f"alias {pages}/;"),
    ]:
        assert text.count(line) == 1, f"{SITE} no longer holds {line!r} once"
        text = text.replace(line, ours)
    return text


def main_config(prefix: Path, site: Path) -> str:
    """nginx's own frame for the site: no daemon, everything in the temporary prefix."""
    temporary = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log {prefix / "access.log"};
{temporary}
    include {site};
}}
"""


def app_environment(pages: Path) -> dict:
    """The test's own settings (mode, database, Redis) for the app process, pointed at the
    test database, whose rows this test commits. Its public address is another host, so a
    subscription's Origin is accepted only if nginx forwards the Host (with its port) and
    the scheme as the browser sent them."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("CRISIS_CENTER_URL", "CSRF_TRUSTED_ORIGINS")
        },
        "CRISIS_CENTER_ROOT": str(pages),
        "SITE_URL": "https://crisis.example.com",
        "DB_CONN_MAX_AGE": "0",
    }
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    else:
        env["SQLITE_PATH"] = str(db["NAME"])
    return env


@pytest.fixture
def pages(settings):
    """A directory nginx's workers may read (pytest's own temporary directories are
    private to their owner, and nginx's workers may run as another user)."""
    directory = Path(tempfile.mkdtemp(prefix="crisis-pages-"))
    directory.chmod(0o755)
    settings.CRISIS_CENTER_ROOT = directory
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def stack(pages, tmp_path):
    """nginx (TLS with a certificate made here) in front of the app (uvicorn, as the
    Procfile runs it); yields (port, certificate, app process)."""
    nginx = _nginx()
    port, app_port = free_port(), free_port()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    site = prefix / "crisiscell.conf"
    site.write_text(site_config(pages=pages, app_port=app_port, port=port, cert=cert, key=key))
    main = prefix / "nginx.conf"
    main.write_text(main_config(prefix, site))
    check = subprocess.run(  # noqa: S603
        [nginx, "-t", "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr

    app = subprocess.Popen(  # noqa: S603
        [
            *(sys.executable, "-m", "uvicorn", "crisiscell.asgi:application"),
            *("--host", "127.0.0.1", "--port", str(app_port), "--lifespan", "off"),
            *("--proxy-headers", "--forwarded-allow-ips", "127.0.0.1", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=app_environment(pages),
    )
    server = subprocess.Popen(  # noqa: S603
        [nginx, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log")]
    )
    try:
        wait_for_port(app_port, app, "the app (uvicorn)")
        wait_for_port(port, server, "nginx")
        yield port, cert, app
    finally:
        stop(server)
        stop(app)


def fetch(port, cert, path, *, method="GET", headers=None, body=None):
    context = ssl.create_default_context(cafile=str(cert))
    client = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        client.request(method, path, body=body, headers=headers or {})
        response = client.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        client.close()


FILES = [
    ("/crisis/rumour/en/", "rumour/en/index.html"),
    ("/crisis/rumour/", "rumour/index.html"),
    ("/crisis/rumour/fr/", "rumour/fr/index.html"),
    ("/crisis/rumour/en/feed.atom", "rumour/en/feed.atom"),
    ("/crisis/rumour/en/feed.json", "rumour/en/feed.json"),
    ("/crisis/rumour/page.json", "rumour/page.json"),
    ("/crisis/", "index.html"),
    ("/crisis/crisis.css", "crisis.css"),
]
# What the app's own serving says (serve.py), which the web server must say too.
SAME_HEADERS = ["Content-Type", "Cache-Control", "Content-Security-Policy"]
SAME_HEADERS += ["X-Content-Type-Options", "Access-Control-Allow-Origin"]


def read_everything(port, cert, pages):
    """Each file through nginx: 200, the file's bytes, the app's headers; a 304 for its
    ETag; the dark page and a temporary file 404."""
    answers = {}
    django = Client()
    for path, name in FILES:
        status, headers, body = fetch(port, cert, path)
        assert status == 200, (path, status, body[:300])
        assert body == (pages / name).read_bytes(), path
        served = django.get(path)
        for header in SAME_HEADERS:
            assert headers.get(header) == served.headers.get(header), (path, header)
        assert headers["ETag"] and headers["Last-Modified"], path
        answers[path] = (headers["ETag"], body)
        status, _, body = fetch(port, cert, path, headers={"If-None-Match": headers["ETag"]})
        assert (status, body) == (304, b""), path
    assert fetch(port, cert, "/crisis/rumour/en/")[1]["Content-Security-Policy"] == PUBLIC_CSP
    assert fetch(port, cert, "/crisis/dark-site/")[0] == 404
    assert fetch(port, cert, "/crisis/dark-site/en/")[0] == 404
    assert not (pages / "dark-site").exists()
    (pages / "rumour" / "en" / ".tmp-half-written").write_bytes(b"half")
    assert fetch(port, cert, "/crisis/rumour/en/.tmp-half-written")[0] == 404
    return answers


def test_the_documented_configuration_is_the_tested_file():
    docs = DOCS.read_text()
    shown = docs.split("```nginx\n", 1)[1].split("```", 1)[0]
    assert shown == SITE.read_text()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_nginx_serves_the_pages_and_feeds_while_the_app_is_down(
    pages, live_page, publish_update, declare, lead, stack
):
    publish_update(UPDATE)  # the app's render path: after COMMIT, into CRISIS_CENTER_ROOT
    actions.page_prepare(incident=declare(title="Not yet public"), actor=lead, slug="dark-site")
    port, cert, app = stack
    assert UPDATE in (pages / "rumour" / "en" / "index.html").read_text()

    before = read_everything(port, cert, pages)
    # The rest reaches the app: the sign-in page, and the page's subscription form (its
    # Host, scheme and Origin forwarded intact: refused for the address, not as forged).
    status, _, body = fetch(port, cert, "/accounts/login/")
    assert status == 200 and b'name="password"' in body
    status, _, body = fetch(
        port,
        cert,
        "/crisis/rumour/subscribe/",
        method="POST",
        body="email=not-an-address&language=en",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"https://127.0.0.1:{port}",
        },
    )
    assert status == 400 and b"This is not an e-mail address" in body, body

    stop(app)  # the app is down (with it, every path to the database)
    assert fetch(port, cert, "/accounts/login/")[0] == 502
    after = read_everything(port, cert, pages)
    assert after == before
    assert UPDATE.encode() in after["/crisis/rumour/en/feed.atom"][1]
    assert UPDATE.encode() in after["/crisis/rumour/en/feed.json"][1]
