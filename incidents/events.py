"""Live events: channel group names, payloads, and publication after commit.

Every event carries the incident's latest timeline `seq`, so a client that reconnects can
ask for `?after=<seq>` and miss nothing. The payload embeds the timeline entry serialized
exactly as the API returns it, so the live view and the history can never disagree, and
the names of the room's panels it changes (`panels`, decided in `incidents/panels.py`).
"""

import functools
import hashlib
import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import panels

logger = logging.getLogger(__name__)

EVENT_TYPE = "incident.event"

# A user signal: the person joined, left or changed role in a cell. Their pages refresh
# (panels.SIGNAL_PANELS) and their own socket (consumers.UserConsumer) re-reads which
# incidents it follows.
MEMBERSHIPS_CHANGED = "memberships-changed"

# Timeline kinds that change someone's membership, and where their entry names them.
_MEMBERSHIP_KINDS = {"member_added", "member_removed", "role_changed"}

# A user signal: a promotion freeze their banner shows (base.html, every page) was set or
# lifted (panels.SIGNAL_PANELS). Sent to each person who sees the incident's banner,
# whatever the incident's status: their own group reaches every page they have open, the
# ws/me/ ones (which follow only open incidents) and the rooms of other incidents alike.
PROMOTION_FREEZE_CHANGED = "promotion-freeze-changed"
_FREEZE_KINDS = {"promotion_freeze_set", "promotion_freeze_lifted"}


def incident_group(incident_id: int) -> str:
    return f"incident_{incident_id}"


def presence_group(incident_id: int) -> str:
    """Presence (who has the incident open) goes to the incident's pages only: not to the
    person sockets (ws/me/) that follow the incident's events for a dashboard."""
    return f"presence_{incident_id}"


def user_group(user_id: int) -> str:
    return f"user_{user_id}"


def session_tag(session_key: str) -> str:
    """Names a browser session in messages without sending its key through Redis."""
    return hashlib.sha256(f"session:{session_key}".encode()).hexdigest()[:24]


# Rendered entries are kept this long in each process's cache (an entry never changes).
ENTRY_HTML_SECONDS = 3600


def entries_html(entries, language: str) -> str:
    """The entries' HTML in `language`, times in the site's zone marked for the page to
    re-localize (`data-local`): the same for every viewer, so each entry is rendered once
    per language and process and kept in the default cache, keyed by its hash (entries are
    append-only). A live event fills it; the resyncs of many pages after a blip read it."""
    keys = {f"entry-html:{e.incident_id}:{e.seq}:{e.hash}:{language}": e for e in entries}
    found = cache.get_many(keys)
    missing = {key: entry for key, entry in keys.items() if key not in found}
    if missing:
        with timezone.override(settings.TIME_ZONE), translation.override(language):
            for key, entry in missing.items():
                context = {"entry": entry, "live": True}
                found[key] = render_to_string("incidents/_entry.html", context)
        cache.set_many({key: found[key] for key in missing}, ENTRY_HTML_SECONDS)
    return "".join(found[key] for key in keys)


def fragments(entry, incident) -> dict:
    """The HTML every watcher needs, rendered once per event and language (not once per
    recipient): the timeline entry and the header's chips and countdown. Times are in the
    site's zone; the page re-localizes them to the viewer's. Called after commit only
    (`publish_entry`): never while the incident lock is held."""
    rendered = {}
    with timezone.override(settings.TIME_ZONE):
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                context = {"entry": entry, "incident": incident, "live": True}
                rendered[code] = {
                    "entry": entries_html([entry], code),
                    "chips": render_to_string("incidents/_chips.html", context),
                    "countdown": render_to_string("incidents/_countdown.html", context),
                }
    return rendered


@functools.cache
def _serializers():
    """One instance of each serializer per process, its fields built once: building a
    ModelSerializer's fields (model introspection, nested serializers) costs several times
    the representation itself. The instances hold no data and no context, so every thread
    may use them."""
    from .api.serializers import IncidentStateSerializer, TimelineEntrySerializer

    entry, incident = TimelineEntrySerializer(), IncidentStateSerializer()
    entry.fields, incident.fields  # noqa: B018 - build (and keep) the fields now
    return entry, incident


def entry_data(entry) -> dict:
    """The entry as the API returns it (`TimelineEntrySerializer`), for the live event and
    the timeline POST's answer alike."""
    return _serializers()[0].to_representation(entry)


def entry_event(entry, incident) -> dict:
    """The live event of a committed entry: `incident` is the incident as committed (the
    header's state). Its first keys are "event", "incident_id", "seq", in that order
    (bench/fanout.py reads them from the text's first bytes)."""
    return {
        "event": f"timeline.{entry.kind}",
        "incident_id": incident.pk,
        "seq": entry.seq,
        "entry": entry_data(entry),
        "incident": _serializers()[1].to_representation(incident),
        "html": fragments(entry, incident),
        "panels": panels.entry_panels(entry.kind),
    }


def event_message(payload: dict) -> dict:
    """The channel-layer message: the payload encoded to JSON once here, so consumers
    forward the same text to every socket instead of encoding it once per recipient."""
    text = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False)
    # `seq` lets a consumer notice a lost event (and re-check its person's access); a
    # person's socket follows several incidents (`incident`) and acts on some signals.
    return {
        "type": EVENT_TYPE,
        "event": payload.get("event", ""),
        "seq": payload.get("seq"),
        "incident": payload.get("incident_id"),
        "signal": payload.get("signal"),
        "text": text,
    }


