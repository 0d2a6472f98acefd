"""An open WebSocket loses access as soon as its person does: deactivation, an expired or
flushed session, a removal from the cell, a logout, including when their live event was
lost in a channel-layer outage. The real ASGI application and a real Channels layer; the
outage is an in-memory layer whose sends raise while it is "down"."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer, channel_layers
from django.contrib.sessions.models import Session
from django.utils import timezone

from incidents import actions, consumers, presence
from tests.incidents.test_consumer import session_cookie, socket

pytestmark = pytest.mark.django_db(transaction=True)

LIVE = {"type": "status", "live": True}
PAUSED = {"type": "status", "live": False}


class FlakyLayer(InMemoryChannelLayer):
    """Like Redis going away: while `down`, every send, group send and subscription raises."""

    down = False

    def _check(self):
        if self.down:
            raise ConnectionError("Connection refused (simulated outage)")

    async def send(self, channel, message):
        self._check()
        await super().send(channel, message)

    async def group_send(self, group, message):
        self._check()
        await super().group_send(group, message)

    async def group_add(self, group, channel):
        self._check()
        await super().group_add(group, channel)


@pytest.fixture
def layer():
    flaky = FlakyLayer()
    previous = channel_layers.set("default", flaky)
    yield flaky
    channel_layers.set("default", previous)


@pytest.fixture
def clock(monkeypatch):
    """The consumers' clock, moved on by hand: `clock.later()` makes every socket's last
    access check older than ACCESS_CHECK_SECONDS."""

    class Clock:
        now = 1000.0

        def __call__(self):
            return self.now

        def later(self):
            self.now += presence.ACCESS_CHECK_SECONDS + 1

    fake = Clock()
    monkeypatch.setattr(consumers, "clock", fake)
    return fake


@pytest.fixture
def checks(monkeypatch):
    """Counts the consumers' access checks (each one is a few database reads)."""
    calls = []
    original = presence.recheck

    def counted(*args, **kwargs):
        calls.append(args[0].pk)
        return original(*args, **kwargs)

    monkeypatch.setattr(presence, "recheck", counted)
    return calls


def note(incident, actor, text):
    return sync_to_async(actions.timeline_add_entry)(
        incident=incident, actor=actor, kind="note", text=text
    )


async def next_event(communicator):
    """The next timeline event, past presence messages."""
    while True:
        payload = await communicator.receive_json_from(timeout=3)
        if payload.get("type") != "presence":
            return payload


def closed_with(code):
    return {"type": "websocket.close", "code": code}


def test_forwarding_events_costs_no_access_check_between_checks(
    incident, lead, observer, clock, checks
):
    key = session_cookie(observer)[1]

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        connected = len(checks)
        for n in range(5):
            await note(incident, lead, f"burst {n}")
            assert (await communicator.receive_json_from(timeout=3))["entry"][
                "text"
            ] == f"burst {n}"
        await communicator.disconnect()
        return connected

    connected = async_to_sync(scenario)()
    assert connected == 1 and len(checks) == 1  # the connect's check only


def test_a_deactivated_account_gets_nothing_more(
    incident, lead, observer, django_user_model, clock
):
    key = session_cookie(observer)[1]

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        await sync_to_async(django_user_model.objects.filter(pk=observer.pk).update)(
            is_active=False
        )
        clock.later()
        await note(incident, lead, "Legal's position, in full")
        assert await communicator.receive_output(timeout=3) == closed_with(4401)
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_an_expired_session_gets_nothing_more(incident, lead, observer, clock):
    key = session_cookie(observer)[1]

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        await sync_to_async(Session.objects.filter(pk=key).update)(
            expire_date=timezone.now() - timedelta(minutes=1)
        )
        clock.later()
        await note(incident, lead, "After the session ended")
        assert await communicator.receive_output(timeout=3) == closed_with(4401)
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_the_presence_refresh_closes_a_silent_incidents_socket(
    incident, observer, django_user_model, clock, monkeypatch
):
    monkeypatch.setattr(presence, "REFRESH_SECONDS", 0.05)
    key = session_cookie(observer)[1]

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        await sync_to_async(django_user_model.objects.filter(pk=observer.pk).update)(
            is_active=False
        )
        clock.later()
        assert await communicator.receive_output(timeout=3) == closed_with(4401)
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_a_removal_lost_in_an_outage_still_closes_the_socket(
    incident, lead, drafter, approver, layer
):
    """The removal's event never arrives; the next event's seq jumps, and the socket
    re-checks before forwarding it (no clock involved)."""
    removed, other = session_cookie(drafter)[1], session_cookie(approver)[1]

    async def scenario():
        gone, stays = socket(incident, removed), socket(incident, other)
        assert (await gone.connect())[0] and (await stays.connect())[0]
        await gone.receive_json_from(timeout=3)  # presence: the approver arrived
        layer.down = True
        await sync_to_async(actions.member_remove)(incident=incident, actor=lead, user=drafter)
        layer.down = False
        await note(incident, lead, "Our lawyers' advice, in full")
        assert await gone.receive_output(timeout=3) == closed_with(4403)
        assert (await next_event(stays))["entry"]["text"].startswith("Our")
        await gone.disconnect()
        await stays.disconnect()

    async_to_sync(scenario)()


def test_a_logout_lost_in_an_outage_still_closes_the_socket(
    incident, lead, drafter, layer, monkeypatch
):
    """The page is told it is paused while the layer is down; the logout's message is lost;
    when the layer is back the socket re-checks before forwarding anything."""
    monkeypatch.setattr(presence, "REFRESH_SECONDS", 0.05)
    browser, key = session_cookie(drafter)

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        layer.down = True
        assert await communicator.receive_json_from(timeout=3) == PAUSED
        response = await sync_to_async(browser.post)("/accounts/logout/")
        assert response.status_code == 302
        layer.down = False
        await note(incident, lead, "Written after the logout")
        assert await communicator.receive_output(timeout=3) == closed_with(4401)
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_the_page_learns_when_live_updates_pause_and_resume(incident, observer, layer, monkeypatch):
    monkeypatch.setattr(presence, "REFRESH_SECONDS", 0.05)
    key = session_cookie(observer)[1]

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        layer.down = True
        assert await communicator.receive_json_from(timeout=3) == PAUSED
        await asyncio.sleep(0.2)  # several refreshes fail: said once
        layer.down = False
        assert await communicator.receive_json_from(timeout=3) == LIVE
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_a_handshake_during_an_outage_is_refused_with_a_code_the_page_understands(
    incident, observer, layer
):
    key = session_cookie(observer)[1]

    async def scenario():
        layer.down = True
        communicator = socket(incident, key)
        assert await communicator.connect() == (False, 4503)
        await communicator.disconnect()
        layer.down = False
        again = socket(incident, key)
        assert (await again.connect())[0]
        await again.disconnect()

    async_to_sync(scenario)()
