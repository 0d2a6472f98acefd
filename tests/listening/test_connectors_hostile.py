"""The collectors against hostile or broken remotes, all local (127.0.0.1): garbage frames
and answers, dropped or stalled connections, entries far over the model's limits, rate
limits that never end. What is promised: a collector never dies on one bad item nor on a
bad answer, carries on (other posts, other timelines, other feeds), and stores every
matching post it can, each text bounded to what the model holds."""

import contextlib
import json
import logging
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from incidents.listening.connectors import bluesky, feeds, mastodon
from incidents.listening.connectors.common import Backoff, PollingCollector, Stop
from incidents.listening.ingest import MAX_COUNT
from incidents.listening.models import (
    MAX_EXTERNAL_ID,
    MAX_HANDLE,
    MAX_TEXT,
    CollectorState,
    Mention,
)
from tests.listening.test_connectors_bluesky import FakeJetstream, expected_ids
from tests.listening.test_connectors_bluesky import collect as collect_bluesky
from tests.listening.test_connectors_feeds import FakeFeeds, atom
from tests.listening.test_connectors_feeds import collector as feed_collector
from tests.listening.test_connectors_mastodon import FakeInstance
from tests.listening.test_connectors_mastodon import collector as mastodon_collector

NOW_US = int(time.time() * 1e6)


def post_frame(n, text="Maison Lumière, encore un colis perdu", *, time_us=None, **record):
    record = {"text": text, "createdAt": "2025-11-30T09:00:00.000Z", **record}
    frame = {
        "did": "did:plc:hostile00000000000000000",
        "time_us": NOW_US - 60_000_000 + n if time_us is None else time_us,
        "kind": "commit",
        "commit": {
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": f"3hostile{n}",
            "record": record,
        },
    }
    return frame["time_us"], json.dumps(frame)


def rkeys():
    return {m.external_id.rsplit("/", 1)[1] for m in Mention.objects.filter(platform="bluesky")}


# Bluesky -------------------------------------------------------------------------------


def test_jetstream_garbage_frames_are_skipped_and_the_stream_read_on(watch):
    last = NOW_US - 1_000_000
    frames = [
        post_frame(1),
        (last, b"\xff\xfe\x00 not utf-8 \xc3\x28"),  # a binary frame, not UTF-8
        (last, "[]"),
        (last, "null"),
        (last, '{"time_us": true, "kind": "commit"}'),
        (last, "[" * 100_000 + "]" * 100_000),  # nested past the parser's recursion
        (last, json.dumps({"time_us": 10**400, "kind": "commit", "did": "did:plc:x"})),
        # A post without createdAt whose time_us is past what a date can hold.
        (
            last,
            json.dumps(
                {
                    "did": "did:plc:hostile00000000000000000",
                    "time_us": 10**400,
                    "kind": "commit",
                    "commit": {
                        "operation": "create",
                        "collection": "app.bsky.feed.post",
                        "rkey": "3overflow",
                        "record": {"text": "Maison Lumière"},
                    },
                }
            ),
        ),
        post_frame(2, time_us=last),
    ]
    with FakeJetstream() as server:
        server.frames = frames
        collector = collect_bluesky(server.url)

    assert rkeys() == {"3hostile1", "3hostile2"}
    assert collector.garbage >= 7
    # The cursor is the last real frame's, not a number from nowhere.
    assert CollectorState.objects.get(name=bluesky.STATE_NAME).state["cursor"] == last


def test_jetstream_a_frame_from_the_future_does_not_carry_the_cursor_away(watch):
    future = NOW_US + 10 * 365 * 24 * 3600 * 10**6
    frames = [post_frame(1), post_frame(2, time_us=future), post_frame(3)]
    with FakeJetstream() as server:
        server.frames = frames
        collect_bluesky(server.url)
    state = CollectorState.objects.get(name=bluesky.STATE_NAME).state
    assert state["cursor"] == frames[2][0]


