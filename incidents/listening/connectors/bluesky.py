"""Bluesky through Jetstream: the public WebSocket that streams every post as JSON, with
no account (https://github.com/bluesky-social/jetstream, the v1 `/subscribe` wire).

We subscribe to `wantedCollections=app.bsky.feed.post` and keep, locally, the new posts
(commit events with operation "create") that match an active watch. A commit frame:

    {"did": "did:plc:...", "time_us": 1725911162329308, "kind": "commit",
     "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "3l3q...",
                "record": {"text": "...", "createdAt": "2024-09-09T19:46:02.102Z",
                           "langs": ["fr"], "reply": {"parent": {"uri": "at://..."}}}}}

Identity frames (`kind: "identity"`) may carry the account's handle: it is remembered (a
bounded table in memory) and used as the author's handle; otherwise the author is stored
as its DID.

A reply's `in_reply_to` is its parent's AT URI; `reply_to_brand` says whether the parent's
author (the DID in that URI) is a brand account of an active watch: the watch lists that
DID among its handles (`did:plc:...`), or the stream announced, in an identity frame, that
DID with a handle the watch lists. Handles are never resolved over the network, and
identity frames are rare (a handle change, a migration): list the brand's DID in the
watch for its replies to be recognised from the start.

`time_us` is the cursor: saved in `CollectorState` once the posts before it are stored,
and on reconnect we ask for `cursor=<saved - REWIND_US>`, since Jetstream's `time_us` is
not strictly increasing across its shards; what comes twice is dropped (same author and
record key, in memory, then the unique constraint). A frame dated ahead of our clock (more
than FUTURE_SLACK) is garbage: its `time_us` would carry the cursor past every frame to
come, and Jetstream answers a cursor in the future with the live stream, skipping the gap
of every later reconnect. A cursor saved in the future (a clock set back since, or saved
before that check existed) is taken back to now when the collector starts, so that the
frames to come move it again.

A server that keeps the socket open but sends nothing for SILENCE_SECONDS (Jetstream's post
stream never pauses that long: a stalled upstream, a proxy holding a dead connection) is
left: the collector records it and reconnects from its cursor, as after a drop.

The collector says it is alive (liveness.py): its row is written when it starts, every
CURSOR_SECONDS while connected (the cursor), after each failed connection (the error), and
every NO_WATCH_RECHECK_SECONDS while no watch is active. A connection that opens clears
the error recorded before it (a restarted collector's, or the last reconnection's): the
error is no longer what happens, though the success is said only once the posts read are
stored (the cursor saved).

A post is dated by its `createdAt`, which its author's app writes: when it is not a time
(with its zone), or later than `time_us` (a wrong clock), the time Jetstream saw it is used,
as Bluesky's own app does, rather than losing the post.
"""

import json
import logging
import time
from collections import OrderedDict
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import DatabaseError
from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException
from websockets.sync.client import connect

from ..choices import Source
from ..ingest import FUTURE_SLACK, MentionData, RowError, language_code, parse_time
from .common import Collector, between_passes, load_state, matching, one_line, save_state, store
from .liveness import BLUESKY_STATE

log = logging.getLogger("incidents.listening.connectors.bluesky")

STATE_NAME = BLUESKY_STATE
COLLECTION = "app.bsky.feed.post"
# Resume this far before the saved cursor: events of the last seconds may have arrived out
# of order (several upstream shards); the overlap is deduplicated.
REWIND_US = 5_000_000
# Store a batch when it holds this many posts or is this old, and save the cursor at least
# this often when nothing matches (so a restart does not replay hours of stream).
BATCH = 200
FLUSH_SECONDS = 2.0
CURSOR_SECONDS = 10.0
# A frame bigger than this is not a post (Jetstream's largest records are a few kB): it is
# skipped as garbage. The socket reads frames up to MAX_READ_BYTES, so that such a frame is
# skipped rather than closing the connection: it would come again after each reconnect
# (the cursor is before it) and the stream would never get past it.
MAX_FRAME_BYTES = 1_000_000
MAX_READ_BYTES = 16 * 2**20
# Seconds without a frame after which the connection is taken as stalled and opened again.
SILENCE_SECONDS = 90.0
# Without an active watch the stream is not read; the watches are looked at again this often.
NO_WATCH_RECHECK_SECONDS = 30
# Record keys remembered to drop repeats across a reconnect, and handles learned.
SEEN_KEYS = 100_000
HANDLES = 100_000
BRAND_DIDS = 1_000


class StreamSilent(TimeoutError):
    """The server sent no frame for `silence` seconds on an open connection."""


class _Bounded(OrderedDict):
    def __init__(self, limit):
        super().__init__()
        self.limit = limit

    def put(self, key, value=True):
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.limit:
            self.popitem(last=False)


def _sane_cursor(cursor) -> int | None:
    """A saved cursor (time_us), taken back to now when it lies in the future (logged):
    from there, frames move it on again; kept as it was, no frame ever would."""
    if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor <= 0:
        return None
    now_us = int(time.time() * 1e6)
    if cursor > now_us + FUTURE_SLACK.total_seconds() * 1e6:
        log.warning("Jetstream: saved cursor %s is in the future; resuming from now", cursor)
        return now_us
    return cursor


