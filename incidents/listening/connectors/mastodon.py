"""Mastodon through its REST API (Mastodon.py): on each configured instance, the hashtag
timelines of the active watches' hashtags (and the instance's own extra `hashtags`), and
full-text `search` queries (which need an access token and an instance with search),
polled forward with `min_id`.

`min_id` returns the statuses right after the cursor, oldest page first: a pass walks
forward page by page (up to MAX_PAGES per timeline) and saves the newest id after each
stored page, so a backlog after an outage or a restart is filled in without a gap. The
first time a timeline is seen, only its newest page is read (no deep backfill).

The mention's id is the status's `uri` (its ActivityPub id, the same on every instance),
so a status seen on two instances is stored once; the cursors are the instance's own ids.
A reply's `in_reply_to` is the instance's id of its parent (`in_reply_to_id`: the parent's
URI is not in the status); `reply_to_brand` says whether the parent's author
(`in_reply_to_account_id`) is a brand account of an active watch, named by the accounts the
status carries (its author, its `mentions`, which a reply includes unless its author
removed the @name): nothing is asked of the instance for it.
On a 429 the collector waits until the instance's `X-RateLimit-Reset` (at most
MAX_RATE_WAIT) and asks again, up to MAX_RATE_RETRIES times, then leaves that timeline to
the next pass; other errors are logged, recorded and retried later. Each request's whole
answer must come within FETCH_READS_IN times the timeout of one read (`DeadlineSession`):
an instance that drips its answer a byte at a time is cut off, recorded, and the other
timelines and instances are read.

Pleroma, Akkoma and GoToSocial answer the same API with ids that are not numbers (flake ids,
ULIDs); like Mastodon's, they sort as texts of the same length, so the newest id is the
longest, then the greatest. A status the collector cannot read (not an object, no id) is
logged and skipped; fields of the wrong type are taken as absent.
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from mastodon import Mastodon, MastodonAPIError, MastodonError, MastodonRatelimitError
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..choices import Source
from ..ingest import MAX_COUNT, language_code
from .common import (
    Backoff,
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
    instance_state,
    refusal,
    unknown_keys,
)

log = logging.getLogger("incidents.listening.connectors.mastodon")

PAGE = 40  # Mastodon's largest page
MAX_PAGES = 10  # per timeline and pass: 400 statuses, then the next pass goes on
MAX_RATE_WAIT = 300.0  # seconds
# 429s on the same request before the timeline is left to the next pass (an instance that
# always answers 429, or whose rate-limit headers Mastodon.py cannot read, must not hold
# the others up).
MAX_RATE_RETRIES = 3


@dataclass(frozen=True)
class Instance:
    base_url: str
    access_token: str = ""
    hashtags: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    state_name: str = field(init=False, default="")

    def __post_init__(self):
        object.__setattr__(self, "state_name", instance_state(self.base_url))

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc


# The keys of an item of LISTENING_MASTODON (others are said: liveness.unknown_keys).
INSTANCE_KEYS = ("base_url", "access_token", "hashtags", "search")


def instances_from(config) -> list[Instance]:
    """settings.LISTENING_MASTODON (a list of {"base_url", "access_token"?, "hashtags"?,
    "search"?}) -> Instances; ValueError saying what is wrong with every bad entry
    (liveness.refusal). Unknown keys are not refused (`instance_notes`)."""
    if not isinstance(config, list):
        raise ValueError("LISTENING_MASTODON must be a JSON list of instances.")
    found, problems = [], []
    for number, item in enumerate(config, start=1):
        entry = entry_name("LISTENING_MASTODON", number, len(config))
        if problem := address_problem(item, "base_url") or _instance_problem(item):
            problems.append(f"{entry}: {problem}.")
            continue
        lists = {
            name: tuple(v.strip().lstrip("#") for v in item.get(name, []) if v.strip())
            for name in ("hashtags", "search")
        }
        token = item.get("access_token") or ""
        base_url = item["base_url"].rstrip("/")
        found.append(Instance(base_url=base_url, access_token=token, **lists))
    if problems:
        raise ValueError(refusal(problems))
    return found


def _instance_problem(item: dict) -> str | None:
    """What is wrong with an instance of LISTENING_MASTODON besides its address (the end
    of instances_from's sentence), None when nothing is."""
    for name in ("hashtags", "search"):
        values = item.get(name, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return f"{name} must be a list of texts"
    if not isinstance(item.get("access_token") or "", str):
        return "access_token must be a text"
    return None


def instance_notes(config) -> list[str]:
    """The entries of settings.LISTENING_MASTODON with keys the collector does not read
    (liveness.unknown_keys): logged by the collector, warned of by the settings check."""
    return unknown_keys(config, "LISTENING_MASTODON", INSTANCE_KEYS)


def _count(value) -> int:
    """A count as stored: 0 unless a positive whole number, at most what the model holds."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return min(value, MAX_COUNT)
    return 0


def _object(value) -> dict:
    return value if isinstance(value, dict) else {}


def _id(status) -> str:
    """A status's id as a text ("" when it has none)."""
    value = status.get("id")
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _newest(ids) -> str:
    """The newest of ids that are numbers (Mastodon) or fixed-length texts (ULIDs...)."""
    return max(ids, key=lambda value: (len(value), value))


def _acct(account, host: str) -> str:
    """An account (a status's author or one it mentions) as the fediverse names it,
    `user@host`, whichever instance it is seen from."""
    acct = str(account.get("acct") or "")
    if acct and "@" not in acct:  # a local account: Mastodon gives only its username
        acct = f"{acct}@{urlsplit(str(account.get('url') or '')).hostname or host}"
    return acct


def _reply_to_brand(status, host: str, is_brand) -> bool:
    parent = status.get("in_reply_to_account_id")
    if not (parent and is_brand):
        return False
    mentions = status.get("mentions")
    known = [_object(status.get("account")), *(mentions if isinstance(mentions, list) else [])]
    return any(
        str(account.get("id")) == str(parent) and is_brand(_acct(account, host))
        for account in known
        if isinstance(account, dict)
    )


def status_row(status, host: str, is_brand=None) -> dict | None:
    """A Mastodon status -> a dict in `ingest.parse`'s shape (None for a boost).
    `is_brand`: `user@host` -> whether it is a brand account (for `reply_to_brand`)."""
    if status.get("reblog"):
        return None
    account = _object(status.get("account"))
    acct = _acct(account, host)
    content, spoiler = status.get("content"), status.get("spoiler_text")
    text = html_to_text(content) if isinstance(content, str) else ""
    if spoiler and isinstance(spoiler, str):
        text = f"{spoiler}\n{text}"
    posted = status.get("created_at")
    followers = account.get("followers_count")
    return {
        "platform": "mastodon",
        "id": status.get("uri") or status.get("url") or f"{host}/{status.get('id')}",
        "url": status.get("url") or "",
        "text": text,
        "posted_at": posted.isoformat() if isinstance(posted, datetime) else posted,
        "author": {
            "handle": acct,
            "name": account.get("display_name") or "",
            "url": account.get("url") or "",
            # Hidden counts come as -1: not known.
            "followers": _count(followers) or (0 if followers == 0 else None),
        },
        "language": language_code(str(status.get("language") or "")) or "",
        "likes": _count(status.get("favourites_count")),
        "reposts": _count(status.get("reblogs_count")),
        "replies": _count(status.get("replies_count")),
        "in_reply_to": str(status.get("in_reply_to_id") or ""),
        "reply_to_brand": _reply_to_brand(status, host, is_brand),
    }


# The deadline of the request this thread is making (DeadlineSession.request), which the
# connections below put their socket under.
_current = threading.local()


def _watched(connection_class):
    class Watched(connection_class):
        def _new_conn(self):
            # The raw socket, before TLS: the handshake is under the deadline too.
            sock = super()._new_conn()
            _watch(sock)
            return sock

        def request(self, *args, **kwargs):
            _watch(self.sock)  # a kept-alive connection: connected by an earlier request
            return super().request(*args, **kwargs)

    return Watched


def _watch(sock) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None and sock is not None:
        deadline.watch(sock)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _watched(HTTPConnection)


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _watched(HTTPSConnection)


_WATCHED_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy, **kwargs):
        # Through an HTTP(S) proxy (HTTPS_PROXY...), requests opens its connections from
        # another pool manager: watched the same way. A SOCKS proxy's connections are not
        # (urllib3's own classes): the read timeout alone bounds them.
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


class DeadlineSession(requests.Session):
    """A requests session (what Mastodon.py sends through) whose every request, answer
    included, ends within `seconds` in all: requests' timeout bounds each read, not the
    answer. Past the deadline the socket is cut and `requests.Timeout` raised (Mastodon.py
    reports it as a MastodonNetworkError)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        for prefix in ("http://", "https://"):
            self.mount(prefix, _WatchedAdapter())

    def request(self, *args, **kwargs):
        with SocketDeadline(self.seconds) as deadline:
            _current.deadline = deadline
            try:
                return super().request(*args, **kwargs)
            except requests.RequestException:
                if deadline.expired:
                    raise requests.Timeout("the answer came too slowly") from None
                raise
            finally:
                _current.deadline = None


class MastodonCollector(PollingCollector):
    """Polls every configured instance every `interval` seconds until stopped (any failing
    timeline backs the next pass off)."""

    label = "Mastodon"
    interval_setting = "LISTENING_MASTODON_INTERVAL"
    backoff_base, backoff_cap = 5.0, 600.0
    # The first wait after a 429 that gave no reset time (doubling on each retry).
    rate_backoff_base = 2.0

    def __init__(self, instances: list[Instance] | None = None, **options):
        super().__init__(**options)
        self.instances = (
            instances_from(settings.LISTENING_MASTODON) if instances is None else instances
        )
        self._clients = {}

    def sources(self) -> list[str]:
        return [instance.state_name for instance in self.instances]

    def poll(self) -> int:
        """One pass over every instance and timeline; returns how many timelines failed."""
        self.watches.refresh(force=True)
        failures = 0
        for instance in self.instances:
            if self.stop.is_set():
                break
            self.heartbeat()
            failures += self._poll_instance(instance)
            between_passes()
        return failures

    def _client(self, instance: Instance) -> Mastodon:
        # One client per instance for the process: Mastodon.py caches the instance document
        # it reads once (which timelines are public) and the rate-limit state.
        if instance.base_url not in self._clients:
            self._clients[instance.base_url] = self._new_client(instance)
        return self._clients[instance.base_url]

    def _new_client(self, instance: Instance) -> Mastodon:
        return Mastodon(
            api_base_url=instance.base_url,
            access_token=instance.access_token or None,
            ratelimit_method="throw",  # we wait ourselves, so SIGTERM is heard meanwhile
            request_timeout=self.timeout,
            version_check_mode="none",
            user_agent="CrisisCell-listening",
            session=DeadlineSession(FETCH_READS_IN * self.timeout),
        )

    def _poll_instance(self, instance: Instance) -> int:
        api = self._client(instance)
        state = load_state(instance.state_name)
        tags = {t.lower() for t in (*self.watches.hashtags, *instance.hashtags)}
        timelines = [
            (
                "tags",
                tag,
                lambda min_id, tag=tag: api.timeline_hashtag(tag, min_id=min_id, limit=PAGE),
            )
            for tag in sorted(tags)
        ]
        timelines += [
            (
                "search",
                query,
                lambda min_id, query=query: _object(
                    api.search_v2(
                        query, resolve=False, result_type="statuses", min_id=min_id, limit=PAGE
                    )
                ).get("statuses", []),
            )
            for query in instance.search
        ]
        failures, problem = 0, None
        for kind, key, fetch in timelines:
            try:
                self._timeline(api, instance, state, kind, key, fetch)
            except MastodonError as error:
                failures += 1
                problem = one_line(
                    f"Mastodon {instance.host} {kind} {key!r}: {type(error).__name__}: {error}"
                )
                log.warning("%s", problem)
            if self.stop.is_set():
                break
        save_state(instance.state_name, state, error=problem)
        return failures

    def _timeline(self, api, instance, state, kind, key, fetch) -> None:
        cursors = state.setdefault(kind, {})
        for _page in range(MAX_PAGES):
            min_id = cursors.get(key)
            statuses = self._call(api, fetch, min_id)
            if not statuses:
                return
            readable = [s for s in statuses if isinstance(s, dict) and _id(s)]
            if not (isinstance(statuses, list) and readable):
                raise MastodonAPIError(f"not a list of statuses: {one_line(statuses, 100)}")
            for unreadable in (s for s in statuses if not (isinstance(s, dict) and _id(s))):
                log.warning("Mastodon %s: status skipped: %s", instance.host, one_line(unreadable))
            rows = [status_row(s, instance.host, self.watches.is_brand) for s in readable]
            matcher = self.watches.matcher
            found = [matching(r, matcher, source=Source.MASTODON) for r in rows if r is not None]
            self.stored += store([data for data in found if data], source=Source.MASTODON)
            # Only now, with the page stored, does the cursor move past it. The instance's
            # success is said at the end of the pass, once every timeline was read: a
            # timeline failing among working ones is then warned about.
            cursors[key] = _newest([_id(s) for s in readable])
            save_state(instance.state_name, state, progress=True)
            if min_id is None or len(statuses) < PAGE or self.stop.is_set():
                return

    def _call(self, api, fetch, min_id):
        """fetch(min_id), honouring the instance's rate-limit headers (read by Mastodon.py):
        when the last answer left no request (X-RateLimit-Remaining: 0), or on a 429, wait
        until X-RateLimit-Reset (a backoff when it gave none), then ask again."""
        backoff = Backoff(base=self.rate_backoff_base, cap=MAX_RATE_WAIT)
        for attempt in range(MAX_RATE_RETRIES + 1):
            self.heartbeat()  # a long walk or a rate limit is no stop
            # The last answer said the budget is spent: wait for its reset rather than
            # collect a 429.
            reset = getattr(api, "ratelimit_reset", None)
            if getattr(api, "ratelimit_remaining", None) == 0 and reset and reset > time.time():
                wait = min(MAX_RATE_WAIT, reset - time.time())
                log.warning("Mastodon %s: rate limit spent, waiting %.1f s", api.api_base_url, wait)
                if self.rest(wait):
                    raise MastodonRatelimitError("stopped while waiting for the rate limit")
                api.ratelimit_remaining = None
            try:
                return fetch(min_id)
            except MastodonRatelimitError:
                if attempt == MAX_RATE_RETRIES:
                    raise
                reset = getattr(api, "ratelimit_reset", None)
                wait = reset - time.time() if reset else 0
                wait = min(MAX_RATE_WAIT, wait if wait > 0 else backoff.next())
                log.warning("Mastodon %s: rate limited, waiting %.1f s", api.api_base_url, wait)
                if self.rest(wait):
                    raise