def test_jetstream_a_cursor_saved_in_the_future_is_taken_back_to_now(watch):
    from incidents.listening import actions

    now_us = int(time.time() * 1e6)
    far = now_us + 10 * 365 * 24 * 3600 * 10**6
    actions.collector_state_record(name=bluesky.STATE_NAME, state={"cursor": far})
    frames = [post_frame(n, time_us=now_us + (2 + n) * 10**6) for n in (1, 2)]  # a bit ahead
    with FakeJetstream() as server:
        server.frames = frames
        collect_bluesky(server.url)

    # Asked from about now (it asked from ten years ahead, and got nothing, for good) ...
    asked = int(server.requests[0]["cursor"][0])
    assert now_us - bluesky.REWIND_US <= asked < now_us + 10**6
    assert rkeys() == {"3hostile1", "3hostile2"}
    # ... and the frames move the cursor again.
    assert CollectorState.objects.get(name=bluesky.STATE_NAME).state["cursor"] == frames[1][0]


def test_jetstream_a_silent_server_is_left_and_read_again_from_the_cursor(watch, caplog):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    with FakeJetstream(stop_at=3) as server:  # three frames, then an open, silent socket
        collector = bluesky.JetstreamCollector(
            server.url,
            stop=Stop(),
            backoff=Backoff(base=0.05, cap=0.1),
            silence=0.6,
            deadline=time.monotonic() + 3,
        )
        collector.run()
    assert len(server.requests) >= 2
    resumed = int(server.requests[1]["cursor"][0])
    assert resumed == max(t for t, _ in server.frames[:3]) - bluesky.REWIND_US
    assert any(
        "StreamSilent: no frame for" in r.getMessage() and "reconnecting" in r.getMessage()
        for r in caplog.records
    )
    ids = list(Mention.objects.values_list("external_id", flat=True))
    assert len(ids) == len(set(ids))


def test_jetstream_a_frame_too_big_is_skipped_and_the_stream_read_on(watch):
    frames = [
        post_frame(1),
        post_frame(2, text="Maison Lumière " + "x" * 2_000_000),
        post_frame(3),
    ]
    with FakeJetstream() as server:
        server.frames = frames
        collector = bluesky.JetstreamCollector(
            server.url,
            stop=Stop(),
            backoff=Backoff(base=0.05, cap=0.2),
            idle_exit=1.0,
            deadline=time.monotonic() + 8,
        )
        collector.run()
    assert {"3hostile1", "3hostile3"} <= rkeys()
    assert len(server.requests) <= 2


def test_jetstream_posts_with_odd_dates_and_long_texts_are_stored_bounded(watch):
    long_text = "Maison Lumière " + "é" * (MAX_TEXT + 5000)
    frames = [
        post_frame(1, createdAt="2025-11-30T09:00:00.123456789Z"),  # nanoseconds
        post_frame(2, createdAt="2025-11-30T10:00:00+0100"),
        post_frame(3, createdAt="2025-11-30T09:00:00"),  # no zone
        post_frame(4, createdAt="2999-01-01T00:00:00Z"),  # far ahead: a wrong clock
        post_frame(5, createdAt="yesterday"),
        post_frame(6, createdAt=12345),
        post_frame(7, text=long_text),
        post_frame(8, text="Maison Lumière \x00 \ud83d encore"),  # NUL, half an emoji
    ]
    with FakeJetstream() as server:
        server.frames = frames
        collect_bluesky(server.url)

    assert rkeys() == {f"3hostile{n}" for n in range(1, 9)}
    cleaned = Mention.objects.get(external_id__endswith="3hostile8").text
    assert cleaned == "Maison Lumière  \ufffd encore"
    assert len(Mention.objects.get(external_id__endswith="3hostile7").text) <= MAX_TEXT
    # A date that is not one (or not yet) is the time the stream saw the post.
    seen = Mention.objects.get(external_id__endswith="3hostile4").posted_at
    assert abs(seen - datetime.fromtimestamp(frames[3][0] / 1e6, UTC)) < timedelta(seconds=1)


