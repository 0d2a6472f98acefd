"""The live WebSockets. Neither ever writes to the database.

- IncidentConsumer, ws/incidents/<id>/ (the incident room, a statement's page):
  authenticate, authorize, join the incident's group and the person's, forward events, and
  carry presence (who has the incident open, who is editing which statement: see
  incidents/presence.py).
- UserConsumer, ws/me/ (every other signed-in page): the person's own signals (the bell,
  a hand-off, "memberships-changed") and the events of the open incidents they are an
  active member of (presence.MAX_FOLLOWED at most), for the dashboard and "My approvals".
  Which incidents it follows is re-read on connect, on "memberships-changed", after an
  event that may change someone's access, and with every access check. It says nothing
  about presence.

Both share LiveConsumer: the handshake, the groups, the access re-checks, the status
messages; they differ in what they join and what a check reads.

Close codes: 4401 not signed in / session ended, 4403 not (or no longer) in the cell,
4503 live updates unavailable (the channel layer is down: the client retries later).
The Origin header is checked before this consumer runs (crisiscell/origin.py).

Access is not only checked on connect: before forwarding anything, a socket re-checks its
person (active account, valid session, still allowed to watch) when its last check is older
than presence.ACCESS_CHECK_SECONDS, when the layer was unreachable in between, or when the
timeline's seq jumps (an event was lost, perhaps a removal); the presence refresh re-checks
too. Between checks, forwarding a live event costs no query.

To the browser, besides events and presence: {"type": "status", "live": true|false}, sent
once subscribed and whenever the layer is lost or back (the room shows "Live" or "Live
updates paused").
"""

import asyncio
import json
import logging
import secrets
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import events, presence
from .models import EntryKind

logger = logging.getLogger(__name__)

# Events after which a recipient's own access may have changed.
ACCESS_EVENTS = {
    f"timeline.{EntryKind.MEMBER_REMOVED}",
    f"timeline.{EntryKind.ROLE_CHANGED}",
    f"timeline.{EntryKind.LEAD_HANDED_OVER}",
}

# Messages from the channel layer. Their handlers use the database only through
# database_sync_to_async, which closes stale connections in the thread that uses them.
LAYER_EVENTS = {
    events.EVENT_TYPE,
    "session.ended",
    "presence.here",
    "presence.left",
    "presence.roster",
    "presence.tick",
    "user.tick",
}

# The consumer's clock for access re-checks (tests move it on).
clock = time.monotonic


def _registry(function):
    """The presence registry (a cache, never the database) off the event loop and off
    Channels' one shared sync thread."""
    return sync_to_async(function, thread_sensitive=False)


async def arrival_window():
    """Wait while an incident's arrivals accumulate (tests hold it open)."""
    await asyncio.sleep(presence.ARRIVAL_WINDOW_SECONDS)


# The arrivals' rosters waiting for their window, kept referenced until sent (the event
# loop holds tasks only weakly).
_arrivals = set()


async def _announce_arrivals(layer, incident_id: int):
    """Once the window closes, one roster to the incident's pages, read then: everyone who
    arrived meanwhile is in it. Runs on its own, whether the socket that claimed the window
    is still open or not."""
    await arrival_window()
    message = await _registry(presence.arrivals_roster)(incident_id)
    if message is None:
        return
    try:
        await layer.group_send(events.presence_group(incident_id), message)
    except Exception:
        # The pages learn of these arrivals with the next periodic roster.
        logger.warning("Could not announce the arrivals on incident %s", incident_id)


