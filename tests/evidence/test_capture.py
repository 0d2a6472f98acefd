"""Server-side capture of a URL: a real headless Chromium against pages this test serves
on loopback (allowed by a setting), and the SSRF rules that keep the server's network
and the app itself out of reach."""

import hashlib
import ipaddress
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from crisiscell.celery import app
from incidents.errors import InvalidInput
from incidents.evidence import capture
from incidents.evidence.actions import common
from incidents.evidence.models import CaptureJob, CaptureStatus, CustodyAction, EvidenceSource
from incidents.models import EntryKind, TimelineEntry
from tests.evidence.conftest import png_bytes
from tests.helpers import QuietHTTPServer, assert_error

pytestmark = pytest.mark.django_db

HAS_CHROMIUM = Path("/usr/bin/chromium").exists()
needs_chromium = pytest.mark.skipif(
    not HAS_CHROMIUM and os.environ.get("CRISISCELL_REQUIRE_BROWSER") != "1",
    reason="no system Chromium at /usr/bin/chromium",
)

POST_PAGE = b"""<!doctype html><html><head><title>Angry post #1234</title></head>
<body style="font-family:sans-serif"><h1>@hater</h1><p>This brand poisoned my dog.</p>
<p style="margin-top:1500px">end of thread</p></body></html>"""


# Tries every way around the request check to reach a local server: a WebSocket from the
# page, from a script-made frame and from workers (whose scope gets no init script).
WEBSOCKET_PAGE = b"""<!doctype html><html><head><title>socket</title></head>
<body><p id="out">...</p>
<script>
const seen = [];
function attempt(label, make) {
  try { const ws = make(); ws.onopen = () => seen.push(label + ":open"); }
  catch (e) { seen.push(label + ":" + e.name); }
}
attempt("page", () => new WebSocket("ws://127.0.0.1:PORT/ws/incidents/1/"));
const frame = document.createElement("iframe");
document.body.appendChild(frame);
attempt("frame", () => new frame.contentWindow.WebSocket("ws://127.0.0.1:PORT/from-frame"));
const code = "try { new WebSocket('ws://127.0.0.1:PORT/from-worker'); } catch (e) {}";
const url = URL.createObjectURL(new Blob([code], {type: "text/javascript"}));
for (const scope of [window, frame.contentWindow]) {
  for (const name of ["Worker", "SharedWorker"]) {
    try { new scope[name](url); } catch (e) { seen.push(name + ":" + e.name); }
  }
}
setTimeout(() => { document.getElementById("out").textContent = seen.join(",") || "none"; }, 500);
</script></body></html>"""