def test_jetstream_a_connection_dropped_mid_frame_is_resumed(watch, caplog):
    """A server that sends half a frame, then hangs up without a close frame."""
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    calls = []

    def handler(connection):
        calls.append(1)
        if len(calls) == 1:
            connection.send(post_frame(1)[1])
            # A text frame header announcing 100 bytes, then only 10 of them.
            connection.socket.sendall(bytes([0x81, 100]) + b'{"time_us"')
            connection.socket.shutdown(socket.SHUT_RDWR)
            connection.socket.close()
            return
        connection.send(post_frame(2)[1])
        time.sleep(2)

    from websockets.sync.server import serve

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/subscribe"
        collect_bluesky(url)
        server.shutdown()
    assert rkeys() == {"3hostile1", "3hostile2"}
    messages = [r.getMessage() for r in caplog.records]
    assert any("reconnecting" in m for m in messages)
    assert all(
        "\n" not in m and not r.exc_info for m, r in zip(messages, caplog.records, strict=True)
    )


def test_jetstream_a_server_that_never_answers_the_handshake_is_left(watch, caplog):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (in the backlog) and never answers
    try:
        collector = bluesky.JetstreamCollector(
            f"ws://127.0.0.1:{listener.getsockname()[1]}/subscribe",
            backoff=Backoff(base=0.05, cap=0.1),
            deadline=time.monotonic() + 2,
            open_timeout=0.3,
        )
        started = time.monotonic()
        collector.run()
        assert time.monotonic() - started < 5
    finally:
        listener.close()
    assert "Jetstream" in CollectorState.objects.get(name=bluesky.STATE_NAME).last_error


# Mastodon ------------------------------------------------------------------------------


@pytest.fixture
def instance():
    with FakeInstance() as fake:
        yield fake


def run_bounded(collector, seconds=20):
    """collector.run(once=True), stopped (as by SIGTERM) if it has not ended within
    `seconds`; returns how long it took."""
    watchdog = threading.Timer(seconds, collector.stop.set)
    watchdog.start()
    started = time.monotonic()
    try:
        collector.run(once=True)
    finally:
        watchdog.cancel()
    return time.monotonic() - started


def test_mastodon_ids_that_are_not_numbers_are_cursors_too(watch, instance):
    """Pleroma, Akkoma (flake ids) and GoToSocial (ULIDs) answer the Mastodon API with ids
    that are not numbers (ordered as texts of the same length)."""
    instance.page = lambda statuses, query: list(
        reversed([s for s in statuses if s["id"] > query.get("min_id", "")][-40:])
    )
    first = instance.status("<p>#BoycottLumiere premier</p>", id="01JDQ5Z0000000000000000001")
    second = instance.status("<p>#BoycottLumiere second</p>", id="01JDQ5Z0000000000000000002")
    running = mastodon_collector(instance)
    run_bounded(running)
    assert {m.external_id for m in Mention.objects.all()} == {first["uri"], second["uri"]}
    state = CollectorState.objects.get(name=f"mastodon:{instance.base_url}")
    assert state.state["tags"]["boycottlumiere"] == second["id"]


def test_mastodon_malformed_statuses_are_skipped_and_the_others_stored(watch, instance, caplog):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    good = instance.status("<p>#BoycottLumiere bien formé</p>")
    timeline = instance.timelines["boycottlumiere"]
    timeline.insert(0, "not a status")
    timeline.insert(0, ["nor", "this"])
    timeline.insert(0, {"id": "5", "content": 42, "account": "jeanne", "mentions": 7})
    timeline.insert(0, {"content": "<p>#BoycottLumiere sans id</p>"})
    bad_account = instance.status("<p>#BoycottLumiere compte cassé</p>", account=["x"])
    bad_mentions = instance.status("<p>#BoycottLumiere</p>", mentions=3, in_reply_to_account_id="9")
    run_bounded(mastodon_collector(instance))
    stored = {m.external_id for m in Mention.objects.all()}
    assert good["uri"] in stored
    assert bad_account["uri"] in stored and bad_mentions["uri"] in stored
    state = CollectorState.objects.get(name=f"mastodon:{instance.base_url}")
    assert state.state["tags"]["boycottlumiere"] == bad_mentions["id"]


