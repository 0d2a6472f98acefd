"""A collector that does not run is said on the Listening page: a configured feed or
Mastodon instance whose collector stopped writing (or never registered it), Bluesky's
collector gone silent while a watch listens to Bluesky. The collectors say they are alive
at a bounded interval, idle or not (connectors/liveness.py), and Jetstream's connection
clears the error recorded before it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.listening import actions, selectors
from incidents.listening.connectors import bluesky, common, feeds, liveness
from incidents.listening.connectors.common import Backoff, Stop
from incidents.listening.models import MAX_URL, CollectorState, Watch
from tests.listening.conftest import grant
from tests.listening.test_connectors_bluesky import FakeJetstream
from tests.listening.test_connectors_bluesky import collect as collect_bluesky
from tests.listening.test_connectors_feeds import FakeFeeds

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FEED = "https://news.example/rss"
INSTANCE = "https://social.example"
DETECTION_SKEW = selectors.DETECTION_LATE


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
    assert found(later) == [  # the instances first, then the feeds
        ("mastodon", "social.example", True, NOW - instance_limit + timedelta(seconds=1)),
        ("feed", "news.example", True, NOW - feed_limit + timedelta(seconds=1)),
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
    # The detector never ran, Bluesky stopped; every feed stopped (half stopped, half never
    # registered): their collector, said once, first; then the instance, never registered
    # (every "feed:" sorts before "mastodon:": it is judged all the same).
    assert problems[0].source == "detector" and problems[0].late
    assert problems[1].source == "bluesky"
    assert [(p.source, p.where, p.count) for p in problems[2:]] == [
        ("feed", "", 150),
        ("mastodon", "social.example", 1),
    ]
    assert problems.more == 0


def test_past_max_sources_the_instances_are_judged_and_the_rest_said_together(watch, settings):
    settings.LISTENING_MASTODON = [{"base_url": "https://social.example"}]
    settings.LISTENING_FEEDS = [
        {"url": f"https://news{i}.example/rss"} for i in range(selectors.MAX_SOURCES + 5)
    ]
    watch_age(watch, timedelta(days=1))
    row("detector", NOW)
    for i in range(selectors.MAX_SOURCES + 5):
        row(f"feed:https://news{i}.example/rss", NOW)
    problems = selectors.source_problems(NOW)
    assert found() == [("mastodon", "social.example", True, None)]
    assert problems.more == 0 and problems.platforms_missing == {"mastodon"}
    # The last feed, past the sources judged one by one, stops: not named, but counted,
    # its platform's posts said missing, and since when.
    last = f"feed:https://news{selectors.MAX_SOURCES + 4}.example/rss"
    CollectorState.objects.filter(name=last).update(updated_at=NOW - timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        problems = selectors.source_problems(NOW)
    assert len(queries) == 3  # the sources judged, the watches, those past them together
    assert [(p.source, p.where) for p in problems] == [("mastodon", "social.example")]
    assert problems.more == 1 and problems.platforms_missing == {"mastodon", "press"}
    assert (problems.missing_since, problems.missing_stopped) == (NOW - timedelta(hours=1), True)


def test_past_max_sources_each_rule_counts_and_the_earliest_trouble_is_said(
    watch, settings, monkeypatch
):
    monkeypatch.setattr(selectors, "MAX_SOURCES", 2)
    settings.LISTENING_MASTODON = []
    settings.LISTENING_FEEDS_INTERVAL, settings.LISTENING_HTTP_TIMEOUT = 300, 20  # 15 min
    names = ["judged0", "judged1", "alive", "stopped", "failing", "ahead", "never", "bad"]
    platforms = {"failing": "forum", "never": "forum", "bad": "PRESS"}  # "PRESS": not valid
    settings.LISTENING_FEEDS = [
        {"url": f"https://{name}.example/rss", "platform": platforms.get(name)} for name in names
    ]

    def feed(name, updated, **state):
        row(f"feed:https://{name}.example/rss", updated, **state)

    watch_age(watch, timedelta(days=1))
    row("detector", NOW)
    for name in ("judged0", "judged1", "alive"):
        feed(name, NOW, success=NOW)
    feed("stopped", NOW - timedelta(hours=2), success=NOW - timedelta(hours=2))
    feed("failing", NOW, success=NOW - timedelta(hours=3), error="HTTP 500")
    feed("ahead", NOW + timedelta(days=1))
    feed("bad", NOW - timedelta(hours=1))
    CollectorState.objects.create(name="feed:https://gone.example/rss", updated_at=NOW)  # not ours
    problems = selectors.source_problems(NOW)
    assert list(problems) == []  # none of those judged one by one
    assert problems.more == 5  # stopped, failing, ahead, never registered, bad
    assert problems.platforms_missing == {"press", "forum", None}
    # The failing feed's last success is the earliest (the one ahead tells nothing).
    assert (problems.missing_since, problems.missing_stopped) == (NOW - timedelta(hours=3), False)
    # Listening in use for less than a feed's limit: one never registered is no news yet.
    watch_age(watch, timedelta(minutes=5))
    assert selectors.source_problems(NOW).more == 4


def test_a_collector_stopped_past_max_sources_too_is_said_once(watch, settings, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_SOURCES", 2)
    settings.LISTENING_MASTODON = []
    settings.LISTENING_FEEDS = [
        {"url": f"https://news{i}.example/rss", "platform": ["press", "forum"][i % 2]}
        for i in range(6)
    ]
    watch_age(watch, timedelta(days=1))
    row("detector", NOW)
    last = NOW - timedelta(hours=1)
    for i in range(5):  # the last never registered
        row(f"feed:https://news{i}.example/rss", last - timedelta(minutes=i * (-1) ** i))
    problems = selectors.source_problems(NOW)
    # Its latest news is one of those past the bound (news3: 57 minutes ago).
    assert [(p.source, p.count, p.since, p.platforms) for p in problems] == [
        ("feed", 6, last + timedelta(minutes=3), ("press", "forum"))
    ]
    assert problems.more == 0
    # One past the bound alive: its process runs; the two judged are said one by one.
    CollectorState.objects.filter(name="feed:https://news3.example/rss").update(updated_at=NOW)
    problems = selectors.source_problems(NOW)
    assert [(p.where, p.count) for p in problems] == [("news0.example", 1), ("news1.example", 1)]
    assert problems.more == 3


def test_a_collector_whose_every_source_stopped_is_said_once(watch, settings):
    settings.LISTENING_MASTODON = [{"base_url": "https://social.example"}]
    settings.LISTENING_FEEDS = [{"url": f"https://news{i}.example/rss"} for i in range(120)]
    watch_age(watch, timedelta(days=1))
    row("detector", NOW)
    row("mastodon:https://social.example", NOW)
    last = NOW - timedelta(hours=1)
    for i in range(119):
        row(f"feed:https://news{i}.example/rss", last - timedelta(seconds=i))
    # The last feed never registered: stopped all the same (added after the process died).
    problems = selectors.source_problems(NOW)
    assert [(p.source, p.where, p.stopped, p.since, p.count) for p in problems] == [
        ("feed", "", True, last, 120)
    ]
    assert problems.more == 0
    # One of them alive: its process runs, the others are said one by one (and cut).
    CollectorState.objects.filter(name="feed:https://news7.example/rss").update(updated_at=NOW)
    problems = selectors.source_problems(NOW)
    assert all(p.count == 1 for p in problems)
    assert len(problems) == selectors.MAX_SOURCE_LINES
    assert problems.more == 119 - selectors.MAX_SOURCE_LINES


def test_a_record_dated_in_the_future_is_said_past_its_limit(watch, watch_editor, configured):
    # A collector's clock ahead (or a bad row) would never look stale.
    configured.LISTENING_MASTODON = []
    watch_age(watch, timedelta(days=3))
    feed_limit = liveness.stale_after(300, 20)
    row("detector", NOW + DETECTION_SKEW)
    row(f"feed:{FEED}", NOW + feed_limit)
    row(bluesky.STATE_NAME, NOW + liveness.JETSTREAM_STALE)
    assert found() == []  # within the limit: clock skew
    ahead = NOW + timedelta(hours=1)
    CollectorState.objects.update(updated_at=ahead)
    problems = selectors.source_problems(NOW)
    assert [(p.source, p.late, p.ahead, p.since) for p in problems] == [
        ("detector", True, True, ahead),
        ("bluesky", False, True, ahead),
        ("feed", False, True, ahead),
    ]


def test_a_feed_address_too_long_for_its_record_is_collected_and_judged(watch, settings):
    url = "https://news.example/" + "x" * MAX_URL
    name = liveness.feed_state(url)
    assert len(name) == MAX_URL and name == liveness.feed_state(url)
    assert name != liveness.feed_state(url + "y")
    settings.LISTENING_FEEDS, settings.LISTENING_MASTODON = [{"url": url}], []
    watch_age(watch, timedelta(days=1))
    row("detector", NOW)
    assert found() == [("feed", "news.example", True, None)]  # never registered
    actions.collector_state_record(name=feeds.Feed(url=url).state_name, progress=True, now=NOW)
    assert found() == []


UNSTORABLE = ["\x00", "\udcff"]  # JSON "\u0000"; a byte of the environment not UTF-8


@pytest.mark.parametrize("bad", UNSTORABLE, ids=["nul", "non-utf8-byte"])
@pytest.mark.parametrize("past", [False, True], ids=["judged", "past-max-sources"])
def test_an_address_no_database_stores_is_said_never_registered_without_asking(
    watch, settings, monkeypatch, bad, past
):
    """Its collector refuses it (liveness.is_http_url), so it has no row: the page says it
    never registered, and sends its name to no database (PostgreSQL refuses a NUL and a
    lone surrogate in a text, SQLite's json_each cuts a name at a NUL)."""
    monkeypatch.setattr(selectors, "MAX_SOURCES", 1 if past else 1000)
    settings.LISTENING_MASTODON = []
    settings.LISTENING_FEEDS = [{"url": FEED}, {"url": f"https://a.example/{bad}rss"}]
    watch_age(watch, timedelta(days=1))
    row("detector", NOW)
    row(f"feed:{FEED}", NOW)
    with CaptureQueriesContext(connection) as queries:
        problems = selectors.source_problems(NOW)
    assert not any("a.example" in query["sql"] for query in queries.captured_queries)
    if past:
        assert list(problems) == [] and problems.more == 1
    else:  # named by its place: its address does not parse cleanly
        assert [(p.source, p.where, p.position, p.stopped) for p in problems] == [
            ("feed", "", 2, True)
        ]
    assert problems.platforms_missing == {"press"}


@pytest.mark.parametrize("bad", UNSTORABLE, ids=["nul", "non-utf8-byte"])
@pytest.mark.parametrize("past", [False, True], ids=["judged", "past-max-sources"])
def test_the_listening_page_answers_with_such_an_address(
    reader, watch, settings, monkeypatch, browser_client, bad, past
):
    monkeypatch.setattr(selectors, "MAX_SOURCES", 1 if past else 1000)
    settings.LISTENING_FEEDS = [{"url": FEED}, {"url": f"https://a.example/{bad}"}]
    settings.LISTENING_MASTODON = [{"base_url": f"https://social.example/{bad}"}]
    client = browser_client.as_user(reader)
    for url in ("/listening/", "/listening/panels/sources/"):
        assert client.get(url).status_code == 200


ODD_NAMES = [
    "https://a.example/it's'); DROP TABLE listening_collectorstate;--",
    'https://a.example/"quoted"]}{[,',
    "https://a.example/back\\slash/100%_like",
    "https://a.example/é-😀-z\u200bw",
    "https://a.example/" + "x" * 3000,  # past MAX_URL: shortened with a hash
]


@pytest.mark.parametrize("url", ODD_NAMES)
def test_an_odd_name_past_those_judged_one_by_one_is_data_and_found(
    watch, settings, monkeypatch, url
):
    """Sent as one parameter (an array, a JSON array read by json_each): never SQL."""
    monkeypatch.setattr(selectors, "MAX_SOURCES", 1)
    settings.LISTENING_MASTODON = []
    settings.LISTENING_FEEDS = [{"url": FEED}, {"url": url}]
    watch_age(watch, timedelta(days=1))
    row("detector", NOW)
    row(f"feed:{FEED}", NOW)
    row(liveness.feed_state(url), NOW)
    problems = selectors.source_problems(NOW)
    assert problems.more == 0 and not problems.platforms_missing
    CollectorState.objects.filter(name=liveness.feed_state(url)).update(
        updated_at=NOW - timedelta(hours=2)
    )
    problems = selectors.source_problems(NOW)
    assert problems.more == 1 and problems.platforms_missing == {"press"}
    assert problems.missing_since == NOW - timedelta(hours=2)
    assert CollectorState.objects.count() == 3


def test_one_source_failing_to_beat_does_not_stop_the_others(db, monkeypatch, caplog):
    written = []

    def save_state(name, progress):
        if name == "feed:b":
            raise DatabaseError("value too long for type character varying(2000)")
        written.append(name)

    monkeypatch.setattr(common, "save_state", save_state)
    collector = feeds.FeedCollector([feeds.Feed(url=u) for u in "abc"])
    collector.heartbeat(force=True)
    assert written == ["feed:a", "feed:c"]
    assert "saying feed:b is alive" in caplog.text


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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://news.example/rss", ("news.example", "https://news.example/rss")),
        (
            "https://u:p@www.google.com/alerts/feeds/1/2?k=SECRET#x",
            ("www.google.com", "https://www.google.com/alerts/feeds/1/2"),
        ),
        (
            "https://mastodon.social/@user.rss",
            ("mastodon.social", "https://mastodon.social/@user.rss"),
        ),
        (
            "https://[2001:db8::1]:8443/feed",
            ("[2001:db8::1]:8443", "https://[2001:db8::1]:8443/feed"),
        ),
        ("http://10.0.0.1:8080/x", ("10.0.0.1:8080", "http://10.0.0.1:8080/x")),
        ("https://apikey:SECRETPW/x@evil.example.com/feed", None),
        ("https://TOKENABC123?@host.example.com/feed", None),
        ("https://apikey:1234/@evil.example.com/feed", None),
        ("https://a b@host.example.com/feed", None),
        ("https://us/er@host.example.com/feed", None),
        ("https://host.example.com:99999/feed", None),
        ("https://[::1/feed", None),
        ("news.example/rss", None),
        ("ftp://news.example/rss", None),
    ],
)
def test_what_is_shown_of_an_address_is_what_parses_cleanly(url, shown):
    assert selectors._address(url) == shown


