"""Presence: who has an incident open right now, and which statement each is editing.

Ephemeral by design, nothing is stored in the database. One roster per incident is kept
in the `presence` cache's store (Redis in production, the process's memory in the embedded
mode): one entry per open socket (IncidentConsumer), each with its own expiry. Traffic
grows linearly with the number of watchers:

- on connect a socket writes its entry, reads the roster and tries to claim the incident's
  "arrivals due" flag, in one atomic step, and sends the roster to its own page (one
  message); nobody answers. Arrivals are coalesced: the socket that claims the flag (an
  atomic set-if-absent) schedules one roster to the incident's presence group
  ARRIVAL_WINDOW_SECONDS later, read from the store when it fires, so it lists everyone who
  arrived in the meantime; the arrivals that find the flag taken send nothing. N people
  arriving at once cost one roster per page per window, not N - 1 deltas each (N²/2 in
  all). The scheduled roster does not depend on the claiming socket staying open; if its
  process dies, the flag expires (ARRIVAL_CLAIM_SECONDS) and the next arrival or the
  periodic roster says it;
- a change of the statement it edits is a delta (`presence.here`), immediate, a close is
  one (`presence.left`);
- every REFRESH_SECONDS each socket renews its own entry's expiry (one cheap write), and
  the first socket of the incident whose refresh claims the period (an atomic
  set-if-absent) sends the whole roster to the group: one message per incident per period,
  whatever the number of watchers.

Entries expire after PRESENT_SECONDS without renewal, so a server process that dies
without saying goodbye leaves no ghost; browsers also drop entries that no roster or delta
confirmed for a minute (static/js/presence.js).

The refresh comes from the server rather than from a client timer: browsers throttle the
timers of background tabs (to one a minute in Chrome), which would make people flicker in
and out of the list; the ASGI server's own pings already close sockets whose peer is gone.

Clients only ever send {"editing": <statement id or null>}. Everything here is
validation of that message, the roster's store and the shape of the presence messages.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib import auth
from django.core.cache import caches
from django.db.models import OuterRef, Subquery
from django.utils.crypto import constant_time_compare

from . import extensions, permissions
from .models import OPEN_STATUSES, Incident, Membership, TimelineEntry
from .people import display_name, initials

# Seconds between two renewals of an open socket's roster entry, and between two rosters
# sent to an incident's pages. Entries expire (and clients forget them) after 60 s.
REFRESH_SECONDS = 20.0
# Editing changes a client may send at once, then one per REFILL_SECONDS. A change over the
# budget is kept and applied at the next refresh: the last one always wins, just later.
BURST = 10
REFILL_SECONDS = 2.0
# An open socket re-checks its person's access (active account, session still valid, still
# allowed to watch) when its last check is older than this, before forwarding anything, and
# on the presence refresh: a deactivated account, an expired or flushed session, a removal
# whose live event was lost in a channel-layer outage stop the stream within this delay.
ACCESS_CHECK_SECONDS = 30.0
# Longer client messages are dropped without being decoded (a real one is ~25 bytes).
MAX_MESSAGE_LENGTH = 200
MAX_ID = 10**18 - 1  # the URLs' id converter allows 18 digits
# A person's own socket (ws/me/) follows the events of at most this many incidents: the
# open ones they are an active member of, most recently declared first. Their signals
# (the bell, hand-offs, memberships) reach it whatever the number.
MAX_FOLLOWED = 50

# "No (valid) editing request": garbage from the client, or nothing pending.
NOTHING = object()

logger = logging.getLogger(__name__)


def requested_editing(content):
    """The statement id a client says it is editing, None for nothing, or NOTHING when the
    message is not a well-formed {"editing": ...} (ignored)."""
    if not isinstance(content, dict) or "editing" not in content:
        return NOTHING
    value = content["editing"]
    if value is None:
        return None
    # bool is an int in Python: `true` must not mean statement 1.
    if type(value) is int and 0 < value <= MAX_ID:
        return value
    return NOTHING


class Budget:
    """A token bucket: `burst` messages at once, then one every `refill` seconds."""

    def __init__(self, burst=None, refill=None, clock=time.monotonic):
        self.burst = BURST if burst is None else burst
        self.refill = REFILL_SECONDS if refill is None else refill
        self.clock = clock
        self.tokens = float(self.burst)
        self.last = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) / self.refill)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# Reads for the consumer (sync; it wraps them with database_sync_to_async).


def _watched(user, incident_id: int):
    """The incident, with `last_seq` (its timeline's last seq, 0 when empty) and the
    person's active membership as `active_memberships` (what the permissions read of the
    cell: [] when not in it), in one query; None when there is no such incident. A socket
    opens with one check: its cost is most of a room's connect (docs/benchmarks.md)."""
    role = Membership.objects.active().filter(incident=OuterRef("pk"), user=user)
    last = TimelineEntry.objects.filter(incident=OuterRef("pk")).order_by("-seq")
    incident = (
        Incident.objects.filter(pk=incident_id)
        .annotate(
            my_role=Subquery(role.values("role")[:1]),
            last_seq=Subquery(last.values("seq")[:1]),
        )
        .first()
    )
    if incident is None:
        return None
    incident.active_memberships = (
        [Membership(incident=incident, user=user, role=incident.my_role)]
        if incident.my_role
        else []
    )
    return incident