def test_mastodon_fields_far_over_the_limits_are_cut(watch, instance):
    status = instance.status(
        "<p>#BoycottLumiere " + "trop long " * 5000 + "</p>",
        uri="https://fake.example/users/jeanne/statuses/" + "9" * 400,
    )
    status["account"] = dict(
        status["account"], display_name="J" * 1000, acct="j" * 500, followers_count=2**40
    )
    status["favourites_count"] = 10**30
    run_bounded(mastodon_collector(instance))
    mention = Mention.objects.get()
    assert len(mention.text) <= MAX_TEXT and mention.text.startswith("#BoycottLumiere trop long")
    assert len(mention.author_name) <= MAX_HANDLE and len(mention.author_handle) <= MAX_HANDLE
    assert len(mention.external_id) <= MAX_EXTERNAL_ID
    assert mention.likes == mention.author_followers == MAX_COUNT
    # Seen again (the same status on the next pass or another instance): stored once.
    instance.timelines["boycottlumiere"].append(dict(status, id=str(int(status["id"]) + 1)))
    run_bounded(mastodon_collector(instance))
    assert Mention.objects.count() == 1


def test_mastodon_an_answer_that_is_not_a_timeline_is_recorded(watch, instance, caplog):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    instance.status("<p>#BoycottLumiere</p>")
    instance.page = lambda statuses, query: {"error": "not a list", "id": "9"}
    run_bounded(mastodon_collector(instance))
    state = CollectorState.objects.get(name=f"mastodon:{instance.base_url}")
    assert state.last_error


def test_mastodon_a_rate_limit_that_never_ends_fails_the_timeline_not_the_pass(
    watch, instance, caplog
):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    instance.status("<p>#BoycottLumiere</p>")
    instance.rate_limit_next = 10**6  # always 429
    running = mastodon_collector(instance)
    took = run_bounded(running, seconds=60)
    assert took < 60
    state = CollectorState.objects.get(name=f"mastodon:{instance.base_url}")
    assert "rate" in state.last_error.lower()


# Feeds ---------------------------------------------------------------------------------


class RawServer:
    """A TCP server on loopback answering each connection with `answer(connection)`."""

    def __init__(self, answer):
        self.answer = answer
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/feed"
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                with contextlib.suppress(OSError):  # the client left first
                    self.answer(connection)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.listener.close()


def feeds_against(urls, **options):
    configured = feeds.feeds_from([{"url": url} for url in urls])
    return feeds.FeedCollector(configured, stop=Stop(), interval=0, timeout=2, **options)


