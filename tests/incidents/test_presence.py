"""Presence over the incident room's WebSocket: who has the incident open, who is editing
which statement. Through the real ASGI application and the configured channel layer."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from incidents import actions, events, presence
from incidents.models import TimelineEntry
from statements.models import Revision
from tests.incidents.test_consumer import run, session_cookie, socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_refresh_during_tests(monkeypatch):
    # Sockets re-announce themselves on a timer; tests that want it ask for it.
    monkeypatch.setattr(presence, "REFRESH_SECONDS", 3600)


async def opened(incident, user):
    communicator = socket(incident, await sync_to_async(lambda: session_cookie(user)[1])())
    connected, _ = await communicator.connect()
    assert connected
    return communicator


# The Redis pub/sub layer may deliver one presence message twice to a socket in the test
# process; browsers key presence by connection, so a repeat changes nothing there. The
# helpers below skip an exact repeat of the last message a socket received.
_last = {}


async def nothing_new(communicator, timeout):
    """True when nothing but a repeat of the last presence message arrives in `timeout`."""
    while not await communicator.receive_nothing(timeout=timeout):
        message = await communicator.receive_json_from()
        if message != _last.get(id(communicator)):
            return False
    return True


async def next_presence(communicator):
    """The next presence message, skipping timeline events (which carry a seq)."""
    message = await _next_presence(communicator)
    while message == _last.get(id(communicator)):
        message = await _next_presence(communicator)
    _last[id(communicator)] = dict(message)
    return message


async def _next_presence(communicator):
    while True:
        # Generous: a loaded CI machine may be slow; a passing run never waits this long.
        message = await communicator.receive_json_from(timeout=10)
        if message.get("type") == "presence":
            assert "seq" not in message
            return message
        assert isinstance(message["seq"], int)


def test_two_members_learn_of_each_other_and_of_a_departure(incident, lead, drafter):
    async def scenario():
        lead_ws = await opened(incident, lead)
        drafter_ws = await opened(incident, drafter)

        arrival = await next_presence(lead_ws)  # the newcomer announces itself
        conn = arrival.pop("conn")
        assert isinstance(conn, str) and conn
        assert arrival == {
            "type": "presence",
            "event": "here",
            "user": drafter.pk,
            "name": "drafter",
            "initials": "D",
            "editing": None,
        }
        answer = await next_presence(drafter_ws)  # those present answer it
        assert answer["event"] == "here" and answer["user"] == lead.pk
        assert (answer["name"], answer["initials"]) == ("Camille Laurent", "CL")
        assert answer["conn"] != conn
        assert await nothing_new(drafter_ws, 0.2)

        await drafter_ws.disconnect()
        assert await next_presence(lead_ws) == {
            "type": "presence",
            "event": "left",
            "conn": conn,
            "user": drafter.pk,
        }
        await lead_ws.disconnect()

    run(scenario)


def test_the_same_person_twice_is_two_connections_of_one_user(incident, lead, drafter):
    async def scenario():
        lead_ws = await opened(incident, lead)
        tabs = [await opened(incident, drafter), await opened(incident, drafter)]
        seen = [await next_presence(lead_ws), await next_presence(lead_ws)]
        assert {m["user"] for m in seen} == {drafter.pk}  # the page shows one person
        assert seen[0]["conn"] != seen[1]["conn"]
        for tab in tabs:  # each tab hears from the lead, never from the other tab
            assert (await next_presence(tab))["user"] == lead.pk
            assert await nothing_new(tab, 0.2)
            await tab.disconnect()
        await lead_ws.disconnect()

    run(scenario)


def test_editing_is_announced_with_the_statement(make_statement, incident, lead, drafter, approver):
    statement = make_statement()

    async def scenario():
        lead_ws = await opened(incident, lead)
        drafter_ws = await opened(incident, drafter)
        conn = (await next_presence(lead_ws))["conn"]
        await next_presence(drafter_ws)

        await drafter_ws.send_json_to({"editing": statement.pk})
        claimed = await next_presence(lead_ws)
        assert (claimed["event"], claimed["conn"]) == ("here", conn)
        assert claimed["editing"] == statement.pk
        await drafter_ws.send_json_to({"editing": statement.pk})  # no change: no news
        assert await nothing_new(lead_ws, 0.2)
        await drafter_ws.send_json_to({"editing": None})
        assert (await next_presence(lead_ws))["editing"] is None

        # A newcomer learns who is editing what from the answers.
        await drafter_ws.send_json_to({"editing": statement.pk})
        await next_presence(lead_ws)
        approver_ws = await opened(incident, approver)
        answers = [await next_presence(approver_ws) for _ in range(2)]
        assert {m["user"]: m["editing"] for m in answers} == {
            lead.pk: None,
            drafter.pk: statement.pk,
        }
        for communicator in (approver_ws, drafter_ws, lead_ws):
            await communicator.disconnect()

    run(scenario)


def test_garbage_and_statements_that_cannot_be_edited_here_are_ignored(
    make_statement, incident, declare, lead, drafter, approver, spokesperson
):
    mine = make_statement()
    elsewhere = make_statement(incident=declare(title="Another incident"), author=lead)
    published = make_statement(
        text="Already out.", state="published", url="https://x.com/brand/status/1"
    )
    assert published.status == "published"

    async def scenario():
        lead_ws = await opened(incident, lead)
        drafter_ws = await opened(incident, drafter)
        await next_presence(lead_ws)
        await next_presence(drafter_ws)

        for text in ["not json", "[]", "42", '"editing"', "{}", "x" * 10_000]:
            await drafter_ws.send_to(text_data=text)
        await drafter_ws.send_to(bytes_data=b'{"editing": null}')
        for value in ["1", True, 1.0, 0, -1, 10**18, [mine.pk], {"id": mine.pk}]:
            await drafter_ws.send_json_to({"editing": value})
        for statement in (elsewhere, published):
            await drafter_ws.send_json_to({"editing": statement.pk})
        await drafter_ws.send_json_to({"editing": 999_999_999})
        await drafter_ws.send_json_to({"typing": mine.pk})
        assert await nothing_new(lead_ws, 0.3)

        # Still connected, and a valid claim still goes through.
        await drafter_ws.send_json_to({"editing": mine.pk})
        assert (await next_presence(lead_ws))["editing"] == mine.pk
        await drafter_ws.disconnect()
        await lead_ws.disconnect()

    run(scenario)


@pytest.mark.parametrize("persona", ["observer", "staff"])
def test_observers_and_staff_are_present_but_never_editing(
    make_statement, incident, lead, drafter, persona, request
):
    watcher = request.getfixturevalue(persona)
    statement = make_statement()

    async def scenario():
        lead_ws = await opened(incident, lead)
        watcher_ws = await opened(incident, watcher)
        arrival = await next_presence(lead_ws)
        assert (arrival["user"], arrival["editing"]) == (watcher.pk, None)
        await next_presence(watcher_ws)

        await watcher_ws.send_json_to({"editing": statement.pk})
        assert await nothing_new(lead_ws, 0.3)
        await get_channel_layer().group_send(
            events.incident_group(incident.pk), {"type": "presence.tick"}
        )
        refreshed = await _next_presence(lead_ws)  # may repeat the arrival exactly
        assert (refreshed["user"], refreshed["editing"]) == (watcher.pk, None)
        await watcher_ws.disconnect()
        await lead_ws.disconnect()

    run(scenario)


def test_a_member_made_observer_stops_editing(make_statement, incident, lead, drafter):
    statement = make_statement()

    async def scenario():
        lead_ws = await opened(incident, lead)
        drafter_ws = await opened(incident, drafter)
        await next_presence(lead_ws)
        await drafter_ws.send_json_to({"editing": statement.pk})
        assert (await next_presence(lead_ws))["editing"] == statement.pk

        await sync_to_async(actions.member_change_role)(
            incident=incident, actor=lead, user=drafter, role="observer"
        )
        released = await next_presence(lead_ws)  # after the role_changed event
        assert (released["user"], released["editing"]) == (drafter.pk, None)
        await drafter_ws.send_json_to({"editing": statement.pk})
        assert await nothing_new(lead_ws, 0.3)
        await drafter_ws.disconnect()
        await lead_ws.disconnect()

    run(scenario)


def test_outsiders_are_still_refused_and_never_announced(incident, lead, outsider):
    async def scenario():
        lead_ws = await opened(incident, lead)
        key = await sync_to_async(lambda: session_cookie(outsider)[1])()
        intruder = socket(incident, key)
        assert not (await intruder.connect())[0]
        assert await nothing_new(lead_ws, 0.3)
        await lead_ws.disconnect()

    run(scenario)


def test_an_open_socket_keeps_announcing_itself(incident, lead, drafter, monkeypatch):
    async def scenario():
        lead_ws = await opened(incident, lead)
        monkeypatch.setattr(presence, "REFRESH_SECONDS", 0.05)
        drafter_ws = await opened(incident, drafter)
        first = await next_presence(lead_ws)
        again = await _next_presence(lead_ws)  # a refresh: same connection, same state
        assert again == first
        await drafter_ws.disconnect()
        await lead_ws.disconnect()

    run(scenario)


def test_changes_over_the_budget_wait_for_the_next_refresh_and_the_last_wins(
    make_statement, incident, lead, drafter, monkeypatch
):
    monkeypatch.setattr(presence, "BURST", 2)
    monkeypatch.setattr(presence, "REFILL_SECONDS", 3600)
    first, second = make_statement(), make_statement(text="Another one.")

    async def scenario():
        lead_ws = await opened(incident, lead)
        drafter_ws = await opened(incident, drafter)
        await next_presence(lead_ws)
        await next_presence(drafter_ws)

        for value in (first.pk, None, first.pk, second.pk):
            await drafter_ws.send_json_to({"editing": value})
        assert (await next_presence(lead_ws))["editing"] == first.pk
        assert (await next_presence(lead_ws))["editing"] is None
        assert await nothing_new(lead_ws, 0.3)  # over the budget: held back

        # What every socket's timer does: the held-back change goes out, the latest only.
        layer = get_channel_layer()
        await layer.group_send(events.incident_group(incident.pk), {"type": "presence.tick"})
        assert (await next_presence(lead_ws))["editing"] == second.pk
        await drafter_ws.disconnect()
        await lead_ws.disconnect()

    run(scenario)


def test_presence_never_writes(make_statement, incident, lead, drafter):
    statement = make_statement()
    before = (TimelineEntry.objects.count(), Revision.objects.count())

    async def scenario():
        lead_ws = await opened(incident, lead)
        drafter_ws = await opened(incident, drafter)
        await drafter_ws.send_json_to({"editing": statement.pk})
        await next_presence(lead_ws)
        await next_presence(lead_ws)
        await drafter_ws.disconnect()
        await next_presence(lead_ws)
        await lead_ws.disconnect()

    run(scenario)
    assert (TimelineEntry.objects.count(), Revision.objects.count()) == before


# Pure helpers


def test_initials_and_names(make_user):
    assert presence.initials(make_user("a1", first_name="Camille", last_name="Laurent")) == "CL"
    assert (
        presence.initials(make_user("a2", first_name="jean-marc", last_name="de la Tour")) == "JT"
    )
    assert presence.initials(make_user("élodie")) == "É"
    assert presence.display_name(make_user("a3")) == "a3"


def test_only_a_well_formed_editing_message_is_a_request():
    assert presence.requested_editing({"editing": 7}) == 7
    assert presence.requested_editing({"editing": None}) is None
    for garbage in ([], "x", {}, {"editing": "7"}, {"editing": True}, {"editing": 0}):
        assert presence.requested_editing(garbage) is presence.NOTHING


def test_the_budget_allows_a_burst_then_refills():
    now = [0.0]
    budget = presence.Budget(burst=2, refill=10, clock=lambda: now[0])
    assert [budget.take(), budget.take(), budget.take()] == [True, True, False]
    now[0] += 10
    assert [budget.take(), budget.take()] == [True, False]


# Pages


def test_the_statement_page_warns_editors_only(
    make_statement, incident, drafter, observer, browser_client
):
    statement = make_statement()
    url = f"/statements/{statement.pk}/"
    page = browser_client.as_user(drafter).get(url).content.decode()
    assert f'data-editing-for="{statement.pk}"' in page
    assert "data-warning role=" in page and f'data-presence-editor="{statement.pk}"' in page
    assert 'id="presence-config"' in page and "js/presence." in page  # hashed in production
    page = browser_client.as_user(observer).get(url).content.decode()
    assert f'data-editing-for="{statement.pk}"' in page  # sees who edits, is not warned
    assert "data-warning role=" not in page and "data-presence-editor" not in page
