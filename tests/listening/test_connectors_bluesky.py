"""The Bluesky collector against a local Jetstream: a WebSocket server on loopback replaying
recorded frames (tests/listening/data/jetstream_frames.jsonl: posts that match the watch
and posts that do not, likes, deletes, identity and account events, garbage, one frame
from a lagging shard), honouring `cursor=` and dropping the connection when told."""

import contextlib
import json
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve

from incidents.listening.connectors import bluesky
from incidents.listening.connectors.common import Backoff, Stop
from incidents.listening.models import CollectorState, Mention, MentionMatch

FRAMES = Path(__file__).parent / "data" / "jetstream_frames.jsonl"


def recorded():
    """(time_us the frame is filed under, raw text) per line; garbage lines are filed under
    the previous frame's time."""
    frames, last = [], 0
    for line in FRAMES.read_text().splitlines():
        with contextlib.suppress(ValueError, TypeError, KeyError):
            last = json.loads(line)["time_us"]
        frames.append((last, line))
    return frames


def expected_ids():
    """The posts the watch should keep: those naming the brand, minus the frame without a
    record key (garbage) and the one about daylight (no brand term)."""
    ids = set()
    for _, line in recorded():
        try:
            event = json.loads(line)
            text = event["commit"]["record"].get("text", "")
            rkey = event["commit"]["rkey"]
        except (ValueError, TypeError, KeyError):
            continue
        if "lumi" in text.lower() and "du jour" not in text:
            ids.add(f"at://{event['did']}/app.bsky.feed.post/{rkey}")
    return ids


