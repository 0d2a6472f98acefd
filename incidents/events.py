"""Live events: channel group names, payloads, and publication after commit.

Every event carries the incident's latest timeline `seq`, so a client that reconnects can
ask for `?after=<seq>` and miss nothing. The payload embeds the timeline entry serialized
exactly as the API returns it, so the live view and the history can never disagree.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

EVENT_TYPE = "incident.event"


def incident_group(incident_id: int) -> str:
    return f"incident_{incident_id}"


def entry_event(entry, incident) -> dict:
    from .api.serializers import IncidentStateSerializer, TimelineEntrySerializer

    return {
        "event": f"timeline.{entry.kind}",
        "incident_id": incident.pk,
        "seq": entry.seq,
        "entry": TimelineEntrySerializer(entry).data,
        "incident": IncidentStateSerializer(incident).data,
    }


def publish_on_commit(incident_id: int, payload: dict) -> None:
    """Send `payload` to everyone watching the incident, only once the transaction commits:
    a rolled-back action must never have been seen live."""
    transaction.on_commit(lambda: _publish(incident_id, payload))


def _publish(incident_id: int, payload: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            incident_group(incident_id), {"type": EVENT_TYPE, "payload": payload}
        )
    except Exception:
        # The write is committed and the timeline holds it; clients resync with ?after=.
        logger.exception("Could not publish live event for incident %s", incident_id)