def http_answer(body, *, status="200 OK", headers=(), length=None):
    head = [f"HTTP/1.1 {status}", "Content-Type: application/atom+xml", "Connection: close"]
    head += [f"Content-Length: {len(body) if length is None else length}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def good_feed():
    return atom(
        [
            dict(
                slug="ok",
                title="Maison Lumière rappelle une crème",
                published="2025-11-30T09:15:00+01:00",
                summary="Le lot L-2291.",
            )
        ]
    )


BROKEN_ANSWERS = {
    "not http": lambda c: c.sendall(b"HELLO THERE\r\n\r\n"),
    "nothing": lambda c: None,
    # Every entry came, the end did not (Content-Length not reached): not the whole feed.
    "cut short": lambda c: c.sendall(http_answer(good_feed()[:-7], length=5000)),
    "header too long": lambda c: c.sendall(
        http_answer(good_feed(), headers=["ETag: " + "x" * 70_000])
    ),
    "too many headers": lambda c: c.sendall(
        http_answer(good_feed(), headers=[f"X-{n}: y" for n in range(200)])
    ),
    "html": lambda c: c.sendall(
        http_answer(b"<!doctype html><html><body><p>Maison Lumi\xc3\xa8re</p></body></html>")
    ),
    "xhtml": lambda c: c.sendall(
        http_answer(
            b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">'
            b"<body><p>Maison Lumiere</p></body></html>"
        )
    ),
    "redirect loop": lambda c: c.sendall(
        http_answer(b"", status="302 Found", headers=["Location: /feed"])
    ),
    "304 unasked": lambda c: c.sendall(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n"),
}


def test_feeds_a_broken_server_is_recorded_and_the_other_feeds_still_read(watch, caplog):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    servers = [RawServer(answer) for answer in BROKEN_ANSWERS.values()]
    with FakeFeeds() as good:
        for server in servers:
            server.__enter__()
        try:
            running = feeds_against([s.url for s in servers] + [good.base + "/atom.xml"])
            run_bounded(running, seconds=60)
        finally:
            for server in servers:
                server.__exit__()
    assert Mention.objects.get().external_id == "tag:news.example,2026:rappel"
    for name, server in zip(BROKEN_ANSWERS, servers, strict=True):
        state = CollectorState.objects.get(name=f"feed:{server.url}")
        if name == "304 unasked":
            assert state.last_error == "", name  # nothing changed: nothing to read
        else:
            assert state.last_error and state.last_success_at is None, name
            assert len(state.last_error) < 400 and "\n" not in state.last_error, name
    for record in caplog.records:
        assert "\n" not in record.getMessage() and not record.exc_info


def test_feeds_a_server_that_drips_its_answer_is_left(watch):
    def drip(connection):
        connection.sendall(http_answer(b"", length=10_000)[:-4] + b"\r\n\r\n")
        for _ in range(200):
            connection.sendall(b" ")
            time.sleep(0.5)

    with RawServer(drip) as server:
        took = run_bounded(feeds_against([server.url]), seconds=60)
    assert took < 20
    assert CollectorState.objects.get(name=f"feed:{server.url}").last_error


@pytest.mark.parametrize("part", ["status line", "headers"])
def test_feeds_a_server_that_drips_its_status_or_headers_is_left(watch, part):
    # The deadline covered the body only: a status line or headers sent a byte every half
    # second kept each read under its timeout, for as long as the server liked.
    head = http_answer(b"", length=10_000)

    def drip(connection):
        start = 0 if part == "status line" else head.index(b"\r\n") + 2
        connection.sendall(head[:start])
        for byte in (b"X-Slow: " + b"y" * 400) if part == "headers" else head[start:] * 20:
            connection.sendall(bytes([byte]))
            time.sleep(0.5)

    with RawServer(drip) as server:
        took = run_bounded(feeds_against([server.url]), seconds=60)
    assert took < 20
    state = CollectorState.objects.get(name=f"feed:{server.url}")
    assert state.last_error.endswith("the answer came too slowly")


def _mastodon_against(*base_urls, **config):
    instances = mastodon.instances_from([{"base_url": url, **config} for url in base_urls])
    return mastodon.MastodonCollector(
        instances, stop=Stop(), interval=0, backoff=Backoff(base=0.05, cap=0.1), timeout=1
    )


def _drip_json(connection):
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n"
    connection.sendall(head.encode() + b"[")
    for _ in range(200):
        connection.sendall(b" ")
        time.sleep(0.5)


def test_mastodon_an_instance_that_drips_its_answer_is_left(watch, instance):
    # Mastodon.py's timeout bounds each read: a byte every half second held the collector,
    # and every instance after this one, for as long as the server liked.
    good = instance.status("<p>#BoycottLumiere toujours lu</p>")
    with RawServer(_drip_json) as server:
        slow = server.url.rsplit("/", 1)[0]
        took = run_bounded(_mastodon_against(slow, instance.base_url), seconds=60)
    assert took < 20
    assert "too slowly" in CollectorState.objects.get(name=f"mastodon:{slow}").last_error
    assert {m.external_id for m in Mention.objects.all()} == {good["uri"]}


def test_mastodon_an_instance_dripping_through_a_proxy_is_left(watch, monkeypatch):
    # Behind an HTTP proxy (HTTP_PROXY) requests opens its connections from another pool
    # manager, which the deadline did not watch: 20 s and more for a 70-byte answer.
    with RawServer(_drip_json) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.rsplit("/", 1)[0])
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        base = "http://mastodon.example"
        took = run_bounded(_mastodon_against(base), seconds=60)
    assert took < 20
    assert "too slowly" in CollectorState.objects.get(name=f"mastodon:{base}").last_error


def test_mastodon_a_kept_alive_connection_that_starts_dripping_is_left(watch):
    # The second request goes over the first one's connection (keep-alive): its socket
    # was opened by the earlier request, and is put under this request's deadline too.
    def first_answer_then_drip(connection):
        body = b"[]"
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
        connection.sendall(head.encode() + b"\r\n\r\n" + body)
        connection.recv(65536)  # the next request, on the same connection
        _drip_json(connection)

    with RawServer(first_answer_then_drip) as server:
        base = server.url.rsplit("/", 1)[0]
        took = run_bounded(_mastodon_against(base, hashtags=["a", "b"]), seconds=60)
    assert took < 20
    assert "too slowly" in CollectorState.objects.get(name=f"mastodon:{base}").last_error


def test_feeds_a_redirect_to_ftp_is_not_followed(watch):
    # urllib's default opener followed it: an FTP answer is no HTTP response (the body's
    # read then failed outside any handled error), and no deadline watched it.
    def to_ftp(connection):
        target = "ftp://127.0.0.1:9/feed.xml"
        connection.sendall(http_answer(b"", status="302 Found", headers=[f"Location: {target}"]))

    with RawServer(to_ftp) as server:
        run_bounded(feeds_against([server.url]), seconds=30)
    state = CollectorState.objects.get(name=f"feed:{server.url}")
    assert "unknown url type: ftp" in state.last_error


def test_feeds_gigantic_entries_and_thousands_of_entries(watch):
    many = [
        dict(
            slug=f"n{n}",
            title=f"Maison Lumière, article {n}",
            published="2025-11-30T09:15:00+01:00",
            summary="Rien de plus.",
        )
        for n in range(3000)
    ]
    huge = dict(
        slug="huge",
        title="Maison Lumière : le dossier",
        published="Sun, 30 Nov 2025 09:15:00 EST",
        summary="mot " * 100_000,
    )
    long_id = dict(huge, slug="x" * 500, summary="court", published="2025-11-30T23:59:59-12:00")
    with FakeFeeds() as server:
        server.documents["/atom.xml"] = [atom([*many, huge, long_id]), '"big"']
        run_bounded(feed_collector(server, ("/atom.xml", "press")), seconds=120)
        assert Mention.objects.count() == 3002
        dossier = Mention.objects.get(text__startswith="Maison Lumière : le dossier\nmot")
        assert len(dossier.text) <= MAX_TEXT
        assert dossier.posted_at == datetime(2025, 11, 30, 14, 15, tzinfo=UTC)
        # Read again: nothing twice, the long id included.
        server.documents["/atom.xml"] = [atom([*many, huge, long_id]), '"big2"']
        run_bounded(feed_collector(server, ("/atom.xml", "press")), seconds=120)
    assert Mention.objects.count() == 3002


def test_feeds_a_validator_past_any_sensible_size_is_not_kept(watch):
    answer = http_answer(good_feed(), headers=["ETag: " + '"' + "e" * 20_000 + '"'])
    with RawServer(lambda c: c.sendall(answer)) as server:
        run_bounded(feeds_against([server.url]))
    state = CollectorState.objects.get(name=f"feed:{server.url}")
    assert state.last_error == "" and state.state["etag"] == ""
    assert Mention.objects.count() == 1


def test_feeds_a_database_error_mid_feed_is_read_again_whole(watch, monkeypatch, caplog):
    from django.db import OperationalError

    from incidents.listening import actions

    real, calls = actions._ingest_batch, []

    def failing_second_batch(*args):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly\n\tThis probably")
        return real(*args)

    monkeypatch.setattr(actions, "_ingest_batch", failing_second_batch)
    entries = [
        dict(
            slug=f"n{n}", title=f"Maison Lumière {n}", published="2025-11-30T09:15:00Z", summary=""
        )
        for n in range(2500)
    ]
    with FakeFeeds() as server:
        server.documents["/atom.xml"] = [atom(entries), '"v1"']
        running = feed_collector(server, ("/atom.xml", "press"))
        passes, poll = [], running.poll

        def two_passes():
            passes.append(1)
            try:
                return poll()
            finally:
                if len(passes) == 2:
                    running.stop.set()

        running.poll = two_passes
        running.backoff = Backoff(base=0.01, cap=0.01)
        running.run()
    assert Mention.objects.count() == 2500
    errors = [r.getMessage() for r in caplog.records if "database error" in r.getMessage()]
    assert len(errors) == 1 and "\n" not in errors[0]


def test_mastodon_an_html_page_is_recorded_in_one_short_line(watch, caplog):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    page = b"<!doctype html>\n<html><body>" + b"<p>Bad gateway</p>\n" * 5000 + b"</body></html>"
    answer = http_answer(page).replace(b"application/atom+xml", b"application/json")
    with RawServer(lambda c: c.sendall(answer)) as server:
        base = server.url.rsplit("/", 1)[0]
        instances = mastodon.instances_from([{"base_url": base}])
        running = mastodon.MastodonCollector(instances, stop=Stop(), interval=0, timeout=2)
        run_bounded(running)
    state = CollectorState.objects.get(name=f"mastodon:{base}")
    assert "MastodonAPIError" in state.last_error and len(state.last_error) <= 300
    messages = [r.getMessage() for r in caplog.records]
    assert messages and all(len(m) <= 300 and "\n" not in m for m in messages)


def test_mastodon_an_instance_whose_ids_go_backwards_stores_nothing_twice(watch, instance):
    statuses = [instance.status(f"<p>#BoycottLumiere {n}</p>") for n in range(50)]
    running = mastodon_collector(instance)
    run_bounded(running)
    # The instance then ignores min_id and answers its oldest page (ids below the cursor).
    instance.page = lambda timeline, query: list(reversed(timeline[:40]))
    run_bounded(running)
    run_bounded(running)
    ids = list(Mention.objects.values_list("external_id", flat=True))
    assert len(ids) == len(set(ids)) == 50
    assert set(ids) == {s["uri"] for s in statuses}


def test_mastodon_rate_limit_headers_it_cannot_read_fail_the_timeline_not_the_pass(watch):
    """Mastodon.py refuses an answer whose X-RateLimit-Reset it cannot read, even a 200."""
    answer = http_answer(
        b"[]", headers=["X-RateLimit-Remaining: 0", "X-RateLimit-Reset: in a while"]
    ).replace(b"application/atom+xml", b"application/json")
    with RawServer(lambda c: c.sendall(answer)) as server:
        base = server.url.rsplit("/", 1)[0]
        instances = mastodon.instances_from([{"base_url": base}])
        running = mastodon.MastodonCollector(instances, stop=Stop(), interval=0, timeout=2)
        running.rate_backoff_base = 0.05
        took = run_bounded(running, seconds=60)
    assert took < 60
    assert "Rate limit" in CollectorState.objects.get(name=f"mastodon:{base}").last_error


# A fault nobody foresaw ------------------------------------------------------------------


def test_jetstream_an_unexpected_error_is_logged_and_read_again(watch, monkeypatch, caplog):
    # Any exception not anticipated ended the process, and under honcho the whole stack.
    real, calls = bluesky.post_row, []

    def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("a bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(bluesky, "post_row", failing_once)
    with FakeJetstream() as server:
        collect_bluesky(server.url)
    assert len(server.requests) >= 2  # it reconnected from the saved cursor...
    ids = set(Mention.objects.filter(platform="bluesky").values_list("external_id", flat=True))
    assert ids == expected_ids()  # ...and lost nothing
    assert any("unexpected error" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_polling_collector_survives_an_unexpected_error(watch, caplog):
    # Feeds and Mastodon share the loop: an exception not anticipated ended the process.
    class Flaky(PollingCollector):
        label = "Flaky"
        passes = 0

        def poll(self):
            self.passes += 1
            if self.passes == 1:
                raise RuntimeError("a bug")
            self.stop.set()
            return 0

    collector = Flaky(interval=0.01, timeout=1, stop=Stop(), backoff=Backoff(base=0.01, cap=0.02))
    collector.run()
    assert collector.passes == 2
    assert any("Flaky: unexpected error" in r.getMessage() for r in caplog.records)
    with pytest.raises(RuntimeError):
        Flaky(interval=0, timeout=1, stop=Stop()).run(once=True)
