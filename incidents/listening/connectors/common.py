"""What every collector shares: stopping cleanly on SIGTERM, backing off with jitter, the
active watches' matcher (reloaded now and then), turning a post into `MentionData` that
matches a watch, storing batches, the cursor kept in `CollectorState`, and the loop of the
polling collectors (`PollingCollector`: Mastodon, feeds).

A collector's loop: read posts from the platform, keep those matching an active watch,
store them with `actions.mentions_ingest` (idempotent by platform and id), and only then
move its cursor forward (`save_state`). A crash between the two repeats a few posts, which
the unique constraint absorbs; it never skips one. Meanwhile it says it is alive
(`Collector.heartbeat`, liveness.py), so that the Listening page can tell a quiet source
from a stopped collector.
"""

import contextlib
import logging
import random
import re
import signal
import socket
import threading
import time
from html.parser import HTMLParser

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections

from incidents.text import one_line as single_line

from .. import actions, language
from ..ingest import MentionData, RowError, parse, scored_text
from ..matching import Matcher, clean_terms, fold
from ..models import MAX_EXTERNAL_ID, MAX_HANDLE, MAX_TEXT, MAX_URL, CollectorState, Watch
from .liveness import HEARTBEAT_SECONDS, shortened

log = logging.getLogger("incidents.listening.connectors")

# Seconds between two reloads of the active watches: a watch edited in the app is listened
# to within this delay, without a query per post.
WATCH_RELOAD_SECONDS = 60


class Stop:
    """Set by SIGTERM/SIGINT (or a test); `wait(seconds)` sleeps unless stopped and says
    whether it was stopped."""

    def __init__(self):
        self._event = threading.Event()

    def set(self, *_args):
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(max(0.0, seconds))

    def install(self) -> None:
        """Stop on SIGTERM (process managers) and SIGINT (Ctrl-C): the loop finishes the
        batch in hand, saves its cursor and returns."""
        self._previous = {n: signal.signal(n, self.set) for n in (signal.SIGTERM, signal.SIGINT)}

    def uninstall(self) -> None:
        for number, handler in getattr(self, "_previous", {}).items():
            signal.signal(number, handler)


class SocketDeadline:
    """Cuts the sockets it watches once `seconds` have passed in all (their blocked read
    returns at once, as an error): the whole-answer bound liveness.FETCH_READS_IN asks for. A
    context manager: the timer runs inside it. `watch(sock)` adds a socket; one added after
    the deadline is cut at once. `expired` says whether it was reached."""

    def __init__(self, seconds: float):
        self.sockets, self.expired = [], False
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()

    def watch(self, sock) -> None:
        self.sockets.append(sock)
        if self.expired:
            self._expire()

    def _expire(self) -> None:
        self.expired = True
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Backoff:
    """Exponential delays with jitter: attempt n waits a random time between half and all
    of min(cap, base * 2**n) seconds, so many collectors restarting together spread out."""

    def __init__(self, base: float = 1.0, cap: float = 300.0, rng=random.random):
        self.base, self.cap, self.rng = base, cap, rng
        self.attempts = 0

    def next(self) -> float:
        delay = min(self.cap, self.base * 2**self.attempts)
        self.attempts += 1
        return delay * (0.5 + 0.5 * self.rng())

    def reset(self) -> None:
        self.attempts = 0


class Watches:
    """The active watches' `Matcher`, rebuilt from the database every `reload_seconds`,
    with their hashtags (without `#`) and `handles`: the brand accounts of every active
    watch, folded, without `@` (a handle, a fediverse `user@host`, or a Bluesky DID)."""

    def __init__(self, reload_seconds: float = WATCH_RELOAD_SECONDS, clock=time.monotonic):
        self.reload_seconds, self.clock = reload_seconds, clock
        self._loaded_at = None
        self.matcher = Matcher([])
        self.hashtags: list[str] = []
        self.handles: frozenset[str] = frozenset()
        self.count = 0

    def refresh(self, *, force: bool = False) -> Matcher:
        now = self.clock()
        if force or self._loaded_at is None or now - self._loaded_at >= self.reload_seconds:
            watches = list(Watch.objects.filter(is_active=True))
            self.matcher = Matcher(watches)
            self.hashtags = sorted({tag.lstrip("#") for w in watches for tag in w.hashtags})
            self.handles = frozenset(
                fold(handle) for w in watches for handle in clean_terms(w.handles, prefix="@")
            )
            self.count = len(watches)
            self._loaded_at = now
        return self.matcher

    def is_brand(self, account: str | None) -> bool:
        """Whether `account` (a handle, `user@host` or DID; a leading `@` allowed) is the
        brand account of an active watch, as of the last refresh."""
        return bool(account and self.handles) and fold(account.lstrip("@")) in self.handles


