"""Presence over the incident room's WebSocket: who has the incident open, who is editing
which statement. Through the real ASGI application and the configured channel layer."""

import asyncio
import copy
import threading
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from incidents import actions, consumers, events, presence
from incidents.models import TimelineEntry
from statements.models import Revision
from tests.incidents.test_consumer import run, session_cookie, socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_refresh_during_tests(monkeypatch, settings):
    # Sockets refresh themselves on a timer; tests that want it send the tick themselves.
    monkeypatch.setattr(presence, "REFRESH_SECONDS", 3600)
    # Arrivals are announced by one roster per short window: short here, so tests go fast
    # (those that count messages hold the window open themselves: arrival_gate).
    monkeypatch.setattr(presence, "ARRIVAL_WINDOW_SECONDS", 0.02)
    # A roster store of each test's own (same incident ids after a rollback, or a run before).
    caches = copy.deepcopy(settings.CACHES)
    caches["presence"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches
    # What the sockets of an earlier test received (the helpers below key it by id()).
    _last.clear()
    _known.clear()


@pytest.fixture
def roster_clock(monkeypatch):
    """The roster's clock (entries' expiry, refresh periods), moved on by hand."""
    # Periods shorter than an entry's life, as in production (the sockets' own timers
    # would only fire after that long in real time: a test is over by then).
    monkeypatch.setattr(presence, "REFRESH_SECONDS", 20.0)

    class Clock:
        now = 1_000_000.0

        def __call__(self):
            return self.now

        def next_period(self):
            self.now += presence.REFRESH_SECONDS

    clock = Clock()
    monkeypatch.setattr(presence, "roster_clock", clock)
    return clock


@pytest.fixture
def arrival_gate(monkeypatch):
    """Holds every arrivals window open until the test calls `release()`, so the arrivals
    a test makes fall in one window whatever the machine's speed."""
    monkeypatch.setattr(presence, "ARRIVAL_CLAIM_SECONDS", 3600)

    class Gate:
        event = None

        async def wait(self):
            if self.event is None:
                self.event = asyncio.Event()
            await self.event.wait()

        def release(self):
            if self.event is None:
                self.event = asyncio.Event()
            self.event.set()

    gate = Gate()
    monkeypatch.setattr(consumers, "arrival_window", gate.wait)
    return gate


def conn_of(message, user) -> str:
    """The connection id of `user`'s (one) entry in a roster message."""
    (conn,) = [e["conn"] for e in message["entries"] if e["user"] == user.pk]
    return conn


async def opened(incident, user):
    communicator = socket(incident, await sync_to_async(lambda: session_cookie(user)[1])())
    # Generous, as below: twenty sockets connecting at once on a loaded CI machine took
    # longer than the communicator's default second.
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    return communicator


# The Redis pub/sub layer may deliver one presence message twice to a socket in the test
# process; browsers key presence by connection, so a repeat changes nothing there. The
# helpers below skip an exact repeat of the last message a socket received.
_last = {}


# What each socket's page knows: {conn: editing}, from the rosters and deltas it received.
_known: dict[int, dict[str, int | None]] = {}


def _learn(communicator, message):
    known = _known.setdefault(id(communicator), {})
    if message["event"] == "roster":
        known.clear()
        known.update({e["conn"]: e["editing"] for e in message["entries"]})
    elif message["event"] == "here":
        known[message["conn"]] = message["editing"]
    elif message["event"] == "left":
        known.pop(message["conn"], None)


def _is_news(communicator, message) -> bool:
    """Whether a presence message changes what the page knows. A window's roster may reach
    a page late on a loaded run, after the deltas already told it everything."""
    known = _known.get(id(communicator), {})
    if message == _last.get(id(communicator)):
        return False
    if message["event"] == "roster":
        return {e["conn"]: e["editing"] for e in message["entries"]} != known
    return True


async def nothing_new(communicator, timeout):
    """True when nothing that changes the page's picture arrives in `timeout`."""
    while not await communicator.receive_nothing(timeout=timeout):
        message = await communicator.receive_json_from()
        if message.get("type") != "presence" or _is_news(communicator, message):
            return False
    return True


async def received(communicator, timeout=0.3) -> list[dict]:
    """Every presence message that arrives until `timeout` passes in silence."""
    messages = []
    while not await communicator.receive_nothing(timeout=timeout):
        message = await communicator.receive_json_from()
        if message.get("type") == "presence" and message != _last.get(id(communicator)):
            messages.append(message)
            _last[id(communicator)] = dict(message)
            _learn(communicator, message)
    return messages


async def tick(incident):
    """What every socket's timer does once per REFRESH_SECONDS, for all the room's sockets."""
    await get_channel_layer().group_send(
        events.incident_group(incident.pk), {"type": "presence.tick"}
    )


async def next_delta(communicator):
    """The next presence change, skipping rosters: a window's roster may reach a page after
    it already knows everyone (a loaded run), and says nothing new then."""
    message = await next_presence(communicator)
    while message["event"] == "roster":
        message = await next_presence(communicator)
    return message


def people(roster) -> dict[int, int | None]:
    """{user: editing} of a roster message."""
    assert roster["event"] == "roster"
    return {e["user"]: e["editing"] for e in roster["entries"]}


async def next_presence(communicator):
    """The next presence message, skipping timeline events (which carry a seq)."""
    message = await _next_presence(communicator)
    while message == _last.get(id(communicator)):
        message = await _next_presence(communicator)
    _last[id(communicator)] = dict(message)
    _learn(communicator, message)
    return message


async def _next_presence(communicator):
    while True:
        # Generous: a loaded CI machine may be slow; a passing run never waits this long.
        message = await communicator.receive_json_from(timeout=10)
        if message.get("type") == "presence":
            assert "seq" not in message
            return message
        assert isinstance(message["seq"], int)


def test_a_newcomer_receives_the_roster_in_one_message_and_the_others_one_roster(
    incident, lead, approver, drafter
):
    async def scenario():
        lead_ws = await opened(incident, lead)
        assert await nothing_new(lead_ws, 0.2)  # alone: nothing to say, as before
        approver_ws = await opened(incident, approver)
        await next_presence(approver_ws)
        await next_presence(lead_ws)
        await received(approver_ws)  # the window's roster

        drafter_ws = await opened(incident, drafter)
        roster = await next_presence(drafter_ws)  # the whole roster, on connect; nobody answers
        assert roster["more"] == 0
        assert people(roster) == {lead.pk: None, approver.pk: None, drafter.pk: None}
        named = {e["user"]: (e["name"], e["initials"]) for e in roster["entries"]}
        assert named[lead.pk] == ("Camille Laurent", "CL")
        assert named[drafter.pk] == ("drafter", "D")
        assert all(isinstance(e["conn"], str) and e["conn"] for e in roster["entries"])

        # The others learn of the arrival from the window's roster: one message each.
        for other in (lead_ws, approver_ws):
            arrival = await received(other)
            assert len(arrival) == 1
            assert people(arrival[0]) == people(roster)
            assert conn_of(arrival[0], drafter) == conn_of(roster, drafter)
        for communicator in (drafter_ws, approver_ws, lead_ws):
            await communicator.disconnect()

    run(scenario)


def test_a_departure_is_one_delta(incident, lead, drafter):
    async def scenario():
        lead_ws = await opened(incident, lead)
        drafter_ws = await opened(incident, drafter)
        conn = conn_of(await next_presence(lead_ws), drafter)
        await next_presence(drafter_ws)

        await drafter_ws.disconnect()
        assert [m for m in await received(lead_ws) if m["event"] != "roster"] == [
            {"type": "presence", "event": "left", "conn": conn, "user": drafter.pk}
        ]
        # Gone from the roster too: the next newcomer does not see them.
        again = await opened(incident, drafter)
        assert people(await next_presence(again)) == {lead.pk: None, drafter.pk: None}
        await again.disconnect()
        await lead_ws.disconnect()

    run(scenario)


def test_the_same_person_twice_is_two_connections_of_one_user(incident, lead, drafter):
    async def scenario():
        lead_ws = await opened(incident, lead)
        first = await opened(incident, drafter)
        await next_presence(first)
        await received(first)  # the window's roster
        second = await opened(incident, drafter)
        roster = await next_presence(second)
        assert sorted(e["user"] for e in roster["entries"]) == sorted([lead.pk] + [drafter.pk] * 2)
        seen = await received(lead_ws)
        latest = [e for e in seen[-1]["entries"] if e["user"] == drafter.pk]
        assert len({e["conn"] for e in latest}) == 2  # two tabs; the page shows one person
        # The first tab hears of the second only as a roster, whose news is the lead.
        assert all(m["event"] == "roster" for m in await received(first))
        for communicator in (first, second, lead_ws):
            await communicator.disconnect()

    run(scenario)


def test_editing_is_announced_with_the_statement(make_statement, incident, lead, drafter, approver):
    statement = make_statement()

    async def scenario():
        lead_ws = await opened(incident, lead)
        drafter_ws = await opened(incident, drafter)
        conn = conn_of(await next_presence(lead_ws), drafter)
        await next_presence(drafter_ws)

        await drafter_ws.send_json_to({"editing": statement.pk})  # immediate: no window
        claimed = await next_delta(lead_ws)
        assert (claimed["event"], claimed["conn"]) == ("here", conn)
        assert claimed["editing"] == statement.pk
        await drafter_ws.send_json_to({"editing": statement.pk})  # no change: no news
        assert await nothing_new(lead_ws, 0.2)
        await drafter_ws.send_json_to({"editing": None})
        assert (await next_delta(lead_ws))["editing"] is None

        # A newcomer learns who is editing what from the roster.
        await drafter_ws.send_json_to({"editing": statement.pk})
        await next_presence(lead_ws)
        approver_ws = await opened(incident, approver)
        roster = await next_presence(approver_ws)
        assert people(roster) == {lead.pk: None, drafter.pk: statement.pk, approver.pk: None}
        assert roster["entries"][0]["user"] == drafter.pk  # those editing first
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
        assert (await next_delta(lead_ws))["editing"] == mine.pk
        await drafter_ws.disconnect()
        await lead_ws.disconnect()

    run(scenario)


@pytest.mark.parametrize("persona", ["observer", "staff"])
def test_observers_and_staff_are_present_but_never_editing(
    make_statement, incident, lead, drafter, persona, request, roster_clock
):
    watcher = request.getfixturevalue(persona)
    statement = make_statement()

    async def scenario():
        lead_ws = await opened(incident, lead)
        watcher_ws = await opened(incident, watcher)
        arrival = await next_presence(lead_ws)
        assert people(arrival) == {lead.pk: None, watcher.pk: None}
        await next_presence(watcher_ws)
        await received(watcher_ws)  # the window's roster

        await watcher_ws.send_json_to({"editing": statement.pk})
        assert await nothing_new(lead_ws, 0.3)
        roster_clock.next_period()
        await tick(incident)
        assert [people(m) for m in await received(lead_ws)] == [{lead.pk: None, watcher.pk: None}]
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
        assert (await next_delta(lead_ws))["editing"] == statement.pk

        await sync_to_async(actions.member_change_role)(
            incident=incident, actor=lead, user=drafter, role="observer"
        )
        released = await next_delta(lead_ws)  # after the role_changed event
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
        assert {e["user"] for e in presence.roster(incident.pk)} == {lead.pk}
        await lead_ws.disconnect()

    run(scenario)


@pytest.mark.parametrize("watchers", [5, 20])
def test_the_periodic_roster_is_one_message_per_incident_per_period(
    incident, lead, make_user, watchers, roster_clock
):
    """Each socket's refresh renews its own entry; only the period's first sends the roster
    to the group: every page receives one message per period, whatever the number of
    watchers (with an announcement per socket, each would receive watchers - 1)."""
    users = [make_user(f"watcher-{n}") for n in range(watchers - 1)]
    for user in users:
        actions.member_add(incident=incident, actor=lead, user=user, role="observer")

    async def scenario():
        sockets = []
        for user in [lead, *users]:
            sockets.append(await opened(incident, user))
        await received(sockets[0])  # the rosters of the arrivals' windows
        for communicator in sockets[1:]:
            # As long a silence as the first: on a loaded machine a window's roster reached
            # a socket after 0.05 s and was counted in the first period.
            await received(communicator)

        per_period = []
        for _ in range(2):
            roster_clock.next_period()
            await tick(incident)  # every socket refreshes once in this period
            await tick(incident)  # and again: the period's roster was already sent
            got = [await received(communicator) for communicator in sockets]
            per_period.append({len(messages) for messages in got})
            assert all(len(people(m[0])) == watchers for m in got)
        assert per_period == [{1}, {1}]
        for communicator in sockets:
            await communicator.disconnect()

    run(scenario)


@pytest.mark.parametrize("watchers", [5, 20])
def test_arrivals_together_cost_each_page_a_bounded_number_of_messages(
    incident, lead, make_user, watchers, arrival_gate
):
    """K pages opened at once: each receives its roster on connect and the window's roster,
    plus at most the periodic roster when the test straddles a refresh period (a loaded
    machine): at most 3 presence messages whatever K (one delta per arrival would make it
    K - 1 each: 19 for K = 20), and then knows everyone."""
    users = [make_user(f"arrival-{n}") for n in range(watchers - 1)]
    for user in users:
        actions.member_add(incident=incident, actor=lead, user=user, role="observer")
    everyone = {user.pk for user in [lead, *users]}

    async def scenario():
        sockets = await asyncio.gather(*(opened(incident, user) for user in [lead, *users]))
        arrival_gate.release()  # the window closes
        got = []
        for communicator in sockets:
            messages = [await next_presence(communicator)]
            while people(messages[-1]).keys() != everyone:  # until it knows everyone
                messages.append(await next_presence(communicator))
            got.append(messages + await received(communicator))  # and nothing more comes
        assert max(len(messages) for messages in got) <= 3
        assert all(m["event"] == "roster" for messages in got for m in messages)
        for communicator in sockets:
            await communicator.disconnect()

    run(scenario)


def test_the_window_s_roster_goes_out_even_if_the_page_that_opened_it_left(
    incident, lead, drafter, approver, arrival_gate
):
    async def scenario():
        lead_ws = await opened(incident, lead)  # opens the window
        drafter_ws = await opened(incident, drafter)
        assert people(await next_presence(drafter_ws)) == {lead.pk: None, drafter.pk: None}
        await lead_ws.disconnect()  # before the window closes
        assert (await next_presence(drafter_ws))["event"] == "left"
        approver_ws = await opened(incident, approver)
        await next_presence(approver_ws)

        arrival_gate.release()
        roster = await next_presence(drafter_ws)
        assert people(roster) == {drafter.pk: None, approver.pk: None}
        await approver_ws.disconnect()
        await drafter_ws.disconnect()

    run(scenario)


def test_a_window_whose_roster_never_came_is_repaired_by_the_next_refresh(
    incident, lead, drafter, roster_clock
):
    """The process that opened a window died before its roster: its claim holds for
    ARRIVAL_CLAIM_SECONDS, and the next periodic roster tells everyone meanwhile."""
    store, make_key = presence._store()
    assert store.claim(make_key(presence._due_key(incident.pk)), 3600)  # the dead claim

    async def scenario():
        lead_ws = await opened(incident, lead)
        drafter_ws = await opened(incident, drafter)
        await next_presence(drafter_ws)
        assert await nothing_new(lead_ws, 0.3)  # the window is someone else's
        roster_clock.next_period()
        await tick(incident)
        assert people(await next_presence(lead_ws)) == {lead.pk: None, drafter.pk: None}
        await drafter_ws.disconnect()
        await lead_ws.disconnect()

    run(scenario)


def test_an_entry_not_renewed_expires(incident, lead, drafter, roster_clock):
    """A server process that died leaves entries nobody removes: they expire."""
    ghost = {**presence.entry("ghost", drafter, None), "since": roster_clock.now}
    presence.mark_here(incident.pk, drafter.pk, "ghost", entry=ghost)

    async def scenario():
        lead_ws = await opened(incident, lead)
        assert people(await next_presence(lead_ws)) == {lead.pk: None, drafter.pk: None}
        await received(lead_ws)  # the window's roster
        roster_clock.now += presence.PRESENT_SECONDS + 1  # the lead's socket refreshes
        await tick(incident)
        assert await received(lead_ws) == []  # a roster of only you is not sent
        await lead_ws.disconnect()

    run(scenario)
    assert presence.present_users(incident.pk, [drafter.pk]) == set()
    # Removed from the store by the roster's sender, not only skipped.
    store, make_key = presence._store()
    assert "ghost" not in store.read(make_key(presence._roster_key(incident.pk)))


def test_concurrent_arrivals_never_lose_each_other(incident, make_user):
    """Each socket writes only its own entry, atomically: 40 writers at once, 40 entries."""
    people_ = [make_user(f"racer-{n}") for n in range(40)]
    start = threading.Barrier(len(people_))

    def arrive(user):
        start.wait()
        presence.mark_here(
            incident.pk,
            user.pk,
            f"tab-{user.pk}",
            entry=presence.entry(f"tab-{user.pk}", user, None),
            read=True,
        )

    threads = [threading.Thread(target=arrive, args=(user,)) for user in people_]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {e["user"] for e in presence.roster(incident.pk)} == {u.pk for u in people_}


def test_the_roster_sent_is_bounded_and_counts_the_people_beyond(monkeypatch):
    monkeypatch.setattr(presence, "MAX_ROSTER", 3)
    entries = [
        {"conn": f"c{n}", "user": n % 5, "name": "", "initials": "", "editing": None, "since": n}
        for n in range(10)
    ]
    entries[9]["editing"] = 42
    message = presence.roster_message(entries, 5.0)
    assert [e["conn"] for e in message["entries"]] == ["c9", "c0", "c1"]  # editing first
    assert all(set(e) == set(presence.ENTRY_FIELDS) for e in message["entries"])
    assert message["more"] == 2  # users 2 and 3: users 0, 1 and 4 have an entry shown
    assert presence.for_client(message, me=3)["more"] == 1  # never count yourself
    assert presence.for_client(message, me=4)["more"] == 2


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
        assert (await next_delta(lead_ws))["editing"] == first.pk
        assert (await next_delta(lead_ws))["editing"] is None
        assert await nothing_new(lead_ws, 0.3)  # over the budget: held back

        # What every socket's timer does: the held-back change goes out, the latest only.
        await tick(incident)
        deltas = [m for m in await received(lead_ws) if m["event"] == "here"]
        assert [m["editing"] for m in deltas] == [second.pk]
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
