"""A collector that does not run is said on the Listening page: a configured feed or
Mastodon instance whose collector stopped writing (or never registered it), Bluesky's
collector gone silent while a watch listens to Bluesky. The collectors say they are alive
at a bounded interval, idle or not (connectors/liveness.py), and Jetstream's connection
clears the error recorded before it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.listening import actions, selectors
from incidents.listening.connectors import bluesky, feeds, liveness
from incidents.listening.connectors.common import Backoff, Stop
from incidents.listening.models import CollectorState, Watch
from tests.listening.conftest import grant
from tests.listening.test_connectors_bluesky import FakeJetstream
from tests.listening.test_connectors_bluesky import collect as collect_bluesky
from tests.listening.test_connectors_feeds import FakeFeeds

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FEED = "https://news.example/rss"
INSTANCE = "https://social.example"


@pytest.fixture
def configured(settings):
    settings.LISTENING_FEEDS = [{"url": FEED}]
    settings.LISTENING_MASTODON = [{"base_url": INSTANCE + "/"}]
    settings.LISTENING_FEEDS_INTERVAL = 300
    settings.LISTENING_MASTODON_INTERVAL = 60
    settings.LISTENING_HTTP_TIMEOUT = 20
    return settings


def row(name, updated, *, success=None, error=""):
    return CollectorState.objects.create(
        name=name, updated_at=updated, last_success_at=success, last_error=error
    )


def watch_age(watch, age):
    Watch.objects.filter(pk=watch.pk).update(created_at=NOW - age)


def found(now=NOW):
    return [(p.source, p.where, p.stopped, p.since) for p in selectors.source_problems(now)]


# The page's rule --------------------------------------------------------------------


def test_the_staleness_limit_follows_the_collectors_own_interval():
    # Several passes, and never less than a few heartbeats and one whole answer.
    assert liveness.stale_after(300, 20) == timedelta(minutes=15)
    assert liveness.stale_after(60, 20) == timedelta(seconds=3 * 60 + 3 * 20)
    assert liveness.stale_after(3600, 20) == timedelta(hours=3)


def test_a_collector_that_stopped_writing_is_said_with_its_last_news(watch, configured):
    watch_age(watch, timedelta(days=3))
    row("detector", NOW)
    feed_limit = liveness.stale_after(300, 20)  # 15 minutes
    instance_limit = liveness.stale_after(60, 20)  # 4 minutes
    row(f"feed:{FEED}", NOW - feed_limit + timedelta(seconds=1), success=NOW - feed_limit)
    row(f"mastodon:{INSTANCE}", NOW - instance_limit + timedelta(seconds=1))
    row("feed:https://gone.example/rss", NOW - timedelta(days=9))  # no longer configured
    assert found() == []

    later = NOW + timedelta(seconds=2)
    assert found(later) == [
        ("feed", "news.example", True, NOW - feed_limit + timedelta(seconds=1)),
        ("mastodon", "social.example", True, NOW - instance_limit + timedelta(seconds=1)),
    ]
    # A longer interval waits longer before it says so.
    configured.LISTENING_FEEDS_INTERVAL = 900
    assert [p[0] for p in found(later)] == ["mastodon"]


def test_a_stopped_collector_is_said_rather_than_its_old_error(watch, configured):
    configured.LISTENING_MASTODON = []
    watch_age(watch, timedelta(days=3))
    row("detector", NOW)
    stopped = NOW - timedelta(hours=2)
    row(f"feed:{FEED}", stopped, success=NOW - timedelta(hours=3), error="HTTP 503")
    [problem] = selectors.source_problems(NOW)
    assert (problem.stopped, problem.since, problem.error) == (True, stopped, "HTTP 503")
    assert problem.command == "listen_feeds"


def test_a_source_no_collector_registered_is_said_once_listening_is_in_use(
    watch, watch_editor, configured
):
    row("detector", NOW)
    row(f"mastodon:{INSTANCE}", NOW)
    # A fresh install: its watch is minutes old, the collectors are starting.
    watch_age(watch, timedelta(minutes=10))
    assert found() == []
    # Older than the feed's limit (15 minutes): no listen_feeds ever read it.
    watch_age(watch, timedelta(minutes=16))
    assert found() == [("feed", "news.example", True, None)]
    # Without an active watch nothing is collected anyway.
    actions.watch_update(watch=watch, actor=watch_editor, is_active=False)
    assert found() == []


def test_bluesky_is_said_stopped_only_while_a_watch_listens_to_it(watch, watch_editor, settings):
    settings.LISTENING_FEEDS = settings.LISTENING_MASTODON = []
    watch_age(watch, timedelta(days=3))
    row("detector", NOW)
    # Never run: nothing says it should (the Jetstream address has a default, and a
    # watch's platforms say what to keep, not what is deployed).
    assert found() == []
    silent = NOW - liveness.JETSTREAM_STALE - timedelta(seconds=1)
    row(bluesky.STATE_NAME, silent, success=silent)
    assert found() == [("bluesky", "", True, silent)]  # every platform, Bluesky included
    actions.watch_update(watch=watch, actor=watch_editor, platforms=["mastodon", "bluesky"])
    assert found() == [("bluesky", "", True, silent)]
    actions.watch_update(watch=watch, actor=watch_editor, platforms=["mastodon"])
    assert found() == []
    # Nor its failures while no watch listens to Bluesky.
    CollectorState.objects.filter(name=bluesky.STATE_NAME).update(
        updated_at=NOW, last_success_at=None, last_error="Jetstream: refused"
    )
    assert found() == []


def test_two_queries_at_most_whatever_the_sources(watch, settings):
    settings.LISTENING_FEEDS = [{"url": f"https://news{i}.example/rss"} for i in range(150)]
    settings.LISTENING_MASTODON = [{"base_url": "https://social.example"}]
    watch_age(watch, timedelta(days=1))
    for i in range(0, 150, 2):
        row(f"feed:https://news{i}.example/rss", NOW - timedelta(hours=1))
    row(bluesky.STATE_NAME, NOW - timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        problems = selectors.source_problems(NOW)
    assert len(queries) == 2
    # The detector never ran, Bluesky stopped, and the first MAX_SOURCES configured
    # sources by name, half stopped and half never registered.
    assert problems[0].source == "detector" and problems[0].late
    assert sum(p.source == "bluesky" for p in problems) == 1
    assert sum(p.source in ("feed", "mastodon") for p in problems) == selectors.MAX_SOURCES


# The page ---------------------------------------------------------------------------


def test_the_page_says_which_collector_does_not_run_and_what_to_check(
    reader, watch, configured, browser_client, make_user, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    watch_age(watch, timedelta(days=3))
    row("detector", NOW)
    row(f"feed:{FEED}", NOW - timedelta(hours=2), error="Feed https://news.example/rss: HTTP 502")
    page = browser_client.as_user(reader).get("/listening/").content.decode()
    assert "Collecting from the feed news.example seems to have stopped (no news of it" in page
    assert "Collecting from Mastodon (social.example) has not started." in page
    assert "a quiet stream does not mean all is well" in page
    assert page.count("An administrator should check that its collector is running.") == 2
    assert "listen_feeds" not in page and "HTTP 502" not in page
    # The panel asks again every minute: a collector that stops sends no live event.
    assert 'hx-trigger="every 60s"' in page

    operator = grant(make_user("operator", is_staff=True), "view_mention", "view_collectorstate")
    page = browser_client.as_user(operator).get("/listening/").content.decode()
    assert "Check that the <code>listen_feeds</code> process is running, and its log." in page
    assert "Its last error: Feed https://news.example/rss: HTTP 502" in page
    assert "No <code>listen_mastodon</code> process has registered this source yet" in page


# The collectors say they are alive ------------------------------------------------------


class FakeTime:
    """A monotonic clock that moves only when a collector waits, and timezone.now with it."""

    def __init__(self, monkeypatch):
        self.seconds = 0.0
        monkeypatch.setattr(timezone, "now", self.now)

    def __call__(self):
        return self.seconds

    def now(self):
        return NOW + timedelta(seconds=self.seconds)


class Waits(Stop):
    """Waits pass at once on the fake clock; `look()` is called before each; stopped once
    the clock reaches `until`."""

    def __init__(self, clock, until, look):
        super().__init__()
        self.clock, self.until, self.look = clock, until, look

    def wait(self, seconds):
        self.look()
        self.clock.seconds += max(0.0, seconds)
        if self.clock.seconds >= self.until:
            self.set()
        return self.is_set()


def test_a_collector_registers_its_sources_when_it_starts(watch, settings, monkeypatch):
    FakeTime(monkeypatch)
    with FakeFeeds() as server:
        urls = [server.base + "/atom.xml", server.base + "/forum.rss"]
        stop = Stop()
        stop.set()  # stopped before its first pass
        feeds.FeedCollector(feeds.feeds_from([{"url": u} for u in urls]), stop=stop).run()
        assert server.requests == []
    states = CollectorState.objects.filter(name__in=[f"feed:{u}" for u in urls])
    assert states.count() == 2
    assert all(s.last_success_at is None and s.last_error == "" for s in states)
    settings.LISTENING_FEEDS = [{"url": u} for u in urls]
    watch_age(watch, timedelta(days=1))
    assert not any(p.source == "feed" for p in selectors.source_problems(NOW))
    # Unregistered, the same feeds would be said never read.
    CollectorState.objects.filter(name__startswith="feed:").delete()
    assert sum(p.source == "feed" for p in selectors.source_problems(NOW)) == 2


def test_feeds_backing_off_for_an_hour_still_say_they_are_alive(watch, settings, monkeypatch):
    clock = FakeTime(monkeypatch)
    with FakeFeeds() as server:
        url = server.base + "/missing.xml"  # 404: every feed fails, the backoff is long
        settings.LISTENING_FEEDS, settings.LISTENING_FEEDS_INTERVAL = [{"url": url}], 60
        watch_age(watch, timedelta(days=1))
        seen = []

        def look():
            problems = selectors.source_problems(clock.now())
            seen.append([(p.source, p.stopped) for p in problems if p.source == "feed"])

        collector = feeds.FeedCollector(
            feeds.feeds_from([{"url": url}]),
            stop=Waits(clock, 3600, look),
            interval=60,
            timeout=5,
            backoff=Backoff(base=3600, cap=3600, rng=lambda: 1.0),
            clock=clock,
        )
        collector.run()
    assert len(server.requests) == 1  # one pass, then an hour's backoff
    assert len(seen) == 60  # waited a minute at a time, beating in between
    assert all(problems == [("feed", False)] for problems in seen)  # failing, never stopped
    state = CollectorState.objects.get(name=f"feed:{url}")
    assert state.updated_at >= clock.now() - timedelta(minutes=1)


def test_jetstream_idle_without_a_watch_still_says_it_is_alive(watch, watch_editor, monkeypatch):
    clock = FakeTime(monkeypatch)
    actions.watch_update(watch=watch, actor=watch_editor, is_active=False)
    ages = []

    def look():
        state = CollectorState.objects.get(name=bluesky.STATE_NAME)
        ages.append(clock.now() - state.updated_at)

    collector = bluesky.JetstreamCollector(
        "ws://127.0.0.1:9/subscribe", stop=Waits(clock, 3600, look), clock=clock
    )
    collector.run()
    assert len(ages) == 3600 / bluesky.NO_WATCH_RECHECK_SECONDS
    assert max(ages) <= timedelta(seconds=bluesky.NO_WATCH_RECHECK_SECONDS)
    # A watch started after that idle hour: Bluesky is not taken for stopped.
    actions.watch_update(watch=watch, actor=watch_editor, is_active=True)
    assert not [p for p in selectors.source_problems(clock.now()) if p.source == "bluesky"]


def test_jetstream_connecting_clears_the_error_recorded_before(watch):
    failed = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    actions.collector_state_record(name=bluesky.STATE_NAME, state={}, now=failed)
    actions.collector_state_record(name=bluesky.STATE_NAME, error="Jetstream: refused")
    with FakeJetstream() as server:
        server.frames = []  # connected, nothing comes: no cursor to save yet
        collect_bluesky(server.url)
    state = CollectorState.objects.get(name=bluesky.STATE_NAME)
    # The error was a previous process's; the success is still said only with posts stored.
    assert state.last_error == "" and state.last_success_at == failed
