"""Presence: who has an incident open right now, and which statement each is editing.

Ephemeral by design, nothing is stored. Every open page's WebSocket (IncidentConsumer)
announces itself to the incident's group on connect, answers each newcomer with its own
state, announces itself again every REFRESH_SECONDS while open and says goodbye on close.
Clients drop an entry that has not been refreshed for a minute (static/js/presence.js), so
a server process that dies without saying goodbye leaves no ghost behind.

The refresh comes from the server rather than from a client timer: browsers throttle the
timers of background tabs (to one a minute in Chrome), which would make people flicker in
and out of the list; the ASGI server's own pings already close sockets whose peer is gone.

Clients only ever send {"editing": <statement id or null>}. Everything here is
validation of that message and the shape of the presence messages.
"""

import logging
import time
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib import auth
from django.core.cache import caches
from django.utils.crypto import constant_time_compare

from . import extensions, permissions
from .models import OPEN_STATUSES, Incident, Membership, TimelineEntry
from .people import display_name, initials

# Seconds between two announcements of an open socket. Clients forget entries after 60 s.
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


def access(user, incident_id: int) -> tuple[bool, bool]:
    """(may watch the incident, may edit its statements). Observers and staff outside the
    cell watch but never edit, so they are never shown as editing."""
    incident = Incident.objects.filter(pk=incident_id).first()
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
    may_watch, may_edit = access(fresh, incident_id)
    if not may_watch:
        return Access(close=4403)
    last_seq = (
        TimelineEntry.objects.filter(incident_id=incident_id)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    return Access(close=None, may_edit=may_edit, last_seq=last_seq or 0)


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


def here_message(conn: str, user, editing: int | None, reply_to: str | None = None) -> dict:
    """Announce a socket to the group. With `reply_to` (on connect) every other socket
    answers that channel with its own state, so the newcomer learns who is there."""
    return {
        "type": "presence.here",
        "conn": conn,
        "user": user.pk,
        "name": display_name(user),
        "initials": initials(user),
        "editing": editing,
        "reply_to": reply_to,
    }


def left_message(conn: str, user) -> dict:
    return {"type": "presence.left", "conn": conn, "user": user.pk}


def for_client(message: dict) -> dict:
    """The browser's copy of a presence message: no channel names, no timeline seq."""
    event = message["type"].removeprefix("presence.")
    fields = ["conn", "user"]
    if event == "here":
        fields += ["name", "initials", "editing"]
    return {"type": "presence", "event": event, **{key: message[key] for key in fields}}


# The registry: who has an incident open now, readable from any process (notifications
# stay quiet by e-mail and chat for someone looking at the room). The `presence` cache
# (Redis in production, the process's memory in the embedded mode) holds one entry per
# incident and person: {connection id: expiry (epoch seconds)}, refreshed with each
# announcement and forgotten after PRESENT_SECONDS, as the browsers forget a silent socket.
# Two tabs of one person opening at once may overwrite each other's entry; the next
# refresh (REFRESH_SECONDS) puts it back.
PRESENT_SECONDS = 60.0
CACHE_ALIAS = "presence"


def _presence_key(incident_id: int, user_id: int) -> str:
    return f"presence:{incident_id}:{user_id}"


def _update(incident_id: int, user_id: int, conn: str, here: bool, now: float) -> None:
    cache = caches[CACHE_ALIAS]
    key = _presence_key(incident_id, user_id)
    conns = {c: until for c, until in (cache.get(key) or {}).items() if until > now}
    if here:
        conns[conn] = now + PRESENT_SECONDS
    else:
        conns.pop(conn, None)
    if conns:
        cache.set(key, conns, timeout=PRESENT_SECONDS)
    else:
        cache.delete(key)


def mark_here(incident_id: int, user_id: int, conn: str, *, now: float | None = None) -> None:
    """Record that connection `conn` of this person has the incident open (for the next
    PRESENT_SECONDS). A cache outage is logged and ignored: presence is a courtesy."""
    try:
        _update(incident_id, user_id, conn, True, time.time() if now is None else now)
    except Exception:
        logger.warning("Could not record presence on incident %s", incident_id)


def mark_left(incident_id: int, user_id: int, conn: str) -> None:
    """Forget connection `conn` of this person (the socket closed)."""
    try:
        _update(incident_id, user_id, conn, False, time.time())
    except Exception:
        logger.warning("Could not record a departure on incident %s", incident_id)


def present_users(incident_id: int, user_ids, *, now: float | None = None) -> set[int]:
    """Which of these people have the incident open now: one cache read for all of them,
    no database query. When the cache cannot be read, nobody (so nobody misses a message)."""
    user_ids = set(user_ids)
    if not user_ids:
        return set()
    now = time.time() if now is None else now
    keys = {_presence_key(incident_id, user_id): user_id for user_id in user_ids}
    try:
        found = caches[CACHE_ALIAS].get_many(list(keys))
    except Exception:
        logger.warning("Could not read presence on incident %s", incident_id)
        return set()
    return {
        keys[key]
        for key, conns in found.items()
        if isinstance(conns, dict) and any(until > now for until in conns.values())
    }
