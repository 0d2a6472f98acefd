"""The incident room's WebSocket: authenticate, authorize, join the groups, forward events,
and carry presence (who has the incident open, who is editing which statement: see
incidents/presence.py). It never writes to the database.

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
    "presence.tick",
}

# The consumer's clock for access re-checks (tests move it on).
clock = time.monotonic


def _registry(function):
    """The presence registry (a cache, never the database) off the event loop and off
    Channels' one shared sync thread."""
    return sync_to_async(function, thread_sensitive=False)


LIVE = {"type": "status", "live": True}
PAUSED = {"type": "status", "live": False}


class IncidentConsumer(AsyncJsonWebsocketConsumer):
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
        self.incident_id = int(self.scope["url_route"]["kwargs"]["pk"])
        session = self.scope.get("session")
        self.session_key = session.session_key if session else None
        self.session_tag = events.session_tag(self.session_key or "")
        # Presence state of this socket (one per open page).
        self.conn = secrets.token_urlsafe(9)
        self.editing = None
        self.pending = presence.NOTHING
        self.budget = presence.Budget()
        # Access bookkeeping (see the module's docstring).
        self.may_edit = False
        self.last_seq = 0
        self.checked_at = 0.0
        self.stale = False
        self.layer_down = False
        if not await self._recheck():
            return
        try:
            for group in (events.incident_group(self.incident_id), events.user_group(user.pk)):
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)
        except Exception:
            # Without the groups this socket would stay silent while showing "Live": say
            # so with a code the client understands (it shows "paused" and retries).
            logger.warning(
                "Live updates unavailable (channel layer): incident %s", self.incident_id
            )
            await self._leave_groups()
            await self.accept()
            await self.close(code=4503)
            return
        await self.accept()
        await self.send_json(LIVE)
        await self._announce(hello=True)
        self.ticker = asyncio.create_task(self._tick_forever())

    async def disconnect(self, code):
        if self.ticker is not None:
            self.ticker.cancel()
            group = events.incident_group(self.incident_id)
            try:
                await self.channel_layer.group_send(
                    group, presence.left_message(self.conn, self.user)
                )
            except Exception:
                logger.warning("Could not announce a departure on incident %s", self.incident_id)
            await _registry(presence.mark_left)(self.incident_id, self.user.pk, self.conn)
        await self._leave_groups()

    async def _leave_groups(self):
        for group in self.joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.warning("Could not leave the channel group %s", group)
        self.joined = []

    async def close(self, code=None, reason=None):
        self.closed = True
        await super().close(code=code, reason=reason)

    async def send(self, text_data=None, bytes_data=None, close=False):
        # Once we have closed the socket, group messages may still arrive until the
        # disconnect is processed: the ASGI server would refuse to send them (an error).
        if not self.closed:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

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
        if not await self._may_forward(message.get("seq")):
            return
        await self.send(text_data=message["text"])  # encoded once by the publisher
        if message["event"] in ACCESS_EVENTS:
            await self._recheck()

    async def session_ended(self, message):
        if message["session"] == self.session_tag:
            await self.close(code=4401)

    # Presence

    async def presence_here(self, message):
        if message["user"] == self.user.pk:
            return  # yourself, from this page or another one
        if not await self._may_forward():
            return
        await self.send_json(presence.for_client(message))
        if message["reply_to"]:
            reply = presence.here_message(self.conn, self.user, self.editing)
            try:
                await self.channel_layer.send(message["reply_to"], reply)
            except Exception:
                await self._layer_lost()

    async def presence_left(self, message):
        if message["user"] != self.user.pk and await self._may_forward():
            await self.send_json(presence.for_client(message))

    async def presence_tick(self, message):
        """Sent to itself every REFRESH_SECONDS, so it runs in turn with the other messages.
        It came through the layer: if the layer was lost, it is back. It also re-checks
        access when the last check is old, so a silent incident does not keep a socket
        open for someone who lost access."""
        if not await self._may_forward():
            return
        if self.pending is not presence.NOTHING:
            wanted, self.pending = self.pending, presence.NOTHING
            if await self._set_editing(wanted):
                return  # that was an announcement already
        await self._announce()

    async def _set_editing(self, wanted) -> bool:
        """Claim (or release) a statement; True if it changed and was announced."""
        if wanted == self.editing:
            return False
        if wanted is not None and not (self.may_edit and await self._is_editable(wanted)):
            return False  # observers, staff, other incidents' or final statements
        self.editing = wanted
        await self._announce()
        return True

    async def _announce(self, hello=False):
        reply_to = self.channel_name if hello else None
        message = presence.here_message(self.conn, self.user, self.editing, reply_to)
        try:
            await self.channel_layer.group_send(events.incident_group(self.incident_id), message)
        except Exception:
            await self._layer_lost()
        if not self.closed:  # a late announcement must not outlive the goodbye
            await _registry(presence.mark_here)(self.incident_id, self.user.pk, self.conn)

    async def _tick_forever(self):
        while True:
            await asyncio.sleep(presence.REFRESH_SECONDS)
            try:
                await self.channel_layer.send(self.channel_name, {"type": "presence.tick"})
            except Exception:
                await self._layer_lost()

    # Access

    async def _may_forward(self, seq=None) -> bool:
        """May this socket forward a message now? Re-checks access first when the last
        check is old, the layer was lost since, or the timeline's seq jumped (an event,
        maybe a removal, never arrived); otherwise costs nothing."""
        if self.closed:
            return False
        gap = seq is not None and self.last_seq and seq > self.last_seq + 1
        if seq is not None:
            self.last_seq = max(self.last_seq, seq)
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
        self.may_edit = access.may_edit
        self.last_seq = max(self.last_seq, access.last_seq)
        if not self.may_edit and self.editing is not None:
            self.editing = None  # e.g. now an observer
            await self._announce()
        return True

    async def _layer_lost(self):
        """The channel layer refused a send: events may be missed from now on. Tell the
        page (it shows "Live updates paused") and re-check access before forwarding
        anything once the layer is back (a removal or a logout may have been lost)."""
        if self.layer_down or self.closed:
            return
        logger.warning("Channel layer unreachable: incident %s socket paused", self.incident_id)
        self.layer_down = True
        self.stale = True
        await self.send_json(PAUSED)

    @database_sync_to_async
    def _check(self) -> presence.Access:
        return presence.recheck(self.user, self.session_key, self.incident_id)

    @database_sync_to_async
    def _is_editable(self, statement_id: int) -> bool:
        return presence.is_editable(self.incident_id, statement_id)
