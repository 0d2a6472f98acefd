"""The Listening page's live update (`listening-changed`, incidents/listening/events.py)
reaches the readers' own sockets (ws/me/) after every change they see: the last mention
of a burst the throttle cut (a trailing publish when the window ends, once, not one per
mention), an attach, a detach, a planned campaign saved or deleted; never a change that
was rolled back, never someone who may not read listening data.

The real ASGI application and the configured channel layer (in-memory in embedded mode,
Redis in production mode); the throttle's window is shortened, never a clock mocked, and
each test waits for events with a timeout."""

import json
import threading
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from incidents.listening import actions, events
from incidents.listening.choices import Source
from incidents.listening.ingest import parse
from incidents.listening.models import ExpectedBurst, Mention
from tests.helpers import forget_listening_window
from tests.incidents.test_consumer import session_cookie
from tests.incidents.test_user_socket import me

from .conftest import grant, post
from .test_pages import bulk_mentions

pytestmark = pytest.mark.django_db(transaction=True)

# Long enough for two ingests to fall in one window, short enough to wait for its end.
WINDOW = 0.5
# How long a test waits for the event it expects (many windows: a slow machine too).
WAIT = 10
# Silence, after the expected events, that shows no other one follows (a window and more).
QUIET = 2 * WINDOW
# A window several stores must fall in, whatever the machine's load.
BURST_WINDOW = 3.0


@pytest.fixture
def window(monkeypatch):
    """A short throttle window, starting with no publish in it (the fixtures' own writes,
    a watch created, published theirs)."""

    def start(seconds=WINDOW):
        monkeypatch.setattr(events, "THROTTLE_SECONDS", seconds)
        forget_listening_window()

    return start


async def next_payload(socket, timeout=WAIT):
    return json.loads((await socket.receive_output(timeout))["text"])


async def heard(socket, timeout=QUIET) -> list[dict]:
    """Every message that arrives until `timeout` passes in silence."""
    found = []
    while not await socket.receive_nothing(timeout=timeout):
        found.append(json.loads((await socket.receive_output())["text"]))
    return found


def is_listening_changed(payload) -> bool:
    return payload.get("event") == "signal" and payload.get("signal") == "listening-changed"


def ingest(external_id):
    """A collector's store: one mention, committed (its own transaction)."""
    row = post(external_id, posted_at=timezone.now().isoformat())
    return actions.mentions_ingest(mentions=[parse(row)], source=Source.API, actor=None)


def test_a_mention_stored_within_the_window_is_announced_when_it_ends(
    reader, outsider, watch, window
):
    """Two mentions stored at once: the first is announced at once, the second when the
    window ends (it was never announced before the fix: hours, on a quiet watch)."""
    mine, theirs = session_cookie(reader)[1], session_cookie(outsider)[1]

    async def scenario():
        readers, others = me(mine), me(theirs)
        assert (await readers.connect())[0] and (await others.connect())[0]
        window()
        await sync_to_async(ingest)("first")
        await sync_to_async(ingest)("second")
        assert is_listening_changed(await next_payload(readers))  # at once
        assert is_listening_changed(await next_payload(readers))  # when the window ends
        assert await heard(others) == []
        await readers.disconnect()
        await others.disconnect()

    async_to_sync(scenario)()
    assert Mention.objects.count() == 2


def test_a_burst_is_announced_once_more_when_its_window_ends_not_once_per_mention(
    reader, watch, window
):
    key = session_cookie(reader)[1]

    async def scenario():
        socket = me(key)
        assert (await socket.connect())[0]
        # The production window (3 s): five stores fall in it on a loaded machine too (in
        # half a second, CI's four shards on two cores spread them over two windows).
        window(BURST_WINDOW)
        for index in range(5):
            await sync_to_async(ingest)(f"burst{index}")
        assert is_listening_changed(await next_payload(socket))
        assert is_listening_changed(await next_payload(socket))
        # The trailing publish started a new window, in which nothing changed: silence.
        assert await heard(socket, timeout=2 * BURST_WINDOW) == []
        await sync_to_async(ingest)("later")  # a quiet watch's next mention
        assert is_listening_changed(await next_payload(socket))
        await socket.disconnect()

    async_to_sync(scenario)()
    assert Mention.objects.count() == 6


