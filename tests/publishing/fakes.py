"""Local fake Mastodon and Bluesky servers on 127.0.0.1 for the publishing tests: they
answer the endpoints the senders use, record what was posted and count the posts. Each
can refuse the next request (a status and headers), or accept a post and then keep the
client waiting past its timeout. Nothing leaves the machine."""

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from tests.helpers import QuietHTTPServer

MASTODON_TOKEN = "MASTO-T0K3N-SECRET-0123456789"
BLUESKY_PASSWORD = "abcd-SECRET-efgh-ijkl"
BLUESKY_HANDLE = "brand.example.com"
BLUESKY_DID = "did:plc:brandfake000000000000000"


class _Server:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.refusals: list[tuple[int, dict, dict]] = []  # (status, headers, json) for posts
        self.hold_after_accept = 0.0  # seconds: accept the next post, answer that late
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._dispatch(self, "GET")

            def do_POST(self):
                fake._dispatch(self, "POST")

        self.httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def refuse_next(self, status: int, body: dict | None = None, **headers):
        self.refusals.append((status, headers, body or {"error": f"refused {status}"}))

    def _dispatch(self, handler, method):
        parsed = urlparse(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        content_type = handler.headers.get("Content-Type") or ""
        if "json" in content_type:
            body = json.loads(raw or b"{}")
        else:
            body = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        request = {
            "method": method,
            "path": parsed.path,
            "query": {k: v[-1] for k, v in parse_qs(parsed.query).items()},
            "headers": dict(handler.headers.items()),
            "body": body,
        }
        with self.lock:
            self.requests.append(request)
        status, headers, answer, hold = self.answer(request)
        if hold:
            time.sleep(hold)
        data = json.dumps(answer).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                handler.send_header(name.replace("_", "-"), str(value))
            handler.end_headers()
            handler.wfile.write(data)
        except ConnectionError:
            pass  # the client gave up waiting (the timeout tests)

    def _refusal(self):
        with self.lock:
            return self.refusals.pop(0) if self.refusals else None

    def _hold(self) -> float:
        with self.lock:
            hold, self.hold_after_accept = self.hold_after_accept, 0.0
        return hold


class FakeMastodon(_Server):
    """/api/v1/instance, /api/v1/statuses (Idempotency-Key: the same key answers the same
    status), /api/v2/search (resolves the URLs in `remote`)."""

    def __init__(self):
        self.statuses: list[dict] = []
        self.by_key: dict[str, dict] = {}
        self.remote: dict[str, str] = {}  # a post's URL or URI -> its id on this instance
        super().__init__()

    @property
    def posts(self) -> int:
        return len(self.statuses)

    def answer(self, request):
        path, headers = request["path"], request["headers"]
        if path == "/api/v1/instance":
            return 200, {}, {"uri": "127.0.0.1", "version": "4.3.0", "title": "Fake"}, 0
        if headers.get("Authorization") != f"Bearer {MASTODON_TOKEN}":
            return 401, {}, {"error": "The access token is invalid"}, 0
        if path == "/api/v2/search":
            found = self.remote.get(request["query"].get("q", ""))
            statuses = [self._status_for(found)] if found else []
            return 200, {}, {"accounts": [], "statuses": statuses, "hashtags": []}, 0
        if path == "/api/v1/statuses" and request["method"] == "POST":
            refusal = self._refusal()
            if refusal:
                status, extra, body = refusal
                return status, extra, body, 0
            key = headers.get("Idempotency-Key", "")
            with self.lock:
                if key and key in self.by_key:
                    return 200, {}, self.by_key[key], 0
                text = request["body"].get("status", "")
                if len(text) > 500:
                    error = "Validation failed: Text character limit of 500 exceeded"
                    return 422, {}, {"error": error}, 0
                number = str(110000000000000000 + len(self.statuses) + 1)
                status = {
                    **self._status_for(number),
                    "content": f"<p>{text}</p>",
                    "text": text,
                    "in_reply_to_id": request["body"].get("in_reply_to_id"),
                    "language": request["body"].get("language"),
                }
                self.statuses.append(status)
                if key:
                    self.by_key[key] = status
            return 200, {}, status, self._hold()
        return 404, {}, {"error": "Record not found"}, 0

    def _status_for(self, number: str) -> dict:
        return {
            "id": number,
            "uri": f"{self.url}/users/brand/statuses/{number}",
            "url": f"{self.url}/@brand/{number}",
            "created_at": "2026-01-01T10:00:00.000Z",
            "visibility": "public",
            "sensitive": False,
            "spoiler_text": "",
            "content": "",
            "account": {"id": "1", "username": "brand", "acct": "brand"},
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "reblogs_count": 0,
            "favourites_count": 0,
            "replies_count": 0,
            "in_reply_to_id": None,
        }


def _jwt(did: str) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    now = int(time.time())
    header = part({"alg": "ES256K", "typ": "at+jwt"})
    payload = part({"scope": "com.atproto.access", "sub": did, "iat": now, "exp": now + 7200})
    return f"{header}.{payload}.c2ln"


class FakeBluesky(_Server):
    """createSession, createRecord (a record key is used once), getRecord. `records` holds
    other people's posts to answer as well as the brand's."""

    def __init__(self):
        self.records: dict[tuple[str, str], dict] = {}  # (did, rkey) -> {"uri","cid","value"}
        self.created: list[dict] = []
        self.sessions = 0
        self.token = _jwt(BLUESKY_DID)
        self.handles = {BLUESKY_HANDLE: BLUESKY_DID}
        super().__init__()

    @property
    def posts(self) -> int:
        return len(self.created)

    def add_post(self, did: str, rkey: str, text: str, reply: dict | None = None) -> dict:
        value = {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-01-01T09:00:00Z"}
        if reply:
            value["reply"] = reply
        record = {
            "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
            "cid": "bafyrei" + hashlib.sha256(f"{did}{rkey}".encode()).hexdigest()[:40],
            "value": value,
        }
        self.records[(did, rkey)] = record
        return record

    def answer(self, request):
        path = request["path"].removeprefix("/xrpc/")
        if path == "com.atproto.server.createSession":
            body = request["body"]
            if body.get("identifier") != BLUESKY_HANDLE or body.get("password") != BLUESKY_PASSWORD:
                error = {
                    "error": "AuthenticationRequired",
                    "message": "Invalid identifier or password",
                }
                return 401, {}, error, 0
            self.sessions += 1
            session = {
                "accessJwt": self.token,
                "refreshJwt": self.token,
                "handle": BLUESKY_HANDLE,
                "did": BLUESKY_DID,
                "active": True,
            }
            return 200, {}, session, 0
        if request["headers"].get("Authorization") != f"Bearer {self.token}":
            return 401, {}, {"error": "InvalidToken", "message": "Bad token"}, 0
        if path == "com.atproto.repo.getRecord":
            query = request["query"]
            did = self.handles.get(query.get("repo"), query.get("repo"))
            record = self.records.get((did, query.get("rkey")))
            if record is None:
                return 400, {}, {"error": "RecordNotFound", "message": "Could not locate record"}, 0
            return 200, {}, record, 0
        if path == "com.atproto.repo.createRecord":
            refusal = self._refusal()
            if refusal:
                status, extra, body = refusal
                return status, extra, body, 0
            body = request["body"]
            with self.lock:
                if (body["repo"], body["rkey"]) in self.records:
                    error = {"error": "InvalidRequest", "message": "Record already exists"}
                    return 400, {}, error, 0
                text = body["record"]["text"]
                if len(text) > 300:
                    error = {
                        "error": "InvalidRequest",
                        "message": "Invalid app.bsky.feed.post record: Record/text must not be "
                        "longer than 300 graphemes",
                    }
                    return 400, {}, error, 0
                record = {
                    "uri": f"at://{body['repo']}/{body['collection']}/{body['rkey']}",
                    "cid": "bafyrei" + hashlib.sha256(json.dumps(body).encode()).hexdigest()[:40],
                    "value": body["record"],
                }
                self.records[(body["repo"], body["rkey"])] = record
                self.created.append(body)
            return 200, {}, {"uri": record["uri"], "cid": record["cid"]}, self._hold()
        return 404, {}, {"error": "MethodNotImplemented"}, 0
