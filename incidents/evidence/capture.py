"""Server-side capture of a URL in headless Chromium: a full-page PNG screenshot and an
MHTML archive of the page, with the final URL, HTTP status and title.

The server must not become a way into the network it runs on (SSRF): only http(s) URLs to
public addresses are opened, never the app's own host; every request the page makes,
redirects included, is checked the same way. Loopback is allowed only when
EVIDENCE_CAPTURE_ALLOW_LOOPBACK says so (the test suite's local pages).
"""

import base64
import contextlib
import ipaddress
import queue
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents import addresses
from incidents.errors import InvalidInput

VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 30000  # a page that scrolls forever still ends somewhere


class CaptureFailed(Exception):
    """The page could not be captured; the message is shown to the committee."""


@dataclass(frozen=True)
class CapturedPage:
    final_url: str
    http_status: int | None
    title: str
    screenshot: bytes  # PNG
    archive: bytes  # MHTML


def own_hosts() -> set[str]:
    hosts = {h.lower().lstrip(".") for h in settings.ALLOWED_HOSTS if h and h != "*"}
    site_host = urlsplit(settings.SITE_URL).hostname
    if site_host:
        hosts.add(site_host.lower())
    return hosts


def check_url(url: str) -> str:
    """The URL, normalized, if the server may open it; InvalidInput otherwise."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput(_("This is not a valid web address.")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(_("Only http:// and https:// addresses can be captured."))
    if len(url) > 2000:
        raise InvalidInput(_("This address is too long (2,000 characters at most)."))
    host = parts.hostname.lower().rstrip(".")
    if host in own_hosts():
        raise InvalidInput(_("Crisis Cell does not capture its own pages."))
    _check_addresses(host, port or (443 if parts.scheme == "https" else 80))
    return url


def _check_addresses(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise InvalidInput(
            _("The address %(host)s could not be found (DNS).") % {"host": host}
        ) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address_allowed(address):
            raise InvalidInput(
                _("%(host)s points to a private or local network address: it cannot be captured.")
                % {"host": host}
            )


def address_allowed(address) -> bool:
    return addresses.address_allowed(
        address, allow_loopback=settings.EVIDENCE_CAPTURE_ALLOW_LOOPBACK
    )


def capture_page(url: str, *, on_stage: Callable[[str], None]) -> CapturedPage:
    """Open the page and capture it. Playwright runs in a thread of its own, so this works
    whether or not the caller's thread runs an event loop (ASGI, a test driving a browser);
    `on_stage` is called back in the caller's thread, where the ORM may be used."""
    stages: queue.Queue = queue.Queue()
    outcome: dict = {}

    def run():
        try:
            outcome["page"] = _capture(url, stages.put)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            stages.put(None)

    worker = threading.Thread(target=run, name="evidence-capture", daemon=True)
    worker.start()
    while (stage := stages.get()) is not None:
        on_stage(stage)
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["page"]


