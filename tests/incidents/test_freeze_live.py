"""The promotion freeze banner (base.html, every signed-in page) refreshes live on every
page of the people who see it, whatever the incident's status: each member of the cell gets
its own signal, so a page that does not follow the incident (ws/me/ follows open incidents
only; a room follows its own incident) still refreshes. Outsiders get nothing. The real
ASGI application and the configured channel layer (in-memory, or Redis in production
mode)."""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from incidents import actions, events, panels
from tests.incidents.test_consumer import session_cookie, socket
from tests.incidents.test_user_socket import me

pytestmark = pytest.mark.django_db(transaction=True)

REFRESH = {
    "event": "signal",
    "signal": events.PROMOTION_FREEZE_CHANGED,
    "panels": [panels.PROMOTION_FREEZE],
}


def freeze(incident, lead, frozen):
    return sync_to_async(actions.incident_set_promotion_freeze)(
        incident=incident, actor=lead, frozen=frozen
    )


async def next_payload(communicator, timeout=3):
    """The next message that is not presence (a room also hears who has it open)."""
    while True:
        payload = json.loads((await communicator.receive_output(timeout))["text"])
        if payload.get("type") != "presence":
            return payload


async def heard(communicator, timeout=0.3) -> list[dict]:
    """Every message but presence that arrives until `timeout` passes in silence."""
    found = []
    while not await communicator.receive_nothing(timeout=timeout):
        payload = json.loads((await communicator.receive_output())["text"])
        if payload.get("type") != "presence":
            found.append(payload)
    return found


def move(incident, lead, *statuses):
    for status in statuses:
        actions.incident_transition(incident=incident, actor=lead, status=status)


def test_lifting_the_freeze_of_a_closed_incident_refreshes_its_members_banner_only(
    incident, lead, observer, outsider
):
    actions.incident_set_promotion_freeze(incident=incident, actor=lead, frozen=True)
    move(incident, lead, "active", "resolved", "closed")  # ws/me/ no longer follows it
    member, stranger = session_cookie(observer)[1], session_cookie(outsider)[1]

    async def scenario():
        theirs, others = me(member), me(stranger)
        assert (await theirs.connect())[0] and (await others.connect())[0]
        await freeze(incident, lead, False)
        assert await next_payload(theirs) == REFRESH
        assert await heard(theirs) == []  # once, and not the closed incident's event
        assert await heard(others) == []
        await theirs.disconnect()
        await others.disconnect()

    async_to_sync(scenario)()


def test_a_member_with_another_incidents_room_open_sees_a_monitoring_freeze_change(
    incident, declare, lead, drafter, outsider
):
    move(incident, lead, "active", "monitoring")
    elsewhere = declare(title="Another crisis the drafter works on")
    actions.member_add(incident=elsewhere, actor=lead, user=drafter, role="drafter")
    actions.member_add(incident=elsewhere, actor=lead, user=outsider, role="observer")
    member, stranger = session_cookie(drafter)[1], session_cookie(outsider)[1]

    async def scenario():
        theirs, others = socket(elsewhere, member), socket(elsewhere, stranger)
        assert (await theirs.connect())[0] and (await others.connect())[0]
        for frozen in (True, False):
            await freeze(incident, lead, frozen)
            assert await next_payload(theirs) == REFRESH
        assert await heard(others) == []
        await theirs.disconnect()
        await others.disconnect()

    async_to_sync(scenario)()