def access(user, incident_id: int) -> tuple[bool, bool]:
    """(may watch the incident, may edit its statements). Observers and staff outside the
    cell watch but never edit, so they are never shown as editing."""
    return _access(user, _watched(user, incident_id))


def _access(user, incident) -> tuple[bool, bool]:
    if incident is None or not permissions.can_view(user, incident):
        return False, False
    return True, extensions.may_edit(user, incident)


@dataclass(frozen=True)
class Access:
    """What a socket may still do: `close` is the close code when it must stop (4401 the
    session no longer signs this person in, 4403 no longer allowed to watch)."""

    close: int | None
    may_edit: bool = False
    last_seq: int = 0


def session_user(session_key: str | None):
    """The active user this session signs in, freshly read, or None: Django's own rules
    (django.contrib.auth.get_user: expired or flushed session, a backend that refuses
    inactive accounts, a password changed since), read-only (the socket never writes)."""
    if not session_key:
        return None
    engine = import_module(settings.SESSION_ENGINE)
    data = engine.SessionStore(session_key).load()  # {} when expired or gone
    backend_path = data.get(auth.BACKEND_SESSION_KEY)
    if auth.SESSION_KEY not in data or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user_model = auth.get_user_model()
    try:
        user_id = user_model._meta.pk.to_python(data[auth.SESSION_KEY])
    except Exception:
        return None
    user = auth.load_backend(backend_path).get_user(user_id)
    if user is None:
        return None
    session_hash = data.get(auth.HASH_SESSION_KEY) or ""
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not session_hash or not any(constant_time_compare(session_hash, h) for h in hashes):
        return None
    return user


def recheck(user, session_key: str | None, incident_id: int) -> Access:
    """The socket's periodic check: a few indexed reads, once per ACCESS_CHECK_SECONDS per
    socket (never per forwarded event). `user` is the one the socket was opened by."""
    fresh = session_user(session_key)
    if fresh is None or fresh.pk != user.pk:
        return Access(close=4401)
    incident = _watched(fresh, incident_id)
    may_watch, may_edit = _access(fresh, incident)
    if not may_watch:
        return Access(close=4403)
    return Access(close=None, may_edit=may_edit, last_seq=incident.last_seq or 0)


@dataclass(frozen=True)
class UserAccess:
    """What a person's own socket may still do: `close` as in Access; `incidents`, the ids
    of the incidents whose events it follows."""

    close: int | None
    incidents: frozenset = frozenset()