def subscribe_url(base: str, cursor: int | None) -> str:
    """The Jetstream URL asking for posts, from `cursor` (time_us) when given."""
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("wantedCollections", "cursor")]
    query.append(("wantedCollections", COLLECTION))
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _language(langs) -> str:
    # Only when the author declared exactly one; "pt-BR" -> "pt" (ingest.language_code; not
    # a code: none). Else detected at ingest.
    if isinstance(langs, list) and len(langs) == 1 and isinstance(langs[0], str):
        return language_code(langs[0]) or ""
    return ""


def _authority(uri: str) -> str:
    """The account part of an AT URI: "at://did:plc:abc/app.bsky.feed.post/3k" -> "did:plc:abc"."""
    return uri[len("at://") :].split("/", 1)[0] if uri.startswith("at://") else ""


def post_row(event: dict, handles=None, is_brand=None) -> dict | None:
    """A commit frame creating a post -> a dict in `ingest.parse`'s shape; None for any
    other frame (likes, deletes, identity...). `handles`: {DID: handle} known; `is_brand`:
    DID -> whether it is a brand account (for `reply_to_brand`). Raises ValueError on a
    malformed post frame."""
    commit = event.get("commit")
    if event.get("kind") != "commit" or not isinstance(commit, dict):
        return None
    if commit.get("operation") != "create" or commit.get("collection") != COLLECTION:
        return None
    did, rkey, record = event.get("did"), commit.get("rkey"), commit.get("record")
    if not (isinstance(did, str) and did.startswith("did:") and isinstance(rkey, str) and rkey):
        raise ValueError("commit without a DID or record key")
    if not isinstance(record, dict):
        raise ValueError("commit without a record")
    seen = datetime.fromtimestamp(int(event["time_us"]) / 1e6, UTC)
    try:
        posted = min(parse_time(record.get("createdAt"), future=True), seen)
    except RowError:  # absent, not a time, no zone, out of range: when Jetstream saw it
        posted = seen
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else {}
    parent_uri = parent.get("uri") if isinstance(parent.get("uri"), str) else ""
    return {
        "platform": "bluesky",
        "id": f"at://{did}/{COLLECTION}/{rkey}",
        "url": f"https://bsky.app/profile/{did}/post/{rkey}",
        "text": record.get("text"),
        "posted_at": posted.isoformat(),
        "author": {
            "handle": (handles or {}).get(did, did),
            "url": f"https://bsky.app/profile/{did}",
        },
        "language": _language(record.get("langs")),
        "in_reply_to": parent_uri,
        "reply_to_brand": bool(parent_uri and is_brand and is_brand(_authority(parent_uri))),
    }


