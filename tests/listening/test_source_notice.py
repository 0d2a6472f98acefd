"""A source that stopped is said wherever its missing posts could mislead: above the
Listening page's stream (and in its empty state when the platforms its filters show are
concerned), and in the incident room's mentions panel, where a quieter list would read as
a calmer crisis. Only the platforms and since when: the sources' addresses, errors and
what to check stay in the signals panel, for listening readers and administrators."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.listening import selectors
from incidents.listening.models import CollectorState, Watch

from .conftest import grant
from .test_pages import bulk_mentions

pytestmark = pytest.mark.django_db

FEED = "https://news.example/rss?token=FEEDSECRET"
INSTANCE = "https://social.example"
ERROR = "Mastodon social.example: MastodonUnauthorizedError: 401"
NOTICE = re.compile(r'<p class="source-notice[^"]*"[^>]*>(.*?)</p>', re.S)


@pytest.fixture
def sources(settings, watch):
    """A forum's feed and a Mastodon instance configured, both collected a minute ago;
    listening in use for a day."""
    settings.LISTENING_FEEDS = [{"url": FEED, "platform": "forum"}]
    settings.LISTENING_MASTODON = [{"base_url": INSTANCE}]
    now = timezone.now()
    Watch.objects.filter(pk=watch.pk).update(created_at=now - timedelta(days=1))
    CollectorState.objects.create(name="detector", updated_at=now)
    CollectorState.objects.create(name=f"feed:{FEED}", updated_at=now, last_success_at=now)
    CollectorState.objects.create(name=f"mastodon:{INSTANCE}", updated_at=now, last_success_at=now)
    return settings


def stop_mastodon(hours=3):
    """The instance's collector wrote nothing for hours, its last error recorded."""
    CollectorState.objects.filter(name=f"mastodon:{INSTANCE}").update(
        updated_at=timezone.now() - timedelta(hours=hours), last_error=ERROR
    )


def notice(html: str) -> str:
    """The notice's text (one at most), "" when there is none."""
    found = NOTICE.findall(html)
    assert len(found) <= 1
    return " ".join(found[0].split()) if found else ""


# The stream --------------------------------------------------------------------------


def test_the_stream_says_which_platforms_posts_may_be_missing_from(reader, sources, browser_client):
    bulk_mentions(3)
    client = browser_client.as_user(reader)
    fine = client.get("/listening/").content.decode()
    assert notice(fine) == "" and fine.count("data-mention=") == 3
    # It still asks again every minute, so a collector stopping later is said.
    assert 'hx-get="/listening/panels/sources/" hx-trigger="every 60s"' in fine

    stop_mastodon()
    for url in ("/listening/", "/listening/panels/stream/", "/listening/panels/sources/"):
        said = notice(client.get(url).content.decode())
        assert said.startswith("<strong>Posts from Mastodon may be missing:</strong>"), url
        # The signals panel's verb for that source: "seems to have stopped".
        assert "collecting them seems to have stopped (no news since" in said
        assert "the Open signals panel names the source." in said
        # Neither the instance nor its error: the signals panel names them.
        assert "social.example" not in said and "Unauthorized" not in said
    # The page reads the sources once for its two panels.
    with CaptureQueriesContext(connection) as queries:
        client.get("/listening/")
    assert sum("listening_collectorstate" in q["sql"] for q in queries) == 1

    # A feed is said by the platform it is configured for, after the instance.
    CollectorState.objects.filter(name=f"feed:{FEED}").delete()  # never registered
    said = notice(client.get("/listening/panels/sources/").content.decode())
    assert "Posts from Mastodon, Forum may be missing" in said and "FEEDSECRET" not in said


def test_the_empty_stream_says_posts_may_be_missing_only_where_its_filters_look(
    reader, sources, watch, watch_editor, browser_client
):
    from incidents.listening import actions

    stop_mastodon()
    client = browser_client.as_user(reader)
    missing = "Posts from Mastodon may be missing (see above)"

    mastodon = client.get("/listening/", {"platform": "mastodon"}).content.decode()
    assert "No mention matches these filters." in mastodon and missing in mastodon
    unfiltered = client.get("/listening/panels/stream/").content.decode()
    assert "No mention yet" in unfiltered and missing in unfiltered
    # Bluesky is collected: an empty list there is only "no match".
    bluesky = client.get("/listening/", {"platform": "bluesky"}).content.decode()
    assert "No mention matches these filters." in bluesky and missing not in bluesky
    assert "Posts from Mastodon may be missing:" in bluesky  # the notice above, still
    # A watch that does not listen to Mastodon cannot miss its posts.
    actions.watch_update(watch=watch, actor=watch_editor, platforms=["bluesky"])
    only = client.get("/listening/", {"watch": watch.pk}).content.decode()
    assert "No mention on this watch yet" in only and missing not in only
    actions.watch_update(watch=watch, actor=watch_editor, platforms=["bluesky", "mastodon"])
    both = client.get("/listening/", {"watch": watch.pk}).content.decode()
    assert missing in both