def followed_incidents(user) -> frozenset:
    """The open incidents `user` is an active member of, MAX_FOLLOWED at most (one query)."""
    ids = (
        Membership.objects.active()
        .filter(user=user, incident__status__in=OPEN_STATUSES)
        .order_by("-incident__declared_at", "-incident_id")
        .values_list("incident_id", flat=True)[:MAX_FOLLOWED]
    )
    return frozenset(ids)


def recheck_user(user, session_key: str | None) -> UserAccess:
    """The person's socket's check: their session still signs them in, and which incidents
    they work on now. `user` is the one the socket was opened by."""
    fresh = session_user(session_key)
    if fresh is None or fresh.pk != user.pk:
        return UserAccess(close=4401)
    return UserAccess(close=None, incidents=followed_incidents(fresh))


def is_editable(incident_id: int, statement_id: int) -> bool:
    """The statement belongs to this incident and can still be edited."""
    return extensions.is_editable(incident_id, statement_id)


# Messages. Between consumers (channel layer) and to the browser, which tells them from
# timeline events by their "type" and their lack of a timeline "seq".


def entry(conn: str, user, editing: int | None) -> dict:
    """One socket's roster entry: {"conn", "user", "name", "initials", "editing"}."""
    return {
        "conn": conn,
        "user": user.pk,
        "name": display_name(user),
        "initials": initials(user),
        "editing": editing,
    }


def here_message(conn: str, user, editing: int | None) -> dict:
    """The delta for a socket that changed the statement it edits (arrivals are announced
    by the window's roster: arrive())."""
    return {"type": "presence.here", **entry(conn, user, editing)}


def left_message(conn: str, user) -> dict:
    """The delta for a socket that closed."""
    return {"type": "presence.left", "conn": conn, "user": user.pk}


def roster_message(entries: list[dict], at: float) -> dict:
    """The whole roster as one message: the first MAX_ROSTER entries (those editing first,
    then by arrival), `more`, the number of people with no entry among them, and `at`,
    when it was read (epoch seconds)."""
    ordered = sorted(entries, key=lambda e: (e["editing"] is None, e.get("since", 0), e["conn"]))
    shown = [{key: e[key] for key in ENTRY_FIELDS} for e in ordered[:MAX_ROSTER]]
    shown_users = {e["user"] for e in shown}
    more = len({e["user"] for e in ordered[MAX_ROSTER:]} - shown_users)
    return {"type": "presence.roster", "entries": shown, "more": more, "at": at}


def for_client(message: dict, *, me: int | None = None) -> dict:
    """The browser's copy of a presence message: no channel names, no timeline seq.
    For a roster, `more` leaves out the recipient (`me`) when they are among those not
    shown: the page never counts yourself."""
    event = message["type"].removeprefix("presence.")
    if event == "roster":
        more = message["more"]
        if me is not None and more and me not in {e["user"] for e in message["entries"]}:
            more -= 1
        return {
            "type": "presence",
            "event": "roster",
            "entries": message["entries"],
            "more": more,
            "at": message["at"],
        }
    fields = ["conn", "user"]
    if event == "here":
        fields += ["name", "initials", "editing"]
    return {"type": "presence", "event": event, **{key: message[key] for key in fields}}


def roster_for(message: dict, me: int) -> dict | None:
    """The browser's copy of a roster for person `me`, or None when it lists nobody else
    (being alone is what the page assumes: a lone socket hears nothing, as before)."""
    copy = for_client(message, me=me)
    if copy["more"] or any(e["user"] != me for e in copy["entries"]):
        return copy
    return None