LIVE = {"type": "status", "live": True}
PAUSED = {"type": "status", "live": False}


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """A signed-in person's live socket. Subclasses say which groups it joins (`groups_to_join`),
    what an access check reads (`_check`, returning an object with `close`) and what it
    keeps of it (`_apply`), and what its timer sends itself (`tick_type`)."""

    tick_type = ""  # a layer message type, in LAYER_EVENTS

    async def dispatch(self, message):
        """Channels' dispatch hops to its one shared sync thread (to close stale database
        connections) before every message. For live events that is one hop per watcher per
        event, all queued on that thread and each waiting for the GIL while views render:
        it was most of a burst's delay (docs/benchmarks.md). Layer events are therefore
        handled directly; socket messages (connect, receive, disconnect) keep Channels'
        path."""
        if message["type"] in LAYER_EVENTS:
            await getattr(self, message["type"].replace(".", "_"))(message)
        else:
            await super().dispatch(message)

    async def connect(self):
        self.joined = []
        self.ticker = None
        self.closed = False
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        session = self.scope.get("session")
        self.session_key = session.session_key if session else None
        self.session_tag = events.session_tag(self.session_key or "")
        # Access bookkeeping (see the module's docstring): the last seq seen per incident.
        self.last_seqs = {}
        self.checked_at = 0.0
        self.stale = False
        self.layer_down = False
        self.subscribed = False  # the groups are joined
        self._setup()
        if not await self._recheck():
            return
        try:
            for group in self.groups_to_join():
                await self._join(group)
        except Exception:
            # Without the groups this socket would stay silent while showing "Live": say
            # so with a code the client understands (it shows "paused" and retries).
            logger.warning("Live updates unavailable (channel layer): %s", self.scope["path"])
            await self._leave_groups()
            await self.accept()
            await self.close(code=4503)
            return
        self.subscribed = True
        await self.accept()
        await self.send_json(LIVE)
        await self._started()
        self.ticker = asyncio.create_task(self._tick_forever())

    def _setup(self):
        """The subclass's own state, before the first access check."""

    def groups_to_join(self) -> list[str]:
        raise NotImplementedError

    async def _started(self):
        """Accepted, subscribed and said so."""

    async def disconnect(self, code):
        if self.ticker is not None:
            self.ticker.cancel()
            await self._stopping()
        await self._leave_groups()

    async def _stopping(self):
        """The socket was live and is closing (its groups are still joined)."""

    async def _join(self, group):
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.append(group)

    async def _leave(self, group):
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:
            logger.warning("Could not leave the channel group %s", group)
        if group in self.joined:
            self.joined.remove(group)

    async def _leave_groups(self):
        for group in list(self.joined):
            await self._leave(group)
        self.joined = []

    async def close(self, code=None, reason=None):
        self.closed = True
        await super().close(code=code, reason=reason)

    async def send(self, text_data=None, bytes_data=None, close=False):
        # Once we have closed the socket, group messages may still arrive until the
        # disconnect is processed: the ASGI server would refuse to send them (an error).
        if not self.closed:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def session_ended(self, message):
        if message["session"] == self.session_tag:
            await self.close(code=4401)

    async def _tick_forever(self):
        while True:
            await asyncio.sleep(presence.REFRESH_SECONDS)
            try:
                await self.channel_layer.send(self.channel_name, {"type": self.tick_type})
            except Exception:
                await self._layer_lost()

    # Access

    async def _may_forward(self, seq=None, incident=None) -> bool:
        """May this socket forward a message now? Re-checks access first when the last
        check is old, the layer was lost since, or an incident's seq jumped (an event,
        maybe a removal, never arrived); otherwise costs nothing."""
        if self.closed:
            return False
        last = self.last_seqs.get(incident, 0)
        gap = seq is not None and last and seq > last + 1
        if seq is not None:
            self.last_seqs[incident] = max(last, seq)
        if self.layer_down:
            self.layer_down = False  # a message came through: the layer is back
            self.stale = True
            if not await self._recheck():
                return False
            await self.send_json(LIVE)  # the client fetches what it missed
            return True
        if self.stale or gap or clock() - self.checked_at >= presence.ACCESS_CHECK_SECONDS:
            return await self._recheck()
        return True

    async def _recheck(self) -> bool:
        """Re-read the person's access; close the socket (4401/4403) if it is gone."""
        access = await self._check()
        self.checked_at = clock()
        self.stale = False
        if access.close is not None:
            if access.close == 4401:
                logger.info("Closing a socket whose session ended (user %s)", self.user.pk)
            await self.close(code=access.close)
            return False
        await self._apply(access)
        return True

    async def _check(self):
        raise NotImplementedError

    async def _apply(self, access):
        """Keep what the check read (it allowed the socket to go on)."""

    async def _layer_lost(self):
        """The channel layer refused a send: events may be missed from now on. Tell the
        page (it shows "Live updates paused") and re-check access before forwarding
        anything once the layer is back (a removal or a logout may have been lost)."""
        if self.layer_down or self.closed:
            return
        logger.warning("Channel layer unreachable: socket %s paused", self.scope["path"])
        self.layer_down = True
        self.stale = True
        await self.send_json(PAUSED)


