"""The incident room WebSocket, through the real ASGI application (Origin check, session
auth, routing) and the configured channel layer (in-memory, or Redis in production mode)."""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from crisiscell.asgi import application
from incidents import actions
from incidents.models import TimelineEntry

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> tuple[Client, str]:
    client = Client()
    client.force_login(user)
    return client, client.cookies["sessionid"].value


class RoomSocket(WebsocketCommunicator):
    """A browser's socket: once accepted, the server first says it is live (subscribed);
    connect() reads that, and reports a close right after the handshake as refused."""

    async def connect(self, timeout=3):
        connected, code = await super().connect(timeout)
        if not connected:
            return connected, code
        first = await self.receive_output(timeout)
        if first["type"] == "websocket.close":
            return False, first.get("code")
        assert json.loads(first["text"]) == {"type": "status", "live": True}
        return True, None


def socket(incident, session_key=None, origin="http://testserver", host="testserver"):
    headers = [(b"origin", origin.encode())] if origin else []
    if host:
        headers.append((b"host", host.encode()))
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return RoomSocket(application, f"/ws/incidents/{incident.pk}/", headers=headers)


def run(scenario):
    async_to_sync(scenario)()


def connects(incident, user=None, **kwargs) -> bool:
    key = session_cookie(user)[1] if user else None

    async def scenario():
        communicator = socket(incident, key, **kwargs)
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    return async_to_sync(scenario)()


def test_anonymous_sockets_are_refused(incident):
    assert not connects(incident)


def test_outsiders_are_refused(incident, outsider):
    assert not connects(incident, outsider)


def test_a_foreign_origin_is_refused_even_for_a_member(incident, lead):
    assert not connects(incident, lead, origin="https://evil.example")
    assert not connects(incident, lead, origin="")


def test_another_port_or_scheme_of_the_same_host_is_refused(incident, lead):
    assert connects(incident, lead, origin="http://127.0.0.1:8000", host="127.0.0.1:8000")
    assert not connects(incident, lead, origin="http://127.0.0.1:9999", host="127.0.0.1:8000")
    assert not connects(incident, lead, origin="http://testserver:8080")
    assert not connects(incident, lead, origin="https://testserver")  # the socket is plain ws
    assert not connects(incident, lead, origin="http://testserver", host="evil.example")


@pytest.mark.parametrize("persona", ["lead", "drafter", "observer", "staff"])
def test_cell_members_and_staff_may_watch(incident, persona, request):
    assert connects(incident, request.getfixturevalue(persona))


def test_an_unknown_incident_is_refused(incident, lead):
    incident.pk = 999_999
    assert not connects(incident, lead)


def test_every_change_arrives_with_its_sequence_number_and_html(incident, lead, observer):
    key = session_cookie(observer)[1]
    kinds = []

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        await sync_to_async(actions.timeline_add_entry)(
            incident=incident, actor=lead, kind="note", text="<b>Seen</b> on TikTok"
        )
        await sync_to_async(actions.incident_transition)(
            incident=incident, actor=lead, status="active"
        )
        await sync_to_async(actions.incident_set_severity)(
            incident=incident, actor=lead, severity=4
        )
        for _ in range(3):
            payload = await communicator.receive_json_from(timeout=3)
            kinds.append((payload["seq"], payload["entry"]["kind"]))
            if payload["entry"]["kind"] == "note":
                html = payload["html"]
                assert "&lt;b&gt;Seen&lt;/b&gt;" in html["en"]["entry"]  # escaped, once
                assert "Note" in html["en"]["entry"] and "Note" in html["fr"]["entry"]
            if payload["entry"]["kind"] == "severity_changed":
                assert "severity-critical" in payload["html"]["en"]["chips"]
                assert payload["incident"]["severity"] == 4
        assert await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()

    run(scenario)
    last = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first().seq
    assert kinds == [
        (last - 2, "note"),
        (last - 1, "status_changed"),
        (last, "severity_changed"),
    ]