class FakeJetstream:
    """Serves the recorded frames from the requested cursor. `drop_after` (frames) on the
    first connection closes the TCP connection without a close frame, as a network drop
    does; `stop_at` sends only the frames before that index, then idles."""

    def __init__(self, *, drop_after=None, stop_at=None):
        self.frames = recorded()
        self.drop_after, self.stop_at = drop_after, stop_at
        self.requests = []
        self.server = serve(self.handler, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handler(self, connection):
        query = parse_qs(urlsplit(connection.request.path).query)
        self.requests.append(query)
        cursor = int(query["cursor"][0]) if "cursor" in query else 0
        frames = self.frames[: self.stop_at] if self.stop_at else self.frames
        sent = 0
        for time_us, line in frames:
            if time_us < cursor:
                continue
            if len(self.requests) == 1 and self.drop_after is not None and sent == self.drop_after:
                connection.socket.shutdown(socket.SHUT_RDWR)
                connection.socket.close()
                return
            connection.send(line)
            sent += 1
        with contextlib.suppress(ConnectionClosed):
            connection.recv()  # idle until the client leaves

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


def collect(url, **options):
    collector = bluesky.JetstreamCollector(
        url,
        stop=Stop(),
        backoff=Backoff(base=0.05, cap=0.2),
        idle_exit=1.0,
        deadline=time.monotonic() + 30,
        **options,
    )
    collector.run()
    return collector


def stored_ids():
    ids = list(Mention.objects.filter(platform="bluesky").values_list("external_id", flat=True))
    assert len(ids) == len(set(ids))
    return set(ids)


def test_matching_posts_are_stored_once_and_the_others_skipped(watch, caplog):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    with FakeJetstream() as server:
        collector = collect(server.url)

    assert stored_ids() == expected_ids()
    assert len(expected_ids()) == 12
    assert MentionMatch.objects.filter(watch=watch).count() == 12
    # The collection was asked for; the first connection starts live (no cursor yet).
    assert server.requests[0]["wantedCollections"] == ["app.bsky.feed.post"]
    assert "cursor" not in server.requests[0]
    # Garbage: three unparsable lines and a post frame without its record key.
    assert collector.garbage == 4
    assert sum("frame skipped" in r.getMessage() for r in caplog.records) == 4
    # The identity event gave the author's handle; others stay DIDs.
    first = Mention.objects.get(text__startswith="Trois semaines")
    assert first.author_handle == "claire-dumas.bsky.social"
    assert first.url.startswith("https://bsky.app/profile/did:plc:")
    assert first.language == "fr" and first.source == "bluesky"
    reply = Mention.objects.get(text__startswith="Maison Lumière répond enfin")
    assert reply.in_reply_to.startswith("at://did:plc:")
    # The watch names no account the stream identified: no reply is to the brand.
    assert not Mention.objects.filter(reply_to_brand=True).exists()
    assert (
        Mention.objects.exclude(author_handle="claire-dumas.bsky.social")
        .filter(author_handle__startswith="did:plc:")
        .count()
        == 11
    )
    # The cursor is the newest time_us seen, success recorded.
    state = CollectorState.objects.get(name=bluesky.STATE_NAME)
    assert state.state["cursor"] == max(t for t, _ in recorded())
    assert state.last_success_at is not None and state.last_error == ""


BRAND_DID = "did:plc:brandlisted000000000000"
ANNOUNCED_DID = "did:plc:brandannounced0000000000"
OTHER_DID = "did:plc:someoneelse0000000000000"


def reply_frame(n, text, parent_did=None):
    record = {"text": text, "createdAt": "2025-11-30T09:00:00.000Z", "langs": ["fr"]}
    if parent_did:
        uri = f"at://{parent_did}/app.bsky.feed.post/3parent{n}"
        record["reply"] = {"parent": {"uri": uri}, "root": {"uri": uri}}
    frame = {
        "did": "did:plc:author00000000000000000",
        "time_us": 1764493300000000 + n,
        "kind": "commit",
        "commit": {
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": f"3reply{n}",
            "record": record,
        },
    }
    return frame["time_us"], json.dumps(frame)


def test_a_reply_to_a_brand_account_is_marked(watch, watch_editor):
    from incidents.listening import actions

    # The watch lists one account by its DID; the other by its handle, which an identity
    # frame of the stream ties to its DID.
    actions.watch_update(
        watch=watch, actor=watch_editor, handles=[*watch.handles, BRAND_DID, "lumiere.example"]
    )
    identity = {
        "did": ANNOUNCED_DID,
        "time_us": 1764493299000000,
        "kind": "identity",
        "identity": {"did": ANNOUNCED_DID, "handle": "Lumiere.example"},
    }
    frames = [
        (identity["time_us"], json.dumps(identity)),
        reply_frame(1, "Maison Lumière, toujours rien reçu", BRAND_DID),
        reply_frame(2, "Maison Lumière, vous répondez quand ?", ANNOUNCED_DID),
        reply_frame(3, "D'accord avec toi, Maison Lumière exagère", OTHER_DID),
        reply_frame(4, "Maison Lumière encore en retard"),
    ]
    with FakeJetstream() as server:
        server.frames = frames
        collect(server.url)

    stored = {
        m.external_id.rsplit("/", 1)[1]: (m.reply_to_brand, m.in_reply_to)
        for m in Mention.objects.all()
    }
    assert stored == {
        "3reply1": (True, f"at://{BRAND_DID}/app.bsky.feed.post/3parent1"),
        "3reply2": (True, f"at://{ANNOUNCED_DID}/app.bsky.feed.post/3parent2"),
        "3reply3": (False, f"at://{OTHER_DID}/app.bsky.feed.post/3parent3"),
        "3reply4": (False, ""),
    }


def test_a_dropped_connection_resumes_from_the_cursor_without_gap_or_duplicate(watch, caplog):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    with FakeJetstream(drop_after=12) as server:
        collect(server.url)

    assert len(server.requests) == 2
    delivered_before_drop = [t for t, _ in recorded()][:12]
    resumed = int(server.requests[1]["cursor"][0])
    assert resumed == max(delivered_before_drop) - bluesky.REWIND_US
    # The overlap was replayed (frames at or after the rewound cursor came twice) ...
    assert sum(1 for t in delivered_before_drop if t >= resumed) > 1
    # ... and every matching post is stored, once.
    assert stored_ids() == expected_ids()
    assert any("reconnecting" in r.getMessage() for r in caplog.records)
    # The drop was recorded, then cleared by the successful pass after it.
    assert CollectorState.objects.get(name=bluesky.STATE_NAME).last_error == ""


def test_a_restart_resumes_from_the_stored_cursor(watch):
    with FakeJetstream(stop_at=15) as first:
        collect(first.url)
    half = stored_ids()
    saved = CollectorState.objects.get(name=bluesky.STATE_NAME).state["cursor"]
    assert 0 < len(half) < len(expected_ids())

    # A new process (nothing in memory) against the full stream.
    with FakeJetstream() as second:
        collect(second.url)

    assert int(second.requests[0]["cursor"][0]) == saved - bluesky.REWIND_US
    assert stored_ids() == expected_ids()


def test_a_database_error_reads_again_from_the_saved_cursor(watch, monkeypatch, caplog):
    from django.db import OperationalError

    real_store, calls = bluesky.store, []

    def failing_once(mentions, *, source):
        calls.append(len(mentions))
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real_store(mentions, source=source)

    monkeypatch.setattr(bluesky, "store", failing_once)
    monkeypatch.setattr(bluesky, "BATCH", 2)  # several batches in the stream
    with FakeJetstream() as server:
        collect(server.url)

    assert len(server.requests) >= 2  # it reconnected from the saved cursor ...
    assert stored_ids() == expected_ids()  # ... and lost nothing
    assert any("database error" in r.getMessage() for r in caplog.records)


def test_without_an_active_watch_the_stream_is_not_read(watch, watch_editor):
    from incidents.listening import actions

    actions.watch_update(watch=watch, actor=watch_editor, is_active=False)
    with FakeJetstream() as server:
        collect(server.url)
    assert server.requests == [] and Mention.objects.count() == 0


def test_sigterm_stops_the_collector_after_saving_its_cursor(watch):
    stop = Stop()
    stop.install()
    try:
        with FakeJetstream() as server:
            collector = bluesky.JetstreamCollector(server.url, stop=stop)  # no bound: until stopped
            timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM))
            timer.start()
            collector.run()
            timer.join()
    finally:
        stop.uninstall()
    assert stop.is_set()
    assert stored_ids() == expected_ids()
    state = CollectorState.objects.get(name=bluesky.STATE_NAME).state
    assert state["cursor"] == max(t for t, _ in recorded())