def test_a_rolled_back_ingest_is_neither_announced_nor_planned(reader, watch, window):
    key = session_cookie(reader)[1]

    def ingest_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            ingest("rolled-back")
            raise RuntimeError("the caller's transaction fails after the ingest")

    async def scenario():
        socket = me(key)
        assert (await socket.connect())[0]
        window()
        await sync_to_async(ingest_then_fail)()
        assert await heard(socket) == []  # not at once
        await sync_to_async(ingest)("kept")
        assert is_listening_changed(await next_payload(socket))
        await sync_to_async(ingest_then_fail)()  # within the window of "kept"
        assert await heard(socket) == []  # nor when it ends
        await socket.disconnect()

    async_to_sync(scenario)()
    assert list(Mention.objects.values_list("external_id", flat=True)) == ["kept"]


@pytest.mark.skipif(
    "InMemory" in settings.CHANNEL_LAYERS["default"]["BACKEND"],
    reason="a collector is its own process: production mode (Redis) only",
)
def test_a_collectors_burst_is_announced_from_its_own_thread(reader, watch, window):
    """A collector (or a Celery worker) has no event loop: its trailing publish is sent from
    the timer's thread, through Redis."""
    key = session_cookie(reader)[1]

    def collector():
        try:
            ingest("c1")
            ingest("c2")
        finally:
            connection.close()

    async def scenario():
        socket = me(key)
        assert (await socket.connect())[0]
        window()
        thread = threading.Thread(target=collector)
        thread.start()
        await sync_to_async(thread.join, thread_sensitive=False)()
        assert is_listening_changed(await next_payload(socket))
        assert is_listening_changed(await next_payload(socket))
        await socket.disconnect()

    async_to_sync(scenario)()
    assert Mention.objects.count() == 2


@pytest.fixture
def cell_writer(incident, drafter):
    """The incident's drafter, a listening reader: attaches and detaches."""
    return grant(drafter, "view_mention")


def test_attach_detach_and_campaigns_refresh_a_readers_page_outside_the_cell(
    incident, cell_writer, reader, outsider, watch, watch_editor, window
):
    """The stream stops offering "Attach to incident…" on a post attached elsewhere (and
    offers it again once detached); a watch's line says "Planned campaign running
    until…" only while one runs."""
    (mention,) = bulk_mentions(1, watch=watch)
    mine, theirs = session_cookie(reader)[1], session_cookie(outsider)[1]
    now = timezone.now()

    def attach():
        assert actions.mention_attach(mention=mention, incident=incident, actor=cell_writer)

    def detach():
        assert actions.mention_detach(mention=mention, incident=incident, actor=cell_writer)

    def plan():
        burst = ExpectedBurst(
            watch=watch, starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=2)
        )
        return actions.expected_burst_save(burst=burst, actor=watch_editor)

    def end(burst):
        assert actions.expected_burst_delete(burst=burst, actor=watch_editor) == "ended"

    def delete_planned():
        later = ExpectedBurst.objects.create(
            watch=watch,
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=2),
            created_by=watch_editor,
        )
        assert actions.expected_burst_delete(burst=later, actor=watch_editor) == "deleted"

    async def scenario():
        readers, others = me(mine), me(theirs)
        assert (await readers.connect())[0] and (await others.connect())[0]
        window()
        await sync_to_async(attach)()
        assert is_listening_changed(await next_payload(readers))
        await sync_to_async(detach)()  # within the attach's window: when it ends
        assert is_listening_changed(await next_payload(readers))
        burst = await sync_to_async(plan)()
        assert is_listening_changed(await next_payload(readers))
        await sync_to_async(end)(burst)
        assert is_listening_changed(await next_payload(readers))
        await sync_to_async(delete_planned)()
        assert is_listening_changed(await next_payload(readers))
        assert await heard(readers) == []  # one each: none left over
        assert await heard(others) == []
        await readers.disconnect()
        await others.disconnect()

    async_to_sync(scenario)()
    mention.refresh_from_db()
    assert mention.incident_id is None
    assert not ExpectedBurst.objects.filter(starts_at__gt=now).exists()
