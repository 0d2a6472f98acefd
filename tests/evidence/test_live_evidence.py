"""Evidence reaches the room live: the timeline entry (with its seq), then a `signal` event
(no seq) when the thumbnail is ready, so the panel refreshes without touching resync."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from incidents.evidence import actions
from tests.evidence.conftest import png_bytes, upload
from tests.incidents.test_consumer import session_cookie, socket

pytestmark = pytest.mark.django_db(transaction=True)


async def next_event(communicator):
    while True:
        payload = await communicator.receive_json_from(timeout=5)
        if payload.get("type") != "presence":
            return payload


def test_added_evidence_then_its_thumbnail_arrive_live(incident, drafter, observer):
    key = session_cookie(observer)[1]

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        items = await sync_to_async(actions.evidence_attach)(
            incident=incident,
            actor=drafter,
            files=[upload(png_bytes())],
            metadata={"author_handle": "@hater"},
        )
        entry = await next_event(communicator)
        assert entry["entry"]["kind"] == "evidence_added"
        assert entry["entry"]["data"]["sha256"] == items[0].sha256
        assert "@hater" in entry["html"]["en"]["entry"]
        signal = await next_event(communicator)
        assert signal == {
            "event": "signal",
            "signal": "evidence-changed",
            "incident_id": incident.pk,
            "panels": ["evidence"],
            "evidence": items[0].pk,
        }
        await communicator.disconnect()

    async_to_sync(scenario)()