class Pages(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/post":
            self._send(200, POST_PAGE)
        elif self.path == "/deleted":
            self._send(404, b"<!doctype html><title>Gone</title><p>This post was deleted.")
        elif self.path == "/slow":
            time.sleep(3)
            self._send(200, b"<title>late</title>")
        elif self.path.startswith("/websocket?port="):
            port = int(self.path.split("=", 1)[1])
            self._send(200, WEBSOCKET_PAGE.replace(b"PORT", str(port).encode()))
        elif self.path == "/to-private":
            self.send_response(302)
            self.send_header("Location", "http://10.255.255.1/admin")
            self.end_headers()
        else:
            self._send(404, b"")

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def local_site():
    server = QuietHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback_allowed(settings):
    settings.EVIDENCE_CAPTURE_ALLOW_LOOPBACK = True
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SITE_URL = "http://testserver"


def request_capture(api, user, incident, url, captured):
    with captured(execute=True):
        return api.as_user(user).post(
            f"/api/incidents/{incident.pk}/evidence/capture/",
            {"url": url, "kind": "post", "platform": "x"},
            format="json",
        )


@needs_chromium
def test_capture_stores_a_screenshot_and_the_page(
    api, incident, drafter, local_site, loopback_allowed, django_capture_on_commit_callbacks
):
    response = request_capture(
        api, drafter, incident, f"{local_site}/post", django_capture_on_commit_callbacks
    )
    assert response.status_code == 202, response.content
    status_url = response.json()["status_url"]
    assert response["Location"] == status_url

    job = api.get(status_url).json()
    assert job["status"] == "done", job
    assert len(job["items"]) == 2
    screenshot, page = (api.get(f"/api/evidence/{pk}/").json() for pk in job["items"])
    assert screenshot["content_type"] == "image/png"
    assert screenshot["height"] > 1500  # the full page, not just the viewport
    assert page["content_type"] == "multipart/related"
    for item in (screenshot, page):
        assert item["source"] == EvidenceSource.CAPTURE
        assert item["capture"] == {
            "final_url": f"{local_site}/post",
            "http_status": 200,
            "page_title": "Angry post #1234",
        }
        assert item["platform"] == "x"
        assert item["captured_by"]["username"] == "drafter"
        original = api.get(item["file_url"])
        body = b"".join(original.streaming_content)
        assert hashlib.sha256(body).hexdigest() == item["sha256"]
    with_archive = b"".join(api.get(page["file_url"]).streaming_content)
    assert b"This brand poisoned my dog." in with_archive.replace(b"=\r\n", b"")
    custody = api.get(screenshot["custody_url"]).json()
    assert custody[0]["action"] == CustodyAction.CAPTURED


@needs_chromium
def test_a_deleted_post_is_still_captured_with_its_status(
    api, incident, drafter, local_site, loopback_allowed, django_capture_on_commit_callbacks
):
    response = request_capture(
        api, drafter, incident, f"{local_site}/deleted", django_capture_on_commit_callbacks
    )
    job = api.get(response.json()["status_url"]).json()
    assert job["status"] == "done"
    item = api.get(f"/api/evidence/{job['items'][0]}/").json()
    assert item["capture"]["http_status"] == 404


@needs_chromium
def test_a_refused_connection_fails_with_a_readable_reason(
    api, incident, drafter, loopback_allowed, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    response = request_capture(
        api, drafter, incident, f"http://127.0.0.1:{port}/", django_capture_on_commit_callbacks
    )
    job = api.get(response.json()["status_url"]).json()
    assert job["status"] == CaptureStatus.FAILED
    assert job["error"] == "The server refused the connection."
    entry = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
    assert entry.kind == EntryKind.EVIDENCE_CAPTURE_FAILED
    assert entry.text == "The server refused the connection."


@needs_chromium
def test_a_redirect_to_a_private_address_is_blocked(
    api, incident, drafter, local_site, loopback_allowed, django_capture_on_commit_callbacks
):
    response = request_capture(
        api, drafter, incident, f"{local_site}/to-private", django_capture_on_commit_callbacks
    )
    job = api.get(response.json()["status_url"]).json()
    assert job["status"] == CaptureStatus.FAILED
    assert "private, local or forbidden" in job["error"]
    assert job["items"] == []


@pytest.fixture
def tcp_listener():
    """A local server that counts the connections it is offered (and serves none)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            accepted.append(connection.recv(200))
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


@needs_chromium
def test_a_captured_page_cannot_open_websockets(local_site, loopback_allowed, tcp_listener):
    """The Fetch interception never sees a WebSocket handshake: the browser must refuse
    them itself, from the page and from its workers (loopback is allowed here, so only
    that block stands between the page and the local server)."""
    port, accepted = tcp_listener
    page = capture.capture_page(f"{local_site}/websocket?port={port}", on_stage=lambda s: None)
    time.sleep(0.3)  # let a late handshake land before looking
    assert accepted == []
    assert b"page:open" not in page.archive


@needs_chromium
def test_a_page_too_slow_to_load_fails_with_a_readable_reason(
    api,
    incident,
    drafter,
    local_site,
    loopback_allowed,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.EVIDENCE_CAPTURE_TIMEOUT = 1
    response = request_capture(
        api, drafter, incident, f"{local_site}/slow", django_capture_on_commit_callbacks
    )
    job = api.get(response.json()["status_url"]).json()
    assert job["status"] == CaptureStatus.FAILED
    assert job["error"] == "The page did not load within 1 second."


def test_a_requested_capture_is_queued_by_name_and_run_by_the_worker(
    api,
    incident,
    drafter,
    local_site,
    loopback_allowed,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    """Without a browser: the page is made up, the queueing is real. The action queues the
    worker task by its name after commit; in eager mode (embedded, tests) it runs inline."""
    stages = []

    def open_page(url, *, on_stage):
        on_stage("loading")
        stages.append(CaptureJob.objects.get().stage)
        return capture.CapturedPage(
            final_url=url,
            http_status=200,
            title="Angry post #1234",
            screenshot=png_bytes(64, 48),
            archive=b"MIME-Version: 1.0\r\n\r\nThis brand poisoned my dog.",
        )

    monkeypatch.setattr(capture, "capture_page", open_page)
    response = request_capture(
        api, drafter, incident, f"{local_site}/post", django_capture_on_commit_callbacks
    )

    assert response.status_code == 202, response.content
    job = api.get(response.json()["status_url"]).json()
    assert job["status"] == "done", job
    assert stages == ["loading"]
    screenshot, page = (api.get(f"/api/evidence/{pk}/").json() for pk in job["items"])
    assert (screenshot["content_type"], screenshot["width"]) == ("image/png", 64)
    assert page["content_type"] == "multipart/related"
    assert screenshot["capture"]["page_title"] == "Angry post #1234"


def test_the_actions_queue_tasks_registered_under_their_names(db):
    assert {common.CAPTURE_TASK, common.DISPLAY_COPIES_TASK} <= set(app.tasks)


def test_network_errors_read_as_sentences():
    assert capture._network_reason("net::ERR_NAME_NOT_RESOLVED at x") == (
        "The address could not be found (DNS)."
    )
    assert "could not be opened" in capture._network_reason("net::ERR_SOMETHING_ELSE")


class TestWhatTheServerMayOpen:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8000/",
            "http://localhost/",
            "http://[::1]/",
            "http://10.0.0.5/",
            "http://192.168.1.1/router",
            "http://172.16.0.1/",
            "http://169.254.169.254/latest/meta-data/",  # cloud metadata
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            # Loopback and private networks embedded in IPv6 forms a gateway translates.
            "http://[64:ff9b::7f00:1]/",  # NAT64
            "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata address
            "http://[64:ff9b:1::a00:1]/",  # NAT64, local-use prefix
            "http://[2002:7f00:1::]/",  # 6to4
            "http://[2002:a00:1::1]/",  # 6to4 of 10.0.0.1
            "http://[::127.0.0.1]/",  # IPv4-compatible
            "http://[::ffff:10.0.0.1]/",  # IPv4-mapped
            "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
        ],
    )
    def test_private_and_loopback_addresses_are_refused(self, settings, url):
        settings.EVIDENCE_CAPTURE_ALLOW_LOOPBACK = False
        settings.ALLOWED_HOSTS = ["testserver"]
        settings.SITE_URL = "http://testserver"
        with pytest.raises(InvalidInput, match="private or local network"):
            capture.check_url(url)

    @pytest.mark.parametrize(
        "address", ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "2606:4700::1111"]
    )
    def test_public_addresses_in_those_forms_are_allowed(self, settings, address):
        settings.EVIDENCE_CAPTURE_ALLOW_LOOPBACK = False
        assert capture.address_allowed(ipaddress.ip_address(address))

    def test_loopback_through_a_translator_is_refused_even_with_the_setting(self, settings):
        settings.EVIDENCE_CAPTURE_ALLOW_LOOPBACK = True  # the direct form only
        for address in ("64:ff9b::7f00:1", "2002:7f00:1::", "::127.0.0.1"):
            assert not capture.address_allowed(ipaddress.ip_address(address))
        assert capture.address_allowed(ipaddress.ip_address("::ffff:127.0.0.1"))

    def test_loopback_only_with_the_setting(self, settings):
        settings.EVIDENCE_CAPTURE_ALLOW_LOOPBACK = True
        settings.ALLOWED_HOSTS = ["testserver"]
        settings.SITE_URL = "http://testserver"
        assert capture.check_url("http://127.0.0.1:9/") == "http://127.0.0.1:9/"
        with pytest.raises(InvalidInput):
            capture.check_url("http://10.0.0.5/")  # private networks never

    def test_the_apps_own_host_is_refused(self, settings):
        settings.ALLOWED_HOSTS = ["crisis.example.com"]
        settings.SITE_URL = "https://cell.example.org"
        for url in ("https://crisis.example.com/admin/", "https://CELL.example.org./x"):
            with pytest.raises(InvalidInput, match="its own pages"):
                capture.check_url(url)

    @pytest.mark.parametrize(
        "url",
        ["file:///etc/passwd", "ftp://example.com/", "javascript:alert(1)", "example.com", ""],
    )
    def test_only_http_and_https(self, url):
        with pytest.raises(InvalidInput):
            capture.check_url(url)

    def test_refusal_through_the_api_is_a_400_and_nothing_is_queued(self, api, incident, drafter):
        response = api.as_user(drafter).post(
            f"/api/incidents/{incident.pk}/evidence/capture/",
            {"url": "http://169.254.169.254/"},
            format="json",
        )
        assert "private or local network" in assert_error(response, 400)
        assert not CaptureJob.objects.exists()

    def test_observers_cannot_ask_for_captures(self, api, incident, observer, loopback_allowed):
        response = api.as_user(observer).post(
            f"/api/incidents/{incident.pk}/evidence/capture/",
            {"url": "http://127.0.0.1:9/"},
            format="json",
        )
        assert_error(response, 403)
        assert not CaptureJob.objects.exists()

    @pytest.mark.parametrize("url", ["http://169.254.169.254/", "https://nonexistent.invalid/"])
    def test_an_observer_learns_nothing_of_an_address(self, api, incident, observer, url):
        """Refused for who they are before the address is looked at (or looked up): a
        read-only member cannot probe which names resolve or which are private."""
        response = api.as_user(observer).post(
            f"/api/incidents/{incident.pk}/evidence/capture/", {"url": url}, format="json"
        )
        assert "Only members of the cell who can write" in assert_error(response, 403)