class JetstreamCollector(Collector):
    """Reads Jetstream until stopped, reconnecting with backoff. `idle_exit` (seconds with
    no frame) and `deadline` (time.monotonic()) bound a run (`--once`, tests); `silence`
    (seconds with no frame) reconnects a stalled connection; the other options (stop,
    watches, backoff) are `Collector`'s."""

    label = "Jetstream"
    backoff_base, backoff_cap = 1.0, 120.0

    def __init__(
        self,
        url: str | None = None,
        *,
        idle_exit: float | None = None,
        deadline: float | None = None,
        open_timeout: float = 10.0,
        silence: float = SILENCE_SECONDS,
        **options,
    ):
        super().__init__(**options)
        self.url = url or settings.LISTENING_JETSTREAM_URL
        self.idle_exit, self.deadline, self.open_timeout = idle_exit, deadline, open_timeout
        self.silence = silence
        self.cursor: int | None = _sane_cursor(load_state(STATE_NAME).get("cursor"))
        self.saved_cursor = self.cursor
        self.seen = _Bounded(SEEN_KEYS)
        self.handles = _Bounded(HANDLES)
        # The DIDs an identity frame named with a brand's handle, apart from `handles` so
        # that the stream's other identities never push them out.
        self.brand_dids = _Bounded(BRAND_DIDS)
        self.pending: list[MentionData] = []
        self.pending_since = None
        self.cursor_saved_at = time.monotonic()
        self.garbage = 0

    def sources(self) -> list[str]:
        return [STATE_NAME]

    # The run loop -----------------------------------------------------------------------

    def run(self) -> None:
        self.heartbeat(force=True)
        while not self._should_end():
            self.watches.refresh()
            if not self.watches.count:
                # No active watch: nothing to keep, so the stream is not read at all.
                if self.idle_exit is not None:
                    log.info("Jetstream: no active watch, nothing to read.")
                    return
                self.stop.wait(self._until_deadline(NO_WATCH_RECHECK_SECONDS))
                self.heartbeat(force=True)
                continue
            url = subscribe_url(self.url, self.cursor - REWIND_US if self.cursor else None)
            try:
                with connect(
                    url, open_timeout=self.open_timeout, max_size=MAX_READ_BYTES
                ) as socket:
                    log.info("Jetstream: connected (%s)", url)
                    save_state(STATE_NAME, error="")  # connected: the last error is past
                    if self._read(socket):
                        return
            except (OSError, TimeoutError, InvalidURI, InvalidHandshake, WebSocketException) as e:
                try:
                    self._flush(force_cursor=True)
                    problem = one_line(f"Jetstream: {type(e).__name__}: {e}")
                    log.warning("%s; reconnecting", problem)
                    save_state(STATE_NAME, self._state(), error=problem)
                except DatabaseError as error:
                    self._database_failed(error)
            except DatabaseError as error:
                self._database_failed(error)
            except Exception:
                # A fault nobody foresaw must not end the process (under honcho, the whole
                # stack): logged whole, then read again from the saved cursor after a wait.
                log.exception("Jetstream: unexpected error; resuming from the saved cursor")
                self._forget_unsaved()
            if self._should_end():
                break
            self.stop.wait(self._until_deadline(self.backoff.next()))
        self._flush(force_cursor=True)

    def _database_failed(self, error) -> None:
        log.error("Jetstream: database error (%s); resuming from the saved cursor", one_line(error))
        self._forget_unsaved()

    def _forget_unsaved(self) -> None:
        """What was read since the last saved cursor is read again (cursor, queue and the
        keys seen go back to what is stored), never lost."""
        self.pending, self.cursor = [], self.saved_cursor
        self.seen.clear()
        between_passes()

    def _until_deadline(self, seconds: float) -> float:
        if self.deadline is None:
            return seconds
        return min(seconds, self.deadline - time.monotonic())

    def _should_end(self) -> bool:
        return self.stop.is_set() or (
            self.deadline is not None and time.monotonic() >= self.deadline
        )

    def _read(self, socket) -> bool:
        """Frames until the socket drops (exception) or the run ends (True)."""
        last_frame = time.monotonic()
        while True:
            if self._should_end():
                self._flush(force_cursor=True)
                return True
            try:
                raw = socket.recv(timeout=0.5)
            except TimeoutError:
                quiet = time.monotonic() - last_frame
                if self.idle_exit is not None and quiet >= self.idle_exit:
                    self._flush(force_cursor=True)
                    return True
                if quiet >= self.silence:
                    raise StreamSilent(f"no frame for {quiet:.0f} s") from None
                self._flush()
                continue
            last_frame = time.monotonic()
            self.backoff.reset()
            self.handle(raw)
            self._flush()

    # Frames -----------------------------------------------------------------------------

    def handle(self, raw) -> None:
        """One frame: garbage is logged and skipped, a matching new post is queued."""
        try:
            if len(raw) > MAX_FRAME_BYTES:
                raise ValueError(f"{len(raw)} bytes")
            event = json.loads(raw)
            if not isinstance(event, dict):
                raise ValueError("not a JSON object")
            time_us = event.get("time_us")
            if not isinstance(time_us, int) or isinstance(time_us, bool) or time_us <= 0:
                raise ValueError("no time_us")
            if time_us > (time.time() + FUTURE_SLACK.total_seconds()) * 1e6:
                raise ValueError("time_us in the future")
            if event.get("kind") == "identity":
                self._identity(event)
            row = post_row(event, self.handles, self._is_brand)
        except (ValueError, TypeError, KeyError, RecursionError, OverflowError) as error:
            self.garbage += 1
            log.warning("Jetstream: frame skipped (%s): %r", one_line(error), str(raw[:200]))
            return
        # The cursor moves past every frame, matching or not; it is saved only once the
        # posts queued before it are stored (_flush).
        self.cursor = max(self.cursor or 0, time_us)
        if row is None:
            return
        key = row["id"]
        if key in self.seen:
            return
        self.seen.put(key)
        data = matching(row, self.watches.refresh(), source=Source.BLUESKY)
        if data is not None:
            if not self.pending:
                self.pending_since = time.monotonic()
            self.pending.append(data)

    def _identity(self, event: dict) -> None:
        identity = event.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("handle"), str):
            did, handle = event["did"], identity["handle"][:200]
            self.handles.put(did, handle)
            if self.watches.is_brand(handle):
                self.brand_dids.put(did, handle)
            else:  # the handle moved away from this DID
                self.brand_dids.pop(did, None)

    def _is_brand(self, did: str) -> bool:
        """Whether the account `did` is a brand's: a watch lists the DID, or the handle the
        stream announced for it (still a watch's, checked against the current watches)."""
        return any(
            self.watches.is_brand(name)
            for name in (did, self.brand_dids.get(did), self.handles.get(did))
        )

    def _state(self) -> dict:
        return {"cursor": self.cursor} if self.cursor else {}

    def _flush(self, *, force_cursor: bool = False) -> None:
        now = time.monotonic()
        due = self.pending and (
            len(self.pending) >= BATCH or force_cursor or now - self.pending_since >= FLUSH_SECONDS
        )
        if due:
            self.stored += store(self.pending, source=Source.BLUESKY)
            self.pending = []
        if (
            not self.pending
            and self.cursor
            and (due or force_cursor or now - self.cursor_saved_at >= CURSOR_SECONDS)
        ):
            save_state(STATE_NAME, self._state())
            self.saved_cursor, self.cursor_saved_at = self.cursor, now
            between_passes()