class IncidentConsumer(LiveConsumer):
    tick_type = "presence.tick"

    def _setup(self):
        self.incident_id = int(self.scope["url_route"]["kwargs"]["pk"])
        # Presence state of this socket (one per open page).
        self.conn = secrets.token_urlsafe(9)
        self.since = presence.roster_clock()  # orders the roster (shared by processes)
        self.editing = None
        self.pending = presence.NOTHING
        self.budget = presence.Budget()
        self.may_edit = False

    def groups_to_join(self):
        return [
            events.incident_group(self.incident_id),
            events.presence_group(self.incident_id),
            events.user_group(self.user.pk),
        ]

    async def _started(self):
        """Record this socket in the roster and send the page the whole roster (one
        message, read in the same step, unless it lists nobody else). The others learn of
        the arrival from the window's roster (presence.arrive): if this socket is the
        window's first arrival, it schedules that roster; otherwise it says nothing. Nobody
        answers: what they would say is in the roster."""
        entries, claimed = await _registry(presence.arrive)(
            self.incident_id, self.user.pk, self.conn, entry=self._entry()
        )
        if claimed:
            task = asyncio.create_task(_announce_arrivals(self.channel_layer, self.incident_id))
            _arrivals.add(task)
            task.add_done_callback(_arrivals.discard)
        if self.closed:
            return
        roster = presence.roster_message(entries, presence.roster_clock())
        copy = presence.roster_for(roster, self.user.pk)
        if copy is not None:
            await self.send_json(copy)

    async def _stopping(self):
        await _registry(presence.mark_left)(self.incident_id, self.user.pk, self.conn)
        group = events.presence_group(self.incident_id)
        try:
            await self.channel_layer.group_send(group, presence.left_message(self.conn, self.user))
        except Exception:
            logger.warning("Could not announce a departure on incident %s", self.incident_id)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Clients send only tiny presence messages: anything else is dropped undecoded."""
        if not text_data or len(text_data) > presence.MAX_MESSAGE_LENGTH:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        """{"editing": <statement id or null>}; everything else is ignored."""
        wanted = presence.requested_editing(content)
        if wanted is presence.NOTHING:
            return
        if not self.budget.take():
            self.pending = wanted  # over budget: the next refresh applies the latest
            return
        self.pending = presence.NOTHING
        await self._set_editing(wanted)

    async def incident_event(self, message):
        # The person's own signals come through their group: no incident, no seq.
        incident = self.incident_id if message.get("seq") is not None else None
        if not await self._may_forward(message.get("seq"), incident):
            return
        await self.send(text_data=message["text"])  # encoded once by the publisher
        if message["event"] in ACCESS_EVENTS:
            await self._recheck()

    # Presence

    async def presence_here(self, message):
        """A delta: someone changed what they edit (arrivals come in rosters)."""
        if message["user"] == self.user.pk:
            return  # yourself, from this page or another one
        if await self._may_forward():
            await self.send_json(presence.for_client(message))

    async def presence_left(self, message):
        if message["user"] != self.user.pk and await self._may_forward():
            await self.send_json(presence.for_client(message))

    async def presence_roster(self, message):
        """The incident's roster: the periodic one (one per incident per period, not per
        socket) or the one announcing a window's arrivals."""
        copy = presence.roster_for(message, self.user.pk)
        if copy is not None and await self._may_forward():
            await self.send_json(copy)

    async def presence_tick(self, message):
        """Sent to itself every REFRESH_SECONDS, so it runs in turn with the other messages.
        It came through the layer: if the layer was lost, it is back. It also re-checks
        access when the last check is old, so a silent incident does not keep a socket
        open for someone who lost access. Then it renews this socket's roster entry, and
        sends the roster to the incident's pages if no socket did in this period."""
        if not await self._may_forward():
            return
        if self.pending is not presence.NOTHING:
            wanted, self.pending = self.pending, presence.NOTHING
            await self._set_editing(wanted)
        if self.closed:
            return
        roster = await _registry(presence.refresh)(
            self.incident_id, self.user.pk, self.conn, self._entry()
        )
        if roster is None or self.closed:
            return
        try:
            await self.channel_layer.group_send(events.presence_group(self.incident_id), roster)
        except Exception:
            await self._layer_lost()

    def _entry(self) -> dict:
        return {**presence.entry(self.conn, self.user, self.editing), "since": self.since}

    async def _set_editing(self, wanted) -> bool:
        """Claim (or release) a statement; True if it changed and was announced."""
        if wanted == self.editing:
            return False
        if wanted is not None and not (self.may_edit and await self._is_editable(wanted)):
            return False  # observers, staff, other incidents' or final statements
        self.editing = wanted
        await self._announce()
        return True

    async def _announce(self):
        """Record this socket's new state in the roster, then send the delta."""
        if self.closed:
            return  # a late announcement must not outlive the goodbye
        await _registry(presence.mark_here)(
            self.incident_id, self.user.pk, self.conn, entry=self._entry()
        )
        await self._send_here()

    async def _send_here(self):
        message = presence.here_message(self.conn, self.user, self.editing)
        try:
            await self.channel_layer.group_send(events.presence_group(self.incident_id), message)
        except Exception:
            await self._layer_lost()

    # Access

    async def _apply(self, access):
        self.may_edit = access.may_edit
        last = self.last_seqs.get(self.incident_id, 0)
        self.last_seqs[self.incident_id] = max(last, access.last_seq)
        if not self.may_edit and self.editing is not None:
            self.editing = None  # e.g. now an observer
            await self._announce()

    @database_sync_to_async
    def _check(self) -> presence.Access:
        return presence.recheck(self.user, self.session_key, self.incident_id)

    @database_sync_to_async
    def _is_editable(self, statement_id: int) -> bool:
        return presence.is_editable(self.incident_id, statement_id)


