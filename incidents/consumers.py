"""The incident room's WebSocket: authenticate, authorize, join the groups, forward events.
It never writes to the database.

Close codes: 4401 not signed in / session ended, 4403 not (or no longer) in the cell.
The Origin header is checked before this consumer runs (AllowedHostsOriginValidator).
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import events, permissions
from .models import EntryKind, Incident

# Events after which a recipient's own access may have changed.
ACCESS_EVENTS = {
    f"timeline.{EntryKind.MEMBER_REMOVED}",
    f"timeline.{EntryKind.ROLE_CHANGED}",
    f"timeline.{EntryKind.LEAD_HANDED_OVER}",
}

# Messages from the channel layer. Their handlers use the database only through
# database_sync_to_async, which closes stale connections in the thread that uses them.
LAYER_EVENTS = {events.EVENT_TYPE, "session.ended"}


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
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.incident_id = int(self.scope["url_route"]["kwargs"]["pk"])
        if not await self._may_watch():
            await self.close(code=4403)
            return
        session = self.scope.get("session")
        self.session_tag = events.session_tag(session.session_key if session else "")
        for group in (events.incident_group(self.incident_id), events.user_group(user.pk)):
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.accept()

    async def disconnect(self, code):
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """Clients only listen; anything they send is ignored."""

    async def incident_event(self, message):
        await self.send(text_data=message["text"])  # encoded once by the publisher
        if message["event"] in ACCESS_EVENTS and not await self._may_watch():
            await self.close(code=4403)

    async def session_ended(self, message):
        if message["session"] == self.session_tag:
            await self.close(code=4401)

    @database_sync_to_async
    def _may_watch(self) -> bool:
        incident = Incident.objects.filter(pk=self.incident_id).first()
        return incident is not None and permissions.can_view(self.user, incident)
