"""A person's own WebSocket, ws/me/ (every signed-in page but the room and a statement's
page): authenticated like the room's, it carries the person's signals and the events of the
open incidents they are an active member of, following their memberships as they change.
The real ASGI application and the configured channel layer (in-memory, or Redis in
production mode)."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from crisiscell.asgi import application
from incidents import actions, events, presence
from tests.incidents.test_consumer import RoomSocket, session_cookie
from tests.incidents.test_socket_access import clock, layer  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

NOTIFICATIONS_CHANGED = "notifications-changed"


def me(session_key=None, origin="http://testserver"):
    headers = [(b"host", b"testserver")]
    if origin:
        headers.append((b"origin", origin.encode()))
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return RoomSocket(application, "/ws/me/", headers=headers)


def run(scenario):
    return async_to_sync(scenario)()


def note(incident, actor, text):
    return sync_to_async(actions.timeline_add_entry)(
        incident=incident, actor=actor, kind="note", text=text
    )


def signal(user, name=NOTIFICATIONS_CHANGED):
    return sync_to_async(events.publish_user_signal)(user.pk, name)


async def received(communicator, timeout=3):
    return json.loads((await communicator.receive_output(timeout))["text"])


def closed_with(code):
    return {"type": "websocket.close", "code": code}


def test_anonymous_sockets_are_refused():
    async def scenario():
        communicator = me()
        assert await communicator.connect() == (False, 4401)
        await communicator.disconnect()

    run(scenario)


def test_a_foreign_origin_is_refused(lead):
    key = session_cookie(lead)[1]

    async def scenario():
        for origin in ("https://evil.example", "http://testserver:8080", ""):
            communicator = me(key, origin=origin)
            assert (await communicator.connect())[0] is False
            await communicator.disconnect()

    run(scenario)


def test_a_signed_in_person_connects_and_gets_their_signals_only(drafter, approver):
    key = session_cookie(drafter)[1]

    async def scenario():
        communicator = me(key)
        assert (await communicator.connect())[0]
        await signal(approver)  # someone else's
        await signal(drafter)
        payload = await received(communicator)
        assert payload == {
            "event": "signal",
            "signal": NOTIFICATIONS_CHANGED,
            "panels": ["notifications", "incidents", "approvals"],
        }
        assert await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()

    run(scenario)


def test_it_follows_the_events_of_the_persons_incidents_only(
    incident, declare, lead, drafter, make_user
):
    other_lead = make_user("other-lead")
    elsewhere = declare(actor=other_lead, title="Someone else's crisis")
    key = session_cookie(drafter)[1]

    async def scenario():
        communicator = me(key)
        assert (await communicator.connect())[0]
        await note(elsewhere, other_lead, "not for the drafter")
        await sync_to_async(actions.incident_set_severity)(
            incident=incident, actor=lead, severity=4
        )
        payload = await received(communicator)
        assert payload["event"] == "timeline.severity_changed"
        assert payload["incident_id"] == incident.pk
        assert "incidents" in payload["panels"]  # the dashboard refreshes its list
        assert await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()

    run(scenario)


def test_being_added_to_a_cell_starts_following_it(declare, lead, drafter):
    incident = declare()
    key = session_cookie(drafter)[1]

    async def scenario():
        communicator = me(key)
        assert (await communicator.connect())[0]
        await note(incident, lead, "before the drafter joined")
        assert await communicator.receive_nothing(timeout=0.2)
        await sync_to_async(actions.member_add)(
            incident=incident, actor=lead, user=drafter, role="drafter"
        )
        # Their signals, in any order: the membership, and the bell's "added to a cell".
        signals = {}
        for _ in range(2):
            payload = await received(communicator)
            signals[payload["signal"]] = payload["panels"]
        # The banner too: joining a frozen incident's cell shows its freeze on every page.
        assert signals[events.MEMBERSHIPS_CHANGED] == ["incidents", "approvals", "promotion-freeze"]
        assert "notifications-changed" in signals
        await note(incident, lead, "after the drafter joined")
        payload = await received(communicator)
        assert payload["entry"]["text"] == "after the drafter joined"
        await communicator.disconnect()

    run(scenario)


def test_a_removal_stops_following_that_incident_but_keeps_the_socket(
    incident, declare, lead, drafter
):
    other = declare(title="Another incident")
    actions.member_add(incident=other, actor=lead, user=drafter, role="drafter")
    key = session_cookie(drafter)[1]

    async def scenario():
        communicator = me(key)
        assert (await communicator.connect())[0]
        await sync_to_async(actions.member_remove)(incident=incident, actor=lead, user=drafter)
        kinds = set()
        for _ in range(2):  # the entry (their own removal) and their signal, in any order
            payload = await received(communicator)
            kinds.add(payload.get("signal") or payload["event"])
        assert kinds == {"timeline.member_removed", events.MEMBERSHIPS_CHANGED}
        await note(incident, lead, "after the removal")
        await note(other, lead, "in the other incident")
        payload = await received(communicator)
        assert payload["entry"]["text"] == "in the other incident"
        assert await communicator.receive_nothing(timeout=0.2)  # still open, nothing else
        await communicator.disconnect()

    run(scenario)


def test_closed_incidents_are_not_followed_and_the_number_is_bounded(
    declare, lead, drafter, monkeypatch
):
    monkeypatch.setattr(presence, "MAX_FOLLOWED", 2)
    incidents = [declare(title=f"Incident {n}") for n in range(4)]
    for incident in incidents:
        actions.member_add(incident=incident, actor=lead, user=drafter, role="drafter")
    actions.incident_transition(incident=incidents[3], actor=lead, status="closed")
    followed = presence.followed_incidents(drafter)
    assert followed == {incidents[2].pk, incidents[1].pk}  # open ones, newest first


def test_logging_out_closes_the_sessions_socket(drafter):
    browser, key = session_cookie(drafter)

    async def scenario():
        communicator = me(key)
        assert (await communicator.connect())[0]
        response = await sync_to_async(browser.post)("/accounts/logout/")
        assert response.status_code == 302
        assert await communicator.receive_output(timeout=3) == closed_with(4401)
        await communicator.disconnect()

    run(scenario)


def test_a_deactivated_account_is_closed_by_the_periodic_check(
    drafter,
    django_user_model,
    clock,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr(presence, "REFRESH_SECONDS", 0.05)
    key = session_cookie(drafter)[1]

    async def scenario():
        communicator = me(key)
        assert (await communicator.connect())[0]
        await sync_to_async(django_user_model.objects.filter(pk=drafter.pk).update)(is_active=False)
        clock.later()
        assert await communicator.receive_output(timeout=3) == closed_with(4401)
        await communicator.disconnect()

    run(scenario)


def test_forwarding_costs_no_access_check_between_checks(
    incident,
    lead,
    drafter,
    clock,  # noqa: F811
):
    user_checks = []
    original = presence.recheck_user

    def counted(*args, **kwargs):
        user_checks.append(1)
        return original(*args, **kwargs)

    key = session_cookie(drafter)[1]

    async def scenario():
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(presence, "recheck_user", counted)
            communicator = me(key)
            assert (await communicator.connect())[0]
            for n in range(3):
                await note(incident, lead, f"burst {n}")
                assert (await received(communicator))["entry"]["text"] == f"burst {n}"
            await signal(drafter)
            assert (await received(communicator))["signal"] == NOTIFICATIONS_CHANGED
            await communicator.disconnect()

    run(scenario)
    assert len(user_checks) == 1  # the connect's check only


def test_a_handshake_during_an_outage_says_so_and_the_socket_resumes(
    drafter,
    layer,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr(presence, "REFRESH_SECONDS", 0.05)
    key = session_cookie(drafter)[1]

    async def scenario():
        layer.down = True
        communicator = me(key)
        assert await communicator.connect() == (False, 4503)
        await communicator.disconnect()
        layer.down = False
        again = me(key)
        assert (await again.connect())[0]
        layer.down = True
        assert await received(again) == {"type": "status", "live": False}
        await asyncio.sleep(0.15)  # several ticks fail: said once
        layer.down = False
        assert await received(again) == {"type": "status", "live": True}
        await again.disconnect()

    run(scenario)


def test_the_socket_ignores_what_clients_send(incident, drafter):
    key = session_cookie(drafter)[1]

    async def scenario():
        communicator = me(key)
        assert (await communicator.connect())[0]
        await communicator.send_json_to({"editing": 1})
        await communicator.send_to(text_data="x" * 10_000)
        assert await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()

    run(scenario)


def test_a_lead_hand_over_tells_both_people(incident, lead, drafter):
    """Memberships changed for the former lead and the new one: each gets the signal."""
    seen = {}
    keys = {user.pk: session_cookie(user)[1] for user in (lead, drafter)}

    async def scenario():
        sockets = {}
        for pk, key in keys.items():
            sockets[pk] = me(key)
            assert (await sockets[pk].connect())[0]
        await sync_to_async(actions.lead_hand_over)(incident=incident, actor=lead, to_user=drafter)
        for pk, communicator in sockets.items():
            messages = [await received(communicator) for _ in range(2)]
            seen[pk] = {m.get("signal") or m["event"] for m in messages}
            await communicator.disconnect()

    run(scenario)
    expected = {"timeline.lead_handed_over", events.MEMBERSHIPS_CHANGED}
    assert seen == {lead.pk: expected, drafter.pk: expected}


def test_presence_in_the_room_is_not_sent_to_the_persons_socket(incident, lead, drafter):
    """The room's presence chatter (every open room page, every 20 s) goes to the room's
    pages only; a stray presence message is ignored, not an error."""
    from channels.layers import get_channel_layer

    from tests.incidents.test_consumer import socket

    dashboard_key, room_key = session_cookie(drafter)[1], session_cookie(lead)[1]

    async def scenario():
        dashboard = me(dashboard_key)
        assert (await dashboard.connect())[0]
        room = socket(incident, room_key)
        assert (await room.connect())[0]  # announces itself to the presence group
        await get_channel_layer().group_send(
            events.incident_group(incident.pk), {"type": "presence.tick"}
        )
        assert await dashboard.receive_nothing(timeout=0.3)
        await note(incident, lead, "still following")
        assert (await received(dashboard))["entry"]["text"] == "still following"
        await room.disconnect()
        await dashboard.disconnect()

    run(scenario)