class UserConsumer(LiveConsumer):
    """ws/me/: the person's signals, and the events of the incidents they work on. Clients
    send nothing; whatever they send is ignored."""

    tick_type = "user.tick"

    def _setup(self):
        self.wanted = frozenset()  # the incidents to follow, as last read
        self.following = set()  # the incidents whose groups this socket joined

    def groups_to_join(self):
        return [events.user_group(self.user.pk)] + [
            events.incident_group(pk) for pk in sorted(self.wanted)
        ]

    async def _started(self):
        self.following = set(self.wanted)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        return  # nothing to say to this socket

    async def _not_for_me(self, message):
        """Presence goes to the incident's pages (events.presence_group), not here."""

    presence_here = presence_left = presence_roster = presence_tick = _not_for_me

    async def incident_event(self, message):
        # Messages of the person's group carry no incident; an incident's carry its id.
        incident = message.get("incident")
        if incident is not None and incident not in self.following:
            return  # a group just left: its last messages may still be on their way
        if not await self._may_forward(message.get("seq"), incident):
            return
        await self.send(text_data=message["text"])  # encoded once by the publisher
        if message["event"] in ACCESS_EVENTS or message.get("signal") == (
            events.MEMBERSHIPS_CHANGED
        ):
            await self._recheck()

    async def user_tick(self, message):
        """Sent to itself every REFRESH_SECONDS: the layer works (if it was lost, it is
        back) and, when the last check is old, access is re-checked."""
        await self._may_forward()

    async def _apply(self, access):
        self.wanted = access.incidents
        if self.subscribed:
            await self._follow()

    async def _follow(self):
        """Leave the incidents no longer wanted, join the new ones."""
        for pk in sorted(self.following - self.wanted):
            await self._leave(events.incident_group(pk))
            self.following.discard(pk)
            self.last_seqs.pop(pk, None)
        for pk in sorted(self.wanted - self.following):
            try:
                await self._join(events.incident_group(pk))
            except Exception:
                await self._layer_lost()  # re-checked, so joined, once the layer is back
                return
            self.following.add(pk)

    @database_sync_to_async
    def _check(self) -> presence.UserAccess:
        return presence.recheck_user(self.user, self.session_key)