def test_an_unreachable_server_is_recorded_and_retried(watch, caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = bluesky.JetstreamCollector(
        f"ws://127.0.0.1:{port}/subscribe",
        backoff=Backoff(base=0.05, cap=0.1),
        deadline=time.monotonic() + 0.5,
        open_timeout=1,
    )
    collector.run()
    state = CollectorState.objects.get(name=bluesky.STATE_NAME)
    assert "Jetstream" in state.last_error and state.last_success_at is None
    assert sum("reconnecting" in r.getMessage() for r in caplog.records) >= 2


def test_the_command_runs_one_bounded_pass(watch, settings):
    with FakeJetstream() as server:
        settings.LISTENING_JETSTREAM_URL = server.url
        call_command("listen_bluesky", "--once", "--seconds", "20", "--idle", "1")
    assert stored_ids() == expected_ids()


@pytest.mark.parametrize(
    "base, cursor, expected",
    [
        (
            "wss://j.example/subscribe",
            None,
            "wss://j.example/subscribe?wantedCollections=app.bsky.feed.post",
        ),
        (
            "wss://j.example/subscribe?wantedDids=did:plc:a&cursor=1",
            42,
            "wss://j.example/subscribe?wantedDids=did%3Aplc%3Aa&wantedCollections=app.bsky.feed.post&cursor=42",
        ),
    ],
)
def test_subscribe_url(base, cursor, expected):
    assert bluesky.subscribe_url(base, cursor) == expected