def _capture(url: str, on_stage) -> CapturedPage:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    timeout_ms = settings.EVIDENCE_CAPTURE_TIMEOUT * 1000
    checked: dict[str, bool] = {}
    blocked: list[str] = []

    def allowed(url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in checked:
            try:
                check_url(url)
                checked[key] = True
            except InvalidInput:
                checked[key] = False
        return checked[key]

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=settings.EVIDENCE_CAPTURE_CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    # Keep every frame in the page's process, where the request check
                    # below sees its requests.
                    "--disable-site-isolation-trials",
                    "--disable-features=IsolateOrigins,site-per-process",
                    # WebRTC opens UDP sockets the request check never sees: no direct UDP.
                    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
                    "--force-webrtc-ip-handling-policy",
                ],
            )
            try:
                context = browser.new_context(
                    viewport=VIEWPORT, accept_downloads=False, service_workers="block"
                )
                # Second layer behind the policy added to every document (with_policy): the
                # page's scripts find no WebSocket, WebTransport, WebRTC or worker.
                context.add_init_script(NO_SIDE_CHANNELS_SCRIPT)
                page = context.new_page()
                # Every request, redirect hops included (which Playwright's page.route does
                # not see), is paused until checked.
                session = context.new_cdp_session(page)

                def on_request(event):
                    if "responseStatusCode" in event or "responseErrorReason" in event:
                        with_policy(session, event)
                        return
                    if allowed(event["request"]["url"]):
                        session.send("Fetch.continueRequest", {"requestId": event["requestId"]})
                    else:
                        blocked.append(event["request"]["url"])
                        session.send(
                            "Fetch.failRequest",
                            {"requestId": event["requestId"], "errorReason": "BlockedByClient"},
                        )

                session.on("Fetch.requestPaused", on_request)
                session.send(
                    "Fetch.enable",
                    {
                        "patterns": [
                            {"urlPattern": "*", "requestStage": "Request"},
                            {
                                "urlPattern": "*",
                                "resourceType": "Document",
                                "requestStage": "Response",
                            },
                        ]
                    },
                )
                try:
                    response = page.goto(url, wait_until="load", timeout=timeout_ms)
                except PlaywrightTimeout:
                    seconds = settings.EVIDENCE_CAPTURE_TIMEOUT
                    raise CaptureFailed(
                        ngettext(
                            "The page did not load within %(n)s second.",
                            "The page did not load within %(n)s seconds.",
                            seconds,
                        )
                        % {"n": seconds}
                    ) from None
                except PlaywrightError as exc:
                    if blocked:
                        raise CaptureFailed(NETWORK_REASONS["ERR_BLOCKED_BY_CLIENT"]()) from None
                    raise CaptureFailed(_network_reason(str(exc))) from None
                # Let late content settle, but a chatty page must not stall us.
                with contextlib.suppress(PlaywrightTimeout):
                    page.wait_for_load_state("networkidle", timeout=3000)
                on_stage("screenshot")
                height = page.evaluate("document.documentElement.scrollHeight")
                full = height <= MAX_SCREENSHOT_HEIGHT
                screenshot = page.screenshot(
                    full_page=full,
                    type="png",
                    clip=None if full else {"x": 0, "y": 0, "width": 1280, "height": 30000},
                    timeout=timeout_ms,
                )
                on_stage("archiving")
                archive = session.send("Page.captureSnapshot", {"format": "mhtml"})["data"]
                return CapturedPage(
                    final_url=page.url[:2000],
                    http_status=response.status if response else None,
                    title=page.title()[:500],
                    screenshot=screenshot,
                    archive=archive.encode(),
                )
            finally:
                browser.close()
    except CaptureFailed:
        raise
    except PlaywrightError as exc:
        raise CaptureFailed(
            _("The capture browser failed: %(reason)s") % {"reason": str(exc).splitlines()[0]}
        ) from None


# WebSocket handshakes (and WebTransport, and workers' own requests) never reach the Fetch
# interception: a page on an allowed host could otherwise open ws://<the app or the LAN>/.
# The browser refuses them itself: every document the capture loads gets this policy
# (added to the page's own, so the stricter of both applies, in its frames and in the blob
# workers it would start). connect-src without ws:/wss: (CSP3: "http:" never matches
# ws:), no workers at all. Chromium's Network.setBlockedURLs does not stop WebSockets
# (checked with Chromium 156), hence a policy. EventSource and beacons are ordinary
# requests, which the interception checks.
SIDE_CHANNELS_POLICY = {
    "name": "Content-Security-Policy",
    "value": "connect-src http: https: data: blob:; worker-src 'none'",
}
NO_SIDE_CHANNELS_SCRIPT = """(() => {
  for (const name of ["WebSocket", "WebTransport", "RTCPeerConnection",
                      "webkitRTCPeerConnection", "RTCDataChannel", "Worker", "SharedWorker"]) {
    try { delete globalThis[name]; } catch (e) {}
    try {
      Object.defineProperty(globalThis, name, { value: undefined, configurable: false });
    } catch (e) {}
  }
})();"""


# Headers that describe the body as it came over the wire; the body handed back is decoded.
WIRE_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