def test_feeds_are_named_without_their_secrets_and_told_apart(
    reader, watch, settings, browser_client, make_user, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    settings.LISTENING_MASTODON = []
    settings.LISTENING_FEEDS = [
        {"url": "https://www.google.com/alerts/feeds/111/aaa?token=QUERYSECRET7"},
        {"url": "https://apikey:SECRETPW/x@evil.example.com/feed"},
        {"url": "https://www.google.com/alerts/feeds/111/bbb"},
        {"url": "https://TOKENABC123?@host.example.com/feed"},
        {"url": "https://news.example/rss"},
    ]
    watch_age(watch, timedelta(days=3))
    row("detector", NOW)
    row("feed:https://news.example/rss", NOW)  # alive: its collector runs
    page = browser_client.as_user(reader).get("/listening/").content.decode()
    for secret in ("SECRETPW", "apikey", "TOKENABC123", "tokenabc123", "QUERYSECRET7", "/alerts/"):
        assert secret not in page
    assert "Collecting from the feed www.google.com (1 of 2 feeds there) has not" in page
    assert "Collecting from the feed www.google.com (2 of 2 feeds there) has not" in page
    assert "Collecting from the feed no. 2 of the configuration has not started." in page
    assert "Collecting from the feed no. 4 of the configuration has not started." in page
    assert "Collecting from the feed  " not in page

    operator = grant(make_user("operator", is_staff=True), "view_mention", "view_collectorstate")
    page = browser_client.as_user(operator).get("/listening/").content.decode()
    assert "the feed https://www.google.com/alerts/feeds/111/aaa has not" in page
    assert "the feed https://www.google.com/alerts/feeds/111/bbb has not" in page
    assert "QUERYSECRET7" not in page and "SECRETPW" not in page and "TOKENABC123" not in page


def test_the_page_says_a_stopped_collector_once_and_what_it_leaves_out(
    reader, watch, settings, browser_client, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    settings.LISTENING_MASTODON = [{"base_url": f"https://social{i}.example"} for i in range(30)]
    settings.LISTENING_FEEDS = [{"url": f"https://news{i}.example/rss"} for i in range(120)]
    watch_age(watch, timedelta(days=3))
    row("detector", NOW)
    row("mastodon:https://social0.example", NOW)  # listen_mastodon runs, 29 never read
    for i in range(120):
        row(f"feed:https://news{i}.example/rss", NOW - timedelta(hours=2))
    page = browser_client.as_user(reader).get("/listening/").content.decode()
    assert "Collecting from 120 feeds seems to have stopped (no news of it since" in page
    # The collector down first, then the instances one by one, cut and counted.
    assert page.count("Collecting from Mastodon (social") == selectors.MAX_SOURCE_LINES - 1
    assert "And 10 more sources are not working." in page
    assert "news7.example" not in page
    # Past the sources judged one by one, the feeds are judged together, the same way.
    monkeypatch.setattr(selectors, "MAX_SOURCES", 100)
    page = browser_client.as_user(reader).get("/listening/").content.decode()
    assert "Collecting from 120 feeds seems to have stopped (no news of it since" in page
    assert "And 10 more sources are not working." in page


def test_the_page_says_sources_past_those_judged_one_by_one(
    reader, watch, settings, browser_client, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    monkeypatch.setattr(selectors, "MAX_SOURCES", 3)
    settings.LISTENING_MASTODON = []
    settings.LISTENING_FEEDS = [{"url": f"https://news{i}.example/rss"} for i in range(6)]
    watch_age(watch, timedelta(days=3))
    row("detector", NOW)
    for i in range(6):
        row(f"feed:https://news{i}.example/rss", NOW - timedelta(hours=2 if i > 3 else 0))
    page = browser_client.as_user(reader).get("/listening/").content.decode()
    assert (
        "2 configured sources are not working: their posts are missing from the stream"
        " and from the alerts." in page
    )
    assert "news4.example" not in page and "Nothing abnormal" not in page
    assert "No open signal in what arrived, but the posts of a source above are missing" in page
    assert "Posts from Press may be missing:" in page  # the notice above the stream


def test_the_page_says_a_record_in_the_future(
    reader, watch, configured, browser_client, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    configured.LISTENING_MASTODON = []
    watch_age(watch, timedelta(days=3))
    row("detector", NOW + timedelta(days=1))
    row(f"feed:{FEED}", NOW + timedelta(days=1))
    page = browser_client.as_user(reader).get("/listening/").content.decode()
    assert "The last run of spike detection is dated" in page
    assert "The last news of collecting from the feed news.example is dated" in page
    assert "the collector’s clock or its record is off" in page


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
    assert sum(p.count for p in selectors.source_problems(NOW) if p.source == "feed") == 2


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