def test_a_removed_member_is_closed_right_after_the_removal(incident, lead, drafter):
    key = session_cookie(drafter)[1]

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        await sync_to_async(actions.member_remove)(incident=incident, actor=lead, user=drafter)
        payload = await communicator.receive_json_from(timeout=3)
        assert payload["entry"]["kind"] == "member_removed"
        closed = await communicator.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": 4403}
        await communicator.disconnect()

    run(scenario)


def test_other_members_stay_connected_when_someone_is_removed(incident, lead, drafter, approver):
    key = session_cookie(approver)[1]

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        await sync_to_async(actions.member_remove)(incident=incident, actor=lead, user=drafter)
        await communicator.receive_json_from(timeout=3)
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    run(scenario)


def test_logging_out_closes_that_sessions_sockets_only(incident, drafter):
    browser, key = session_cookie(drafter)
    other_key = session_cookie(drafter)[1]  # the same person on another device

    async def scenario():
        here, elsewhere = socket(incident, key), socket(incident, other_key)
        assert (await here.connect())[0] and (await elsewhere.connect())[0]
        response = await sync_to_async(browser.post)("/accounts/logout/")
        assert response.status_code == 302
        assert await here.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
        assert await elsewhere.receive_nothing(timeout=0.3)
        await elsewhere.disconnect()

    run(scenario)


def test_the_socket_never_writes(incident, lead):
    key = session_cookie(lead)[1]
    before = TimelineEntry.objects.count()

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        await communicator.send_json_to({"kind": "note", "text": "from the socket"})
        assert await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()

    run(scenario)
    assert TimelineEntry.objects.count() == before


def test_a_client_that_missed_entries_gets_them_all_in_order(incident, lead, browser_client):
    last = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first().seq
    for n in range(5):
        actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text=f"missed {n}")
    html = (
        browser_client.as_user(lead)
        .get(f"/incidents/{incident.pk}/timeline/?after={last}")
        .content.decode()
    )
    positions = [html.index(f'data-seq="{last + n}"') for n in range(1, 6)]
    assert positions == sorted(positions)
    assert html.count('class="entry ') == 5


def test_live_events_skip_the_trip_to_the_sync_thread(incident, lead, observer, monkeypatch):
    """Channels closes stale database connections in its sync thread before each message;
    once per watcher per event, that hop made bursts slow. Live events skip it."""
    import channels.consumer

    hops = []
    original = channels.consumer.aclose_old_connections

    async def counted():
        hops.append(1)
        await original()

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    key = session_cookie(observer)[1]

    async def scenario():
        communicator = socket(incident, key)
        assert (await communicator.connect())[0]
        connected = len(hops)
        for n in range(3):
            await sync_to_async(actions.timeline_add_entry)(
                incident=incident, actor=lead, kind="note", text=f"live {n}"
            )
            assert (await communicator.receive_json_from(timeout=3))["entry"]["text"] == f"live {n}"
        await communicator.disconnect()
        return connected, len(hops)

    connected, total = async_to_sync(scenario)()
    assert connected >= 1  # the socket's own messages still go through Channels' dispatch
    assert total - connected <= 1  # the disconnect; none for the three events


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://cell.example.org", True),
        ("https://cell.example.org:8443", False),
        ("https://other.example.org", True),  # CSRF_TRUSTED_ORIGINS
        ("https://x.partner.example", True),  # its wildcard
        ("http://other.example.org", False),
    ],
)
def test_the_origin_must_be_the_sockets_own_or_a_trusted_one(settings, origin, allowed):
    from crisiscell.origin import origin_allowed

    settings.ALLOWED_HOSTS = ["cell.example.org"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://other.example.org", "https://*.partner.example"]
    scope = {
        "type": "websocket",
        "scheme": "wss",
        "headers": [(b"host", b"cell.example.org"), (b"origin", origin.encode())],
    }
    assert origin_allowed(scope) is allowed
