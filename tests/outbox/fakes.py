"""Local fake servers on 127.0.0.1 for the outbox tests (and bench/outbox.py): an SMTP
server (aiosmtpd) that can accept, answer 4xx or 5xx, hang, or be down; and a webhook for
Apprise's `json://` URLs that answers 200, 500 or hangs. Nothing leaves the machine."""

import asyncio
import email
import json
import logging
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler

from aiosmtpd.controller import Controller

from tests.helpers import QuietHTTPServer

HANG_LIMIT = 30  # seconds a hanging server holds a conversation at most
# aiosmtpd logs every command at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, smtp):
        self.smtp = smtp

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.smtp.rcpt_reply()
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.smtp.hanging:
            # Never answers the message (the client's timeout ends it), until released.
            await asyncio.sleep(0)
            deadline = time.monotonic() + HANG_LIMIT
            while self.smtp.hanging and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return "451 4.3.0 too late"
        self.smtp.receive(envelope)
        return "250 Message accepted for delivery"


class FakeSMTP:
    """An SMTP server on 127.0.0.1:`port`.

    - `received`: one dict per accepted message (to, message_id, subject, body), in order;
    - `refuse(*replies)`: the next RCPTs get these replies ("451 4.3.0 try later"), then OK;
    - `refuse_all(reply)`: every RCPT gets it (None: accept again);
    - `hanging = True`: DATA is never answered (the client times out);
    - `down()` / `up()`: stop listening (connections refused) / listen again, same port.
    """

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.received: list[dict] = []
        self.hanging = False
        self._replies: deque = deque()
        self._always = None
        self._lock = threading.Lock()
        self._controller = None

    def rcpt_reply(self):
        with self._lock:
            return self._replies.popleft() if self._replies else self._always

    def refuse(self, *replies):
        with self._lock:
            self._replies.extend(replies)

    def refuse_all(self, reply):
        self._always = reply

    def receive(self, envelope):
        parsed = email.message_from_bytes(envelope.content)
        with self._lock:
            self.received.append(
                {
                    "to": list(envelope.rcpt_tos),
                    "message_id": parsed["Message-ID"],
                    "subject": str(parsed["Subject"] or ""),
                    "from": str(parsed["From"]),
                    "body": parsed.get_payload(decode=True).decode("utf-8", "replace"),
                    "auto_submitted": parsed["Auto-Submitted"],
                    "list_unsubscribe": parsed["List-Unsubscribe"],
                    "list_unsubscribe_post": parsed["List-Unsubscribe-Post"],
                }
            )

    def up(self):
        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
            self._controller.start()
        return self

    def down(self):
        if self._controller is not None:
            self.hanging = False
            self._controller.stop()
            self._controller = None
        return self

    def settings(self, timeout=2) -> dict:
        """The Django settings that point the SMTP backend here."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_TIMEOUT": timeout,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
        }

    def message_ids(self) -> list[str]:
        return [m["message_id"] for m in self.received]


class FakeWebhook:
    """An HTTP endpoint for Apprise `json://127.0.0.1:PORT/hook` URLs. `status` is the
    answer (200, 500...) or "hang" (no answer for HANG_LIMIT s); `received` holds each
    request's JSON body and path."""

    def __init__(self):
        self.status = 200
        self.received: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                hook.received.append({"path": self.path, "json": body})
                if hook.status == "hang":
                    deadline = time.monotonic() + HANG_LIMIT
                    while hook.status == "hang" and time.monotonic() < deadline:
                        time.sleep(0.05)
                    return
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path="hook", **options) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"json://127.0.0.1:{self.port}/{path}" + (f"?{query}" if query else "")

    def close(self):
        self.status = 200
        self.server.shutdown()
        self.server.server_close()