def members_changed(kind: str, data: dict) -> set[int]:
    """The users whose membership a timeline entry of this kind changed: {} for most."""
    if kind in _MEMBERSHIP_KINDS:
        return {data["user"]} if data.get("user") else set()
    if kind == "lead_handed_over":
        return {side["user"] for side in (data.get("old"), data.get("new")) if side}
    return set()


def publish_entry(entry, incident) -> None:
    """After commit: the entry's live event to the incident's watchers; when it changed
    someone's membership, MEMBERSHIPS_CHANGED to that person (their dashboard and inbox,
    which sockets watch the incident); when it set or lifted the promotion freeze,
    PROMOTION_FREEZE_CHANGED to everyone whose banner shows it.

    Called under the incident lock (`actions.timeline_record`), so it only registers: the
    event is serialized and rendered after COMMIT, from the stored entry (append-only: the
    object is the committed row) and the incident re-read once per commit (the committed
    header state, whatever the action changed after recording). An action that records
    several entries sends one event per entry, each with its own entry and `seq`, in the
    order they were written."""
    batch = _CommitBatch.current()
    transaction.on_commit(lambda: batch.publish(entry, incident.pk))
    for user_id in sorted(members_changed(entry.kind, entry.data or {})):
        transaction.on_commit(lambda uid=user_id: publish_user_signal(uid, MEMBERSHIPS_CHANGED))
    if entry.kind in _FREEZE_KINDS:
        transaction.on_commit(lambda: publish_freeze_changed(incident.pk))


class _CommitBatch:
    """The live events of one transaction: reads each incident once, after the commit,
    for all the entries the transaction recorded on it. Kept on the (thread-local) database
    connection; a batch whose commit has run is never reused, and one whose transaction
    rolled back has read nothing, so the next transaction may take it over."""

    def __init__(self):
        self.committed: dict[int, object] = {}
        self.started = False

    @classmethod
    def current(cls) -> "_CommitBatch":
        connection = transaction.get_connection()
        batch = getattr(connection, "_live_commit_batch", None)
        if batch is None or batch.started:
            batch = connection._live_commit_batch = cls()
        return batch

    def publish(self, entry, incident_id: int) -> None:
        from .models import Incident

        self.started = True
        try:
            if incident_id not in self.committed:
                self.committed[incident_id] = Incident.objects.get(pk=incident_id)
            payload = entry_event(entry, self.committed[incident_id])
        except Exception:
            # The write is committed (the timeline holds it); clients resync with ?after=.
            logger.exception("Could not build the live event of incident %s", incident_id)
            return
        _publish(incident_id, payload)


def publish_on_commit(incident_id: int, payload: dict) -> None:
    """Send `payload` to everyone watching the incident, only once the transaction commits:
    a rolled-back action must never have been seen live. `payload` is built by the caller,
    often under a lock: a few ids and names only (signals); it is encoded after commit."""
    transaction.on_commit(lambda: _publish(incident_id, payload))


def _publish(incident_id: int, payload: dict) -> None:
    message = event_message(payload)
    _send(incident_group(incident_id), message, f"live event of incident {incident_id}")


def _send(group: str, message: dict, what: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The write is committed (the timeline holds it); clients resync with ?after=.
        logger.exception("Could not publish the %s", what)


def signal_payload(incident_id: int, signal: str, **ids) -> dict:
    """An event that changes working state but not the timeline (a thumbnail is ready, a
    capture moved on): no `seq`, so it never touches the client's resync bookkeeping; the
    page refreshes the panels it names."""
    return {
        "event": "signal",
        "signal": signal,
        "incident_id": incident_id,
        "panels": panels.signal_panels(signal),
        **ids,
    }


def publish_signal(incident_id: int, signal: str, **ids) -> None:
    """Publish now: for callers outside any transaction (workers)."""
    _publish(incident_id, signal_payload(incident_id, signal, **ids))


def publish_signal_on_commit(incident_id: int, signal: str, **ids) -> None:
    publish_on_commit(incident_id, signal_payload(incident_id, signal, **ids))


def publish_user_signal(user_id: int, signal: str) -> None:
    """Tell every page this user has open (their own socket, or the incident socket of a
    room or statement page) to refresh the panels of `signal`."""
    payload = {"event": "signal", "signal": signal, "panels": panels.signal_panels(signal)}
    _send(user_group(user_id), event_message(payload), f"{signal} of user {user_id}")


def publish_freeze_changed(incident_id: int) -> None:
    """After commit: refresh the banner on every page of the people who see this incident's
    freeze (selectors.freeze_banner_viewers, the banner's own rule), read as committed."""
    from .selectors import freeze_banner_viewers

    for user_id in freeze_banner_viewers(incident_id):
        publish_user_signal(user_id, PROMOTION_FREEZE_CHANGED)


def publish_session_ended(user_id: int, session_key: str) -> None:
    """Close the WebSockets opened with this session (the user logged out)."""
    message = {"type": "session.ended", "session": session_tag(session_key)}
    _send(user_group(user_id), message, f"session end of user {user_id}")