def one_line(text, limit: int = 300) -> str:
    """A remote's error (an HTML page, a multi-line database message) as one log line of at
    most `limit` characters."""
    text = single_line(str(text))
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _long_id(value: str) -> str:
    """An id longer than the model holds, shortened the same way every time it is seen (its
    start and a digest of the whole), so it is still stored once."""
    return shortened(value, MAX_EXTERNAL_ID)


def bounded(row: dict) -> dict:
    """The post with each text within what the model holds, so that a platform's overlong
    post is stored cut rather than lost: the text and the author's names cut, an id too
    long shortened (`_long_id`), a URL too long dropped (a cut one would lead nowhere), NUL
    characters and lone surrogates out of the texts (`_storable`).
    Values of a wrong type are left for `ingest.parse` to refuse."""
    limits = {"id": _ident, "in_reply_to": _ident, "url": _link, "text": _cut(MAX_TEXT)}
    row = {key: limits[key](value) if key in limits else value for key, value in row.items()}
    author = row.get("author")
    if isinstance(author, dict):
        limits = {"handle": _cut(MAX_HANDLE), "name": _cut(MAX_HANDLE), "url": _link}
        row["author"] = {
            key: limits[key](value) if key in limits else value for key, value in author.items()
        }
    return row


def _cut(limit):
    return lambda value: _storable(value)[:limit] if isinstance(value, str) else value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(text: str) -> str:
    """The text without NUL characters, a lone surrogate (half an emoji cut by a client)
    read as U+FFFD: what a database stores, rather than the post refused."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


def _ident(value):
    return _long_id(value) if isinstance(value, str) and len(value) > MAX_EXTERNAL_ID else value


def _link(value):
    return "" if isinstance(value, str) and len(value) > MAX_URL else value


def matching(row: dict, matcher: Matcher, *, source: str) -> MentionData | None:
    """The post (a dict in `ingest.parse`'s shape) as MentionData when it matches an active
    watch; None when it matches none or is malformed (logged: a platform's garbage must not
    stop the collector). Its texts are first cut to the model's limits (`bounded`). The
    language is detected here when the platform gave none, so the watches' language
    filters see what will be stored."""
    row = bounded(row)
    # Most posts of a stream match nothing: a first look at the raw text, with the language
    # the platform gave (an unknown one is never skipped), spares them parsing and
    # language detection.
    text, author = row.get("text"), row.get("author")
    handle = author.get("handle") if isinstance(author, dict) else ""
    if isinstance(text, str) and not matcher.match(
        text=text,
        platform=str(row.get("platform")),
        language=str(row.get("language") or ""),
        author=handle if isinstance(handle, str) else "",
    ):
        return None
    try:
        data = parse(row)
    except RowError as error:
        log.warning("%s: post %r skipped: %s", source, str(row.get("id"))[:120], error)
        return None
    if not data.language:
        data.language = language.detect(scored_text(data.text))
    hits = matcher.match(
        text=data.text, platform=data.platform, language=data.language, author=data.author_handle
    )
    return data if hits else None


class Collector:
    """What every collector holds: its stop flag, the active watches, its backoff (from the
    class's `backoff_base` and `backoff_cap`, in seconds, unless given), how many mentions
    it stored, and its heartbeat (`heartbeat`: at most every `heartbeat_seconds`, read on
    `clock`). `label` names it in the logs."""

    label = ""
    backoff_base, backoff_cap = 5.0, 600.0

    def __init__(
        self,
        *,
        stop: Stop | None = None,
        watches: Watches | None = None,
        backoff: Backoff | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        clock=time.monotonic,
    ):
        self.stop = stop or Stop()
        self.watches = watches or Watches()
        self.backoff = backoff or Backoff(base=self.backoff_base, cap=self.backoff_cap)
        self.stored = 0
        self.heartbeat_seconds, self.clock = heartbeat_seconds, clock
        self._beat_at = None

    def sources(self) -> list[str]:
        """The `CollectorState` names of the sources this collector reads."""
        return []

    def heartbeat(self, *, force: bool = False) -> None:
        """Say that the collector is alive: each source's `updated_at` (one UPDATE each, the
        row created the first time, its success and error as they were), when
        `heartbeat_seconds` have passed since the last time, or `force`. Outside any
        transaction, never between a request and its answer. A database error is logged
        and the other sources still beat (each write is its own): the next heartbeat tries
        that one again."""
        now = self.clock()
        if not force and self._beat_at is not None and now - self._beat_at < self.heartbeat_seconds:
            return
        self._beat_at = now
        failed = False
        for name in self.sources():
            try:
                save_state(name, progress=True)
            except DatabaseError as error:
                failed = True
                log.error(
                    "%s: database error (%s) saying %s is alive",
                    self.label,
                    one_line(error),
                    one_line(name, 120),
                )
        if failed:
            between_passes()

    def rest(self, seconds: float) -> bool:
        """Wait `seconds` unless stopped (says whether it was), with a heartbeat every
        `heartbeat_seconds` meanwhile."""
        end = self.clock() + seconds
        while (left := end - self.clock()) > 0:
            if self.stop.wait(min(left, self.heartbeat_seconds)):
                return True
            self.heartbeat()
        return self.stop.is_set()


class PollingCollector(Collector):
    """A collector that polls its sources every `interval` seconds until stopped.

    A subclass says which setting holds its interval, names its sources (`sources()`) and
    implements `poll()` (one pass over its sources, calling `heartbeat()` between them;
    returns how many failed, each failure already recorded in its `CollectorState`).
    `failing(n)` says whether n failures of a pass call for the backoff rather than the
    interval. `timeout`: seconds per HTTP request. It registers its sources when it starts
    (a heartbeat before any request) and keeps beating while it waits between passes.
    """

    interval_setting = ""

    def __init__(self, *, interval: float | None = None, timeout: float | None = None, **options):
        super().__init__(**options)
        self.interval = getattr(settings, self.interval_setting) if interval is None else interval
        self.timeout = settings.LISTENING_HTTP_TIMEOUT if timeout is None else timeout

    def poll(self) -> int:
        raise NotImplementedError

    def failing(self, failures: int) -> bool:
        return bool(failures)

    def run(self, *, once: bool = False) -> None:
        """Pass after pass until stopped; `once`: one pass, a database error raised."""
        self.heartbeat(force=True)
        while not self.stop.is_set():
            try:
                failures = self.poll()
            except DatabaseError as error:
                if once:
                    raise
                # Nothing moved past what is stored (each cursor is saved with its batch):
                # the next pass asks again from the saved cursors.
                log.error("%s: database error (%s); retrying later", self.label, one_line(error))
                between_passes()
                failures = 1
            except Exception:
                if once:
                    raise
                # A fault nobody foresaw (a remote's new kind of garbage, a bug) must not end
                # the process: under honcho that stops the whole stack. Logged whole, then
                # the backoff, from the saved cursors.
                log.exception("%s: unexpected error; retrying later", self.label)
                between_passes()
                failures = 1
            if once:
                return
            if self.failing(failures):
                self.rest(self.backoff.next())
            else:
                self.backoff.reset()
                self.rest(self.interval)


def idle_until_stopped(stop: Stop, reason: str) -> None:
    """A collector with nothing to do stays up doing nothing (a process manager such as
    honcho stops every process when one exits) until SIGTERM."""
    log.warning("%s: idle until stopped.", reason)
    while not stop.wait(3600):
        pass


def store(mentions: list[MentionData], *, source: str) -> int:
    """Store a batch through the one write path; returns how many were new."""
    if not mentions:
        return 0
    result = actions.mentions_ingest(mentions=mentions, source=source, actor=None)
    log.info("%s: %s stored, %s already known", source, result.stored, result.duplicates)
    return result.stored


def load_state(name: str) -> dict:
    """The collector's saved state ({} the first time)."""
    found = CollectorState.objects.filter(name=name).values_list("state", flat=True).first()
    return dict(found or {})


def save_state(
    name: str, state: dict | None = None, *, error: str | None = None, progress: bool = False
) -> None:
    """How a pass went (`error` None: a success), or, with `progress`, only where it
    stands mid-pass (actions.collector_state_record)."""
    actions.collector_state_record(name=name, state=state, error=error, progress=progress)


def between_passes() -> None:
    """A long-running process must not keep a connection the database closed meanwhile
    (never inside a transaction: a caller's, or a test's)."""
    if not any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        close_old_connections()


class _TextExtractor(HTMLParser):
    BREAKS = {"br", "p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr"}
    SKIP = {"script", "style", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (a toot, a feed summary): tags dropped, entities
    decoded, block ends as line breaks, scripts and styles left out, blank runs collapsed.
    Never evaluates anything: the text is stored and later shown escaped."""
    if not html:
        return ""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).split("\n"))
    return "\n".join(line for line in lines if line)