def test_the_notice_says_a_source_s_state_with_the_signals_panel_s_verb(
    reader, sources, browser_client
):
    """At 1280px the notice and the signals panel are side by side: one event, one verb."""
    client = browser_client.as_user(reader)
    stop_mastodon()
    page = client.get("/listening/").content.decode()
    assert "seems to have stopped (no news of it since" in page  # the panel's line
    assert "collecting them seems to have stopped (no news since" in notice(page)
    # Failing (it writes, its last success is old), not stopped: "has failed since".
    now = timezone.now()
    CollectorState.objects.filter(name=f"mastodon:{INSTANCE}").update(
        updated_at=now, last_success_at=now - timedelta(hours=3), last_error=ERROR
    )
    page = client.get("/listening/").content.decode()
    assert "Collecting from Mastodon (social.example) has failed since" in page
    said = notice(page)
    assert "collecting them has failed since" in said and "stopped" not in said


def test_an_empty_search_says_no_match_first_then_the_missing_posts(
    reader, sources, browser_client
):
    """The filters (a search here) are the likelier reason: said first, with what to widen,
    the search words first; the posts that may be missing after, not in bold (the notice
    above says it in bold)."""
    stop_mastodon()
    client = browser_client.as_user(reader)
    html = client.get("/listening/", {"platform": "mastodon", "q": "zzqqxx"}).content.decode()
    empty = html[html.index('class="empty-state muted stream-empty"') :]
    empty = empty[: empty.index("</div>")]
    no_match = empty.index("No mention matches these filters.")
    widen = empty.index("Widen them (other search words, another watch, any tone,")
    missing = empty.index("Posts from Mastodon may be missing (see above)")
    assert no_match < widen < missing
    assert "<strong>" not in empty
    # Without a search, no word of search words.
    html = client.get("/listening/", {"platform": "mastodon"}).content.decode()
    assert "Widen them (another watch, any tone," in html and "search words" not in html


def test_an_administrator_reads_the_detail_in_the_signals_panel_not_in_the_notice(
    sources, make_user, browser_client
):
    stop_mastodon()
    operator = grant(make_user("operator", is_staff=True), "view_mention", "view_collectorstate")
    page = browser_client.as_user(operator).get("/listening/").content.decode()
    assert "MastodonUnauthorizedError" in page  # the signals panel's line
    said = notice(page)
    assert said and "Unauthorized" not in said and "listen_mastodon" not in said


def test_the_notice_costs_the_same_queries_whatever_the_sources_stopped(
    reader, sources, browser_client
):
    client = browser_client.as_user(reader)
    stop_mastodon()
    # Never registered: the watches' age is read (source_problems' second query) from one.
    CollectorState.objects.filter(name=f"feed:{FEED}").delete()
    bulk_mentions(3, platform="mastodon", prefix="a")
    client.get("/listening/panels/stream/")
    with CaptureQueriesContext(connection) as one:
        client.get("/listening/panels/stream/")
    sources.LISTENING_FEEDS = [
        {"url": f"https://news{i}.example/rss", "platform": ["press", "forum"][i % 2]}
        for i in range(40)
    ]
    bulk_mentions(300, platform="mastodon", prefix="b")
    with CaptureQueriesContext(connection) as many:
        html = client.get("/listening/panels/stream/").content.decode()
    assert len(many) == len(one)
    assert "Posts from Mastodon, Press, Forum may be missing" in notice(html)


# The incident room -------------------------------------------------------------------