def with_policy(session, event) -> None:
    """A document's response, paused: hand it back with SIDE_CHANNELS_POLICY added (the
    policy only takes effect on a fulfilled response, not on continueResponse's headers).
    Redirects and failed responses go on untouched: they render nothing."""
    status = event.get("responseStatusCode")
    if status is None or 300 <= status < 400:
        session.send("Fetch.continueRequest", {"requestId": event["requestId"]})
        return
    body = session.send("Fetch.getResponseBody", {"requestId": event["requestId"]})
    data = body["body"]
    if not body.get("base64Encoded"):
        data = base64.b64encode(data.encode()).decode()
    headers = [
        header
        for header in event.get("responseHeaders", [])
        if header["name"].lower() not in WIRE_HEADERS
    ]
    session.send(
        "Fetch.fulfillRequest",
        {
            "requestId": event["requestId"],
            "responseCode": status,
            "responsePhrase": event.get("responseStatusText") or _phrase(status),
            "responseHeaders": [*headers, SIDE_CHANNELS_POLICY],
            "body": data,
        },
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


NETWORK_REASONS = {
    "ERR_NAME_NOT_RESOLVED": lambda: _("The address could not be found (DNS)."),
    "ERR_CONNECTION_REFUSED": lambda: _("The server refused the connection."),
    "ERR_CONNECTION_RESET": lambda: _("The server closed the connection."),
    "ERR_CONNECTION_TIMED_OUT": lambda: _("The server did not answer in time."),
    "ERR_TIMED_OUT": lambda: _("The server did not answer in time."),
    "ERR_ADDRESS_UNREACHABLE": lambda: _("The server is unreachable."),
    "ERR_INTERNET_DISCONNECTED": lambda: _("The server has no Internet access."),
    "ERR_BLOCKED_BY_CLIENT": lambda: _(
        "The page redirected to a private, local or forbidden address."
    ),
    "ERR_CERT": lambda: _("The site's security certificate is not valid."),
    "ERR_SSL": lambda: _("The secure connection to the site failed."),
    "ERR_UNSAFE_PORT": lambda: _("The address uses a port that browsers refuse to open."),
    "ERR_TOO_MANY_REDIRECTS": lambda: _("The page redirects too many times."),
    "ERR_EMPTY_RESPONSE": lambda: _("The server sent an empty answer."),
    "ERR_CONNECTION_CLOSED": lambda: _("The server closed the connection."),
    "ERR_NAME_RESOLUTION_FAILED": lambda: _("The address could not be found (DNS)."),
    "ERR_INVALID_URL": lambda: _("This is not a valid web address."),
    "ERR_ABORTED": lambda: _("The page stopped loading (it may be a file to download)."),
    "ERR_HTTP2_PROTOCOL_ERROR": lambda: _("The server answered in a way the browser refused."),
    "ERR_INVALID_RESPONSE": lambda: _("The server answered in a way the browser refused."),
}
_NETWORK_CODE = re.compile(r"\b(?:net::)?(ERR_[A-Z0-9_]+)")


def _network_reason(message: str) -> str:
    for code, reason in NETWORK_REASONS.items():
        if code in message:
            return reason()
    return _("The page could not be opened: %(reason)s") % {"reason": message.splitlines()[0]}


# Reasons with a value in them, as stored (in English: evidence_capture_run stores them
# so), matched to be said again in the reader's language.
_STORED_WITH_VALUES = (
    (re.compile(r"^The address (?P<host>.+) could not be found \(DNS\)\.$"),
     lambda host: _("The address %(host)s could not be found (DNS).") % {"host": host}),
    (re.compile(r"^(?P<host>.+) points to a private or local network address: it cannot be "
                r"captured\.$"),
     lambda host: _("%(host)s points to a private or local network address: it cannot be "
                    "captured.") % {"host": host}),
    (re.compile(r"^The page did not load within (?P<n>\d+) seconds?\.$"),
     lambda n: ngettext("The page did not load within %(n)s second.",
                        "The page did not load within %(n)s seconds.", int(n)) % {"n": n}),
)  # fmt: skip


def failure_reason(stored: str) -> str:
    """A failed capture's stored reason (CaptureJob.error, up to 500 characters) as a plain
    sentence in the active language: a browser's network error (`net::ERR_…`, stored raw
    by older versions) becomes its sentence, or "could not be opened (ERR_…)" when unknown;
    a reason stored in English is translated; anything else (an older row stored in
    another language) is shown as stored."""
    if not stored:
        return ""
    found = _NETWORK_CODE.search(stored)
    if found:
        code = found.group(1)
        for prefix, reason in NETWORK_REASONS.items():
            if code.startswith(prefix):
                return reason()
        return _("The page could not be opened (browser error %(code)s).") % {"code": code}
    for pattern, say in _STORED_WITH_VALUES:
        match = pattern.match(stored)
        if match:
            return say(**match.groupdict())
    return _(stored)  # a fixed sentence's msgid: translated when the catalogue has it
