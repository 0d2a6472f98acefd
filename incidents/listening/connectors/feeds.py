"""RSS and Atom feeds (news sites, alert feeds, forums) with feedparser.

Each feed of settings.LISTENING_FEEDS is fetched by us (urllib, with a timeout per read,
FETCH_READS_IN timeouts for the whole exchange, headers included, and a size limit;
feedparser never fetches anything itself) with a conditional GET: the ETag and
Last-Modified of the last answer are kept in `CollectorState`, and a 304 costs nothing.
The bytes are then parsed by feedparser. An entry becomes a mention on the feed's
platform (`press` unless configured): id = the entry's id (else its link), text = title and
summary without HTML, time = published (else updated), author = the entry's author. As on
the other connectors, only entries matching an active watch are stored; entries with no
date are skipped (a feed re-sends its entries, dating them "now" would fake a burst).
"""

import http.client
import logging
import urllib.error
import urllib.request
from calendar import timegm
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import feedparser
from django.conf import settings

from incidents.models import Platform

from ..choices import Source
from .common import (
    PollingCollector,
    SocketDeadline,
    between_passes,
    html_to_text,
    load_state,
    matching,
    one_line,
    save_state,
    store,
)
from .liveness import (
    FETCH_READS_IN,
    address_problem,
    entry_name,
    feed_platform,
    feed_state,
    refusal,
    unknown_keys,
)

log = logging.getLogger("incidents.listening.connectors.feeds")

# A feed bigger than this is refused (a news feed is a few hundred kB at most).
MAX_FEED_BYTES = 10_000_000
CHUNK = 65_536
MAX_VALIDATOR = 1_000  # characters of an ETag or a Last-Modified kept
USER_AGENT = "CrisisCell-listening (+feed reader)"


@dataclass(frozen=True)
class Feed:
    url: str
    platform: str = Platform.PRESS

    @property
    def state_name(self) -> str:
        return feed_state(self.url)


# The keys of an item of LISTENING_FEEDS (others are said: liveness.unknown_keys).
FEED_KEYS = ("url", "platform")


def feeds_from(config) -> list[Feed]:
    """settings.LISTENING_FEEDS (a list of {"url", "platform"?}) -> Feeds; ValueError saying
    what is wrong with every bad entry (liveness.refusal). Unknown keys are not refused
    (`feed_notes`)."""
    if not isinstance(config, list):
        raise ValueError("LISTENING_FEEDS must be a JSON list of feeds.")
    feeds, problems = [], []
    for number, item in enumerate(config, start=1):
        entry = entry_name("LISTENING_FEEDS", number, len(config))
        if problem := address_problem(item, "url"):
            problems.append(f"{entry}: {problem}.")
            continue
        platform = feed_platform(item)
        if platform is None:
            known = ", ".join(Platform.values)
            problems.append(f"{entry}: platform must be one of {known}.")
            continue
        feeds.append(Feed(url=item["url"], platform=platform))
    if problems:
        raise ValueError(refusal(problems))
    return feeds


def feed_notes(config) -> list[str]:
    """The entries of settings.LISTENING_FEEDS with keys the collector does not read
    (liveness.unknown_keys): logged by the collector, warned of by the settings check."""
    return unknown_keys(config, "LISTENING_FEEDS", FEED_KEYS)


class FeedError(Exception):
    pass