def test_the_room_panel_says_it_to_every_member_with_only_the_platforms(
    incident, lead, observer, sources, make_user, browser_client
):
    bulk_mentions(4, incident=incident, start=incident.declared_at)
    panel = f"/incidents/{incident.pk}/mentions/"
    client = browser_client.as_user(lead)
    assert notice(client.get(panel).content.decode()) == ""

    stop_mastodon()
    for member in (lead, observer):  # without listening access
        client = browser_client.as_user(member)
        for url in (panel, f"/incidents/{incident.pk}/", f"{panel}sources/"):
            html = client.get(url).content.decode()
            said = notice(html)
            assert said.startswith("<strong>Posts from Mastodon may be missing:</strong>"), url
            assert "do not mean the buzz has calmed" in said
            assert 'href="/listening/"' not in said  # not theirs to open
            assert "social.example" not in html and "Unauthorized" not in html
            assert "listen_mastodon" not in html and "administrator" not in said
    # A member who reads listening data is pointed to where the source is named.
    member = grant(make_user("analyst"), "view_mention", "view_watch")
    incident_actions.member_add(incident=incident, actor=lead, user=member, role="drafter")
    said = notice(browser_client.as_user(member).get(panel).content.decode())
    assert '<a href="/listening/">The Listening page says which source.</a>' in said


def test_an_outsider_learns_nothing_of_the_room_nor_of_its_notice(
    incident, outsider, reader, sources, browser_client
):
    stop_mastodon()
    for person in (outsider, reader):  # a listening reader outside the cell too
        client = browser_client.as_user(person)
        for url in (f"/incidents/{incident.pk}/mentions/sources/", f"/incidents/{incident.pk}/"):
            response = client.get(url)
            assert response.status_code == 404, (person, url)
            assert "may be missing" not in response.content.decode()


def test_a_closed_incident_says_nothing_of_todays_sources(incident, lead, sources, browser_client):
    bulk_mentions(2, incident=incident, start=incident.declared_at)
    stop_mastodon()
    type(incident).objects.filter(pk=incident.pk).update(status="closed", closed_at=timezone.now())
    client = browser_client.as_user(lead)
    html = client.get(f"/incidents/{incident.pk}/mentions/").content.decode()
    assert notice(html) == "" and "every 60s" not in html  # nor asks again
    assert notice(client.get(f"/incidents/{incident.pk}/mentions/sources/").content.decode()) == ""


def test_the_room_panel_costs_the_same_queries_whatever_the_sources_stopped(
    incident, lead, sources, browser_client
):
    bulk_mentions(3, incident=incident, start=incident.declared_at)
    url = f"/incidents/{incident.pk}/mentions/"
    client = browser_client.as_user(lead)
    stop_mastodon()
    CollectorState.objects.filter(name=f"feed:{FEED}").delete()  # never registered
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    sources.LISTENING_FEEDS = [{"url": f"https://news{i}.example/rss"} for i in range(40)]
    bulk_mentions(200, incident=incident, start=incident.declared_at, prefix="b")
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert len(many) == len(one)
    assert "Posts from Mastodon, Press may be missing" in notice(html)


# A feed's platform that is not valid -------------------------------------------------
# One rule (liveness.feed_platform): the collector refuses the setting, so the feed
# collects nothing; the pages never fail on it and say its posts may be missing, by
# "other sources" since its posts could be of any platform.

NOT_PLATFORMS = [["press"], {"press": 1}, 0, True, "PRESS", "tiktokk"]


@pytest.mark.parametrize(
    "platform, expected",
    [(None, "press"), ("", "press"), ("forum", "forum"), ("bluesky", "bluesky")]
    + [(value, None) for value in NOT_PLATFORMS],
)
def test_one_rule_says_which_feed_platforms_are_valid_and_the_collector_refuses_others(
    platform, expected
):
    from incidents.listening.connectors import feeds, liveness

    item = {"url": "https://news.example/rss", "platform": platform}  # None: JSON's null
    assert liveness.feed_platform(item) == expected
    if expected is None:
        with pytest.raises(
            ValueError, match=r"^LISTENING_FEEDS, entry 1 of 1: platform must be one of"
        ):
            feeds.feeds_from([item])
    else:
        assert feeds.feeds_from([item])[0].platform == expected
    assert liveness.feed_platform({"url": "https://news.example/rss"}) == "press"  # absent