# The roster's store, readable from any process (notifications also stay quiet by e-mail
# and chat for someone looking at the room: present_users). One hash per incident,
# `presence:<incident>:roster` in the `presence` cache's Redis, one field per socket (its
# connection id), whose value is its entry with `until` (epoch seconds) and `since`; each
# socket writes only its own field, with atomic hash operations, so two processes never
# lose each other's entries. Expired entries are skipped by readers and removed by the
# roster's sender (only if unchanged since read); the whole hash expires PRESENT_SECONDS
# after its last write. The embedded mode (a locmem cache, one process) keeps the same
# structure in the process's memory.
PRESENT_SECONDS = 60.0
CACHE_ALIAS = "presence"
# Arrivals within this many seconds of the first one are announced together, by one roster
# sent to the incident's pages when the window closes.
ARRIVAL_WINDOW_SECONDS = 0.25
# How long an "arrivals due" claim holds if its roster is never sent (its process died):
# then the next arrival claims again. The sender releases it as it reads the roster.
ARRIVAL_CLAIM_SECONDS = 5.0
# At most this many entries in one roster message; the people beyond are only counted.
MAX_ROSTER = 100
ENTRY_FIELDS = ("conn", "user", "name", "initials", "editing")


def _roster_key(incident_id: int) -> str:
    return f"presence:{incident_id}:roster"


def _due_key(incident_id: int) -> str:
    return f"presence:{incident_id}:due"


def _period_key(incident_id: int, now: float) -> str:
    return f"presence:{incident_id}:sent:{int(now // REFRESH_SECONDS)}"


# The roster's clock, epoch seconds (shared by the processes; tests move it on).
roster_clock = time.time


class _RedisStore:
    """The roster in Redis (the `presence` cache's own connection pool)."""

    # Delete a field only if it still holds the value read: an entry renewed meanwhile stays.
    FORGET = (
        "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then "
        "return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0"
    )

    def __init__(self, client):
        self.client = client

    def _client(self, key):
        return self.client

    def write(self, key: str, field: str, value: str, ttl: float, *, read=False):
        pipe = self._client(key).pipeline(transaction=True)
        pipe.hset(key, field, value)
        pipe.expire(key, int(ttl) + 1)
        if read:
            pipe.hgetall(key)
        result = pipe.execute()
        return _decoded(result[2]) if read else None

    def arrive(self, key, field, value, ttl, due_key, due_seconds):
        pipe = self._client(key).pipeline(transaction=True)
        pipe.hset(key, field, value)
        pipe.expire(key, int(ttl) + 1)
        pipe.hgetall(key)
        pipe.set(due_key, 1, nx=True, px=max(1, int(due_seconds * 1000)))
        result = pipe.execute()
        return _decoded(result[2]), bool(result[3])

    def read(self, key: str) -> dict[str, str]:
        return _decoded(self._client(key).hgetall(key))

    def remove(self, key: str, field: str) -> None:
        self._client(key).hdel(key, field)

    def forget(self, key: str, stale: dict[str, str]) -> None:
        client = self._client(key)
        for field, value in stale.items():
            client.eval(self.FORGET, 1, key, field, value)

    def claim(self, key: str, seconds: float) -> bool:
        return bool(self._client(key).set(key, 1, nx=True, px=max(1, int(seconds * 1000))))

    def release(self, key: str) -> None:
        self._client(key).delete(key)


def _decoded(raw: dict) -> dict[str, str]:
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }


class _MemoryStore:
    """The same in the process's memory, for the embedded mode's locmem cache."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hashes: dict[str, dict[str, str]] = {}
        self.claims: dict[str, float] = {}

    def write(self, key, field, value, ttl, *, read=False):
        with self.lock:
            fields = self.hashes.setdefault(key, {})
            fields[field] = value
            return dict(fields) if read else None

    def arrive(self, key, field, value, ttl, due_key, due_seconds):
        raw = self.write(key, field, value, ttl, read=True)
        return raw, self.claim(due_key, due_seconds)

    def read(self, key):
        with self.lock:
            return dict(self.hashes.get(key, {}))

    def remove(self, key, field):
        with self.lock:
            fields = self.hashes.get(key, {})
            fields.pop(field, None)
            if not fields:
                self.hashes.pop(key, None)

    def forget(self, key, stale):
        with self.lock:
            fields = self.hashes.get(key, {})
            for field, value in stale.items():
                if fields.get(field) == value:
                    del fields[field]
            if not fields:
                self.hashes.pop(key, None)

    def claim(self, key, seconds):
        now = time.monotonic()
        with self.lock:
            if self.claims.get(key, 0) > now:
                return False
            self.claims = {k: until for k, until in self.claims.items() if until > now}
            self.claims[key] = now + seconds
            return True

    def release(self, key):
        with self.lock:
            self.claims.pop(key, None)


_memory = _MemoryStore()
# One Redis store (and connection pool) per server per process. Django's `caches` gives each
# context its own cache object, each with its own pool: every socket would open (and keep)
# a connection of its own, and 200 arrivals at once spent more time connecting to Redis than
# in the roster (docs/benchmarks.md, "Presence").
_redis_stores: dict[str, _RedisStore] = {}
_redis_lock = threading.Lock()


def _redis_store(cache) -> _RedisStore:
    client = cache._cache
    server = client._servers[0]  # written to: the first server, as the cache writes
    with _redis_lock:
        store = _redis_stores.get(server)
        if store is None:
            pool = client._pool_class.from_url(server, **client._pool_options)
            store = _redis_stores[server] = _RedisStore(client._client(connection_pool=pool))
    return store


def _store():
    """(store, the key maker) for the `presence` cache as configured now."""
    from django.core.cache.backends.redis import RedisCache

    cache = caches[CACHE_ALIAS]
    store = _redis_store(cache) if isinstance(cache, RedisCache) else _memory
    return store, cache.make_key


def _live(raw: dict[str, str], now: float) -> tuple[list[dict], dict[str, str]]:
    """(live entries, expired {field: raw value}) of a stored roster."""
    live, stale = [], {}
    for conn, value in raw.items():
        try:
            item = json.loads(value)
            fresh = item["until"] > now
        except (ValueError, TypeError, KeyError):
            fresh, item = False, None
        if fresh:
            live.append({**item, "conn": conn})
        else:
            stale[conn] = value
    return live, stale


def _value(incident_entry: dict, now: float) -> str:
    fields = {key: incident_entry.get(key) for key in ENTRY_FIELDS if key != "conn"}
    since = incident_entry.get("since", now)
    return json.dumps({**fields, "since": since, "until": now + PRESENT_SECONDS})


def mark_here(
    incident_id: int,
    user_id: int,
    conn: str,
    *,
    entry: dict | None = None,
    now: float | None = None,
    read: bool = False,
) -> list[dict] | None:
    """Write (or renew) connection `conn`'s roster entry for the next PRESENT_SECONDS:
    `entry` as made by entry() plus "since" (its arrival, epoch seconds), or just the user.
    With `read`, also return the live roster (entries as stored, yours included) from the
    same atomic step. A store outage is logged and ignored (returns [] when reading):
    presence is a courtesy."""
    now = roster_clock() if now is None else now
    item = {"user": user_id, "name": "", "initials": "", "editing": None, **(entry or {})}
    try:
        store, make_key = _store()
        raw = store.write(
            make_key(_roster_key(incident_id)), conn, _value(item, now), PRESENT_SECONDS, read=read
        )
    except Exception:
        logger.warning("Could not record presence on incident %s", incident_id)
        return [] if read else None
    return _live(raw, now)[0] if read else None


def arrive(
    incident_id: int, user_id: int, conn: str, *, entry: dict, now: float | None = None
) -> tuple[list[dict], bool]:
    """A socket's arrival, in one atomic step: write connection `conn`'s entry (as for
    mark_here), read the live roster (entries as stored, yours included) and try to claim
    the incident's "arrivals due" flag for ARRIVAL_CLAIM_SECONDS. Returns (entries,
    claimed): the claimer sends arrivals_roster() to the incident's pages after
    ARRIVAL_WINDOW_SECONDS; the others send nothing. A store outage is logged and ignored:
    ([], False)."""
    now = roster_clock() if now is None else now
    item = {"user": user_id, "name": "", "initials": "", "editing": None, **entry}
    try:
        store, make_key = _store()
        raw, claimed = store.arrive(
            make_key(_roster_key(incident_id)),
            conn,
            _value(item, now),
            PRESENT_SECONDS,
            make_key(_due_key(incident_id)),
            ARRIVAL_CLAIM_SECONDS,
        )
    except Exception:
        logger.warning("Could not record presence on incident %s", incident_id)
        return [], False
    return _live(raw, now)[0], claimed


def arrivals_roster(incident_id: int, *, now: float | None = None) -> dict | None:
    """The roster message announcing the arrivals of the window that closes now, or None
    when it would list fewer than two entries (nobody to tell). Releases the incident's
    "arrivals due" flag *before* reading: an arrival written before the read is in this
    roster, one after it claims the flag again and gets a roster of its own."""
    now = roster_clock() if now is None else now
    try:
        store, make_key = _store()
        store.release(make_key(_due_key(incident_id)))
    except Exception:
        logger.warning("Could not release the arrivals of incident %s", incident_id)
    entries = roster(incident_id, now=now)
    if len(entries) < 2:
        return None
    return roster_message(entries, now)


def mark_left(incident_id: int, user_id: int, conn: str) -> None:
    """Forget connection `conn` (the socket closed)."""
    try:
        store, make_key = _store()
        store.remove(make_key(_roster_key(incident_id)), conn)
    except Exception:
        logger.warning("Could not record a departure on incident %s", incident_id)


def roster(incident_id: int, *, now: float | None = None, prune: bool = False) -> list[dict]:
    """The live entries of the incident's roster (one read); with `prune`, expired entries
    are also removed from the store. [] when the store cannot be read."""
    now = roster_clock() if now is None else now
    try:
        store, make_key = _store()
        key = make_key(_roster_key(incident_id))
        live, stale = _live(store.read(key), now)
        if prune and stale:
            store.forget(key, stale)
    except Exception:
        logger.warning("Could not read presence on incident %s", incident_id)
        return []
    return live


def claim_period(incident_id: int, *, now: float | None = None) -> bool:
    """True for the first caller in the current refresh period (periods of REFRESH_SECONDS
    on the clock, the same in every process; an atomic set-if-absent): it sends the
    incident's roster. False for the others, or when the store cannot be reached (a roster
    skipped is only a late refresh)."""
    now = roster_clock() if now is None else now
    try:
        store, make_key = _store()
        return store.claim(make_key(_period_key(incident_id, now)), REFRESH_SECONDS * 2)
    except Exception:
        logger.warning("Could not claim the presence refresh on incident %s", incident_id)
        return False


def refresh(
    incident_id: int, user_id: int, conn: str, entry: dict, *, now: float | None = None
) -> dict | None:
    """A socket's periodic refresh: renew its entry (one write) and, if it is the first of
    the period for this incident (claim_period), return the roster message to send to the
    incident's pages (expired entries are removed on the way); otherwise None."""
    now = roster_clock() if now is None else now
    mark_here(incident_id, user_id, conn, entry=entry, now=now)
    if not claim_period(incident_id, now=now):
        return None
    return roster_message(roster(incident_id, now=now, prune=True), now)


def present_users(incident_id: int, user_ids, *, now: float | None = None) -> set[int]:
    """Which of these people have the incident open now: one read of the roster for all of
    them, no database query. When the store cannot be read, nobody (so nobody misses a
    message)."""
    user_ids = set(user_ids)
    if not user_ids:
        return set()
    return {item["user"] for item in roster(incident_id, now=now)} & user_ids