def fetch(url: str, state: dict, *, timeout: float) -> tuple[bytes | None, dict]:
    """(body, validators) of a conditional GET; body None when the feed has not changed
    (304). Raises FeedError on anything else."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/atom+xml, application/rss+xml, */*"}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    # http(s) only: feeds_from checks the scheme (and urllib redirects to http, https, ftp).
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    watchdog = _Watchdog(FETCH_READS_IN * timeout)
    try:
        with watchdog, watchdog.opener().open(request, timeout=timeout) as response:
            body = _read(response)
            if watchdog.expired:  # what came before the cut may read as a whole answer
                raise FeedError("the answer came too slowly")
            validators = {
                "etag": _validator(response.headers.get("ETag")),
                "last_modified": _validator(response.headers.get("Last-Modified")),
            }
            return body, validators
    except urllib.error.HTTPError as error:
        if watchdog.expired:  # a redirect cut short reads as its status
            raise FeedError("the answer came too slowly") from None
        if error.code == 304:
            return None, {}
        raise FeedError(f"HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
        if watchdog.expired:
            raise FeedError("the answer came too slowly") from None
        if isinstance(error, http.client.HTTPException):  # not HTTP, a header too long...
            problem = f"not a valid HTTP answer: {type(error).__name__}: {error}"
            raise FeedError(one_line(problem)) from None
        raise FeedError(one_line(getattr(error, "reason", error))) from None


class _Watchdog(SocketDeadline):
    """The deadline of one fetch (common.SocketDeadline), with the opener whose
    connections it watches."""

    def opener(self) -> urllib.request.OpenerDirector:
        """An opener for http(s) only (urllib's default also follows a redirect to ftp,
        whose answer is no HTTP response and which no deadline would watch), each of its
        connections (redirects' too) watched."""
        watchdog = self

        def watched(connection_class):
            class Watched(connection_class):
                def connect(self):
                    super().connect()
                    watchdog.watch(self.sock)

            return Watched

        class Http(urllib.request.HTTPHandler):
            def http_open(self, req):
                return self.do_open(watched(http.client.HTTPConnection), req)

        class Https(urllib.request.HTTPSHandler):
            def https_open(self, req):
                return self.do_open(
                    watched(http.client.HTTPSConnection), req, context=self._context
                )

        opener = urllib.request.OpenerDirector()
        for handler in (
            Http(),
            Https(),
            urllib.request.HTTPRedirectHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
            urllib.request.UnknownHandler(),  # "unknown url type: ftp"
        ):
            opener.add_handler(handler)
        return opener


def _validator(value) -> str:
    """An ETag or Last-Modified to keep and send back ("" for one past any sensible size)."""
    return value if value and len(value) <= MAX_VALIDATOR else ""


def _read(response) -> bytes:
    """The whole body, read chunk by chunk; FeedError past MAX_FEED_BYTES, or when it ends
    before its Content-Length (a partial feed would be stored and its validators kept, so
    the rest never read)."""
    chunks, size = [], 0
    while chunk := response.read1(CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_FEED_BYTES:
            raise FeedError(f"larger than {MAX_FEED_BYTES} bytes")
    if response.length:  # the connection closed before the Content-Length announced
        raise FeedError(f"the answer was cut short ({response.length} bytes missing)")
    return b"".join(chunks)


def _moment(entry) -> str | None:
    for name in ("published_parsed", "updated_parsed"):
        parsed = entry.get(name)
        if parsed:  # feedparser gives a UTC struct_time, whatever the feed's zone
            return datetime.fromtimestamp(timegm(parsed), UTC).isoformat()
    return None


def entry_row(entry, feed: Feed) -> dict | None:
    """A feedparser entry -> a dict in `ingest.parse`'s shape; None when it has no date."""
    posted = _moment(entry)
    if posted is None:
        return None
    title = html_to_text(entry.get("title") or "")
    summary = html_to_text(entry.get("summary") or "")
    link = entry.get("link") or ""
    return {
        "platform": feed.platform,
        "id": entry.get("id") or link,
        "url": link if urlsplit(link).scheme in ("http", "https") else "",
        "text": "\n".join(part for part in (title, summary) if part),
        "posted_at": posted,
        "author": {"handle": (entry.get("author") or "")[:200]},
        "language": "",
    }


class FeedCollector(PollingCollector):
    """Fetches every configured feed every `interval` seconds until stopped (backing off
    only when every feed failed)."""

    label = "Feeds"
    interval_setting = "LISTENING_FEEDS_INTERVAL"
    backoff_base, backoff_cap = 30.0, 3600.0

    def __init__(self, feeds: list[Feed] | None = None, **options):
        super().__init__(**options)
        self.feeds = feeds_from(settings.LISTENING_FEEDS) if feeds is None else feeds

    def sources(self) -> list[str]:
        return [feed.state_name for feed in self.feeds]

    def failing(self, failures: int) -> bool:
        return bool(failures) and failures >= len(self.feeds)  # all down: probably our network

    def poll(self) -> int:
        """One pass over the feeds; returns how many failed (each recorded in its state)."""
        matcher = self.watches.refresh(force=True)
        failures = 0
        for feed in self.feeds:
            if self.stop.is_set():
                break
            self.heartbeat()  # the feeds after a slow one are not taken for stopped
            try:
                self._poll_feed(feed, matcher)
            except FeedError as error:
                failures += 1
                problem = one_line(f"Feed {feed.url}: {error}", 500)
                log.warning("%s", problem)
                save_state(feed.state_name, error=problem)
            between_passes()
        return failures

    def _poll_feed(self, feed: Feed, matcher) -> None:
        state = load_state(feed.state_name)
        body, validators = fetch(feed.url, state, timeout=self.timeout)
        if body is None:
            log.debug("Feed %s: not modified", feed.url)
            save_state(feed.state_name, state)
            return
        parsed = feedparser.parse(body)
        if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
            # Not XML (an HTML page), or XML that is neither RSS nor Atom (an XHTML page).
            reason = parsed.get("bozo_exception") or "neither RSS nor Atom"
            raise FeedError(f"not a feed ({one_line(reason, 200)})")
        rows = [entry_row(entry, feed) for entry in parsed.entries]
        found = [matching(row, matcher, source=Source.FEED) for row in rows if row]
        self.stored += store([data for data in found if data], source=Source.FEED)
        # The validators are saved only with the entries stored: a crash before this line
        # fetches the same feed again in full.
        save_state(feed.state_name, {**state, **validators})
