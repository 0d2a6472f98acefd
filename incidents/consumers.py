"""The incident room's WebSocket: authenticate, authorize, join the groups, forward events,
and carry presence (who has the incident open, who is editing which statement: see
incidents/presence.py). It never writes to the database.

Close codes: 4401 not signed in / session ended, 4403 not (or no longer) in the cell.
The Origin header is checked before this consumer runs (AllowedHostsOriginValidator).
"""

import asyncio
import json
import logging
import secrets

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
        may_watch, self.may_edit = await self._access()
        if not may_watch:
            await self.close(code=4403)
            return
        session = self.scope.get("session")
        self.session_tag = events.session_tag(session.session_key if session else "")
        # Presence state of this socket (one per open page).
        self.conn = secrets.token_urlsafe(9)
        self.editing = None
        self.pending = presence.NOTHING
        self.budget = presence.Budget()
        for group in (events.incident_group(self.incident_id), events.user_group(user.pk)):
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.accept()
        await self._announce(hello=True)
        self.ticker = asyncio.create_task(self._tick_forever())

    async def disconnect(self, code):
        if self.ticker is not None:
            self.ticker.cancel()
            group = events.incident_group(self.incident_id)
            await self.channel_layer.group_send(group, presence.left_message(self.conn, self.user))
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

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
        await self.send(text_data=message["text"])  # encoded once by the publisher
        if message["event"] not in ACCESS_EVENTS:
            return
        may_watch, self.may_edit = await self._access()
        if not may_watch:
            await self.close(code=4403)
        elif not self.may_edit and self.editing is not None:
            self.editing = None  # e.g. now an observer
            await self._announce()

    async def session_ended(self, message):
        if message["session"] == self.session_tag:
            await self.close(code=4401)

    # Presence

    async def presence_here(self, message):
        if message["user"] == self.user.pk:
            return  # yourself, from this page or another one
        await self.send_json(presence.for_client(message))
        if message["reply_to"]:
            reply = presence.here_message(self.conn, self.user, self.editing)
            await self.channel_layer.send(message["reply_to"], reply)

    async def presence_left(self, message):
        if message["user"] != self.user.pk:
            await self.send_json(presence.for_client(message))

    async def presence_tick(self, message):
        """Sent to itself every REFRESH_SECONDS, so it runs in turn with the other messages."""
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
        await self.channel_layer.group_send(events.incident_group(self.incident_id), message)

    async def _tick_forever(self):
        while True:
            await asyncio.sleep(presence.REFRESH_SECONDS)
            try:
                await self.channel_layer.send(self.channel_name, {"type": "presence.tick"})
            except Exception:
                logger.warning("Could not refresh presence on incident %s", self.incident_id)

    @database_sync_to_async
    def _access(self) -> tuple[bool, bool]:
        return presence.access(self.user, self.incident_id)

    @database_sync_to_async
    def _is_editable(self, statement_id: int) -> bool:
        return presence.is_editable(self.incident_id, statement_id)