@pytest.mark.parametrize("platform", NOT_PLATFORMS)
def test_a_feed_of_no_valid_platform_fails_no_page_and_is_said_as_some_sources(
    platform, incident, lead, reader, sources, browser_client
):
    bulk_mentions(2, incident=incident, start=incident.declared_at)
    # Refused by the collector: it never registers the feed (listening in use for a day).
    sources.LISTENING_FEEDS = [{"url": "https://n.example/rss", "platform": platform}]
    said = "<strong>Posts from some sources may be missing:</strong> collecting them is not"
    room = f"/incidents/{incident.pk}/"
    client = browser_client.as_user(lead)
    for url in (room, f"{room}mentions/", f"{room}mentions/sources/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert notice(response.content.decode()).startswith(said), url
    client = browser_client.as_user(reader)
    for url in ("/listening/", "/listening/panels/stream/", "/listening/panels/sources/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert notice(response.content.decode()).startswith(said), url
    signals = client.get("/listening/panels/signals/").content.decode()
    assert "n.example" in signals  # the signals panel names the source


def test_a_feed_of_no_valid_platform_concerns_every_filter_of_the_stream(
    reader, sources, browser_client
):
    sources.LISTENING_FEEDS = [
        {"url": FEED, "platform": "forum"},  # collected a minute ago: not said
        {"url": "https://n.example/rss", "platform": "tiktokk"},
    ]
    stop_mastodon()
    client = browser_client.as_user(reader)
    page = client.get("/listening/").content.decode()
    assert notice(page).startswith(
        "<strong>Posts from Mastodon and other sources may be missing:</strong>"
    )
    # Any platform's posts could be that feed's: every filter's empty list says it.
    for platform, said in [
        ("mastodon", "Posts from Mastodon and other sources may be missing (see above)"),
        ("bluesky", "Posts from some sources may be missing (see above)"),
        ("forum", "Posts from some sources may be missing (see above)"),
    ]:
        html = client.get("/listening/", {"platform": platform}).content.decode()
        assert "No mention matches these filters." in html and said in html, platform


def test_a_malformed_feeds_setting_fails_no_page(incident, lead, reader, sources, browser_client):
    sources.LISTENING_FEEDS = [
        "https://x.example/rss",
        5,
        None,
        {"url": 5},
        {"url": "https://a.example/rss", "platform": 0},
        {"url": "https://b.example/rss", "platform": [["press"]]},
    ]
    sources.LISTENING_MASTODON = "not a list"
    client = browser_client.as_user(reader)
    for url in ("/listening/", "/listening/panels/sources/"):
        response = client.get(url)
        assert response.status_code == 200
        assert notice(response.content.decode()).startswith(
            "<strong>Posts from some sources may be missing:</strong>"
        )
    response = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/mentions/sources/")
    assert notice(response.content.decode()).startswith("<strong>Posts from some sources")


# Past the sources judged one by one ---------------------------------------------------


def test_a_source_stopped_past_those_judged_one_by_one_is_said_at_a_constant_cost(
    incident, lead, reader, sources, browser_client, monkeypatch
):
    monkeypatch.setattr(selectors, "MAX_SOURCES", 3)  # the instance and two feeds
    now = timezone.now()
    feeds = [{"url": FEED, "platform": "forum"}]
    feeds += [{"url": f"https://news{i}.example/rss"} for i in range(3)]
    sources.LISTENING_FEEDS = feeds
    for i in range(3):
        CollectorState.objects.create(name=f"feed:https://news{i}.example/rss", updated_at=now)
    bulk_mentions(3, incident=incident, start=incident.declared_at)
    client = browser_client.as_user(lead)
    room = f"/incidents/{incident.pk}/mentions/sources/"
    stream = "/listening/panels/sources/"
    assert notice(client.get(room).content.decode()) == ""

    # The last feed (press) stops: past the bound, it is said all the same.
    CollectorState.objects.filter(name="feed:https://news2.example/rss").update(
        updated_at=now - timedelta(hours=2)
    )
    for person, url in ((lead, room), (reader, stream)):
        said = notice(browser_client.as_user(person).get(url).content.decode())
        assert said.startswith("<strong>Posts from Press may be missing:</strong>"), url
        assert "collecting them seems to have stopped (no news since" in said
    client = browser_client.as_user(lead)
    with CaptureQueriesContext(connection) as one:
        client.get(room)
    # Many more past the bound, on more platforms (never registered): the same queries.
    sources.LISTENING_FEEDS = feeds + [
        {"url": f"https://more{i}.example/rss", "platform": ["press", "other", "forum"][i % 3]}
        for i in range(200)
    ]
    with CaptureQueriesContext(connection) as many:
        said = notice(client.get(room).content.decode())
    assert len(many) == len(one)
    assert said.startswith("<strong>Posts from Press, Forum, Other may be missing:</strong>")
