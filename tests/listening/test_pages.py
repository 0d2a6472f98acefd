"""The listening page, the room's mentions panel, attach/detach: who sees what, filters,
keyset pages, constant query counts."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.errors import NotAllowed
from incidents.listening import actions
from incidents.listening.choices import Sentiment, Source
from incidents.listening.models import Mention, MentionMatch, Signal
from incidents.models import TimelineEntry

from .conftest import grant

pytestmark = pytest.mark.django_db


def bulk_mentions(n, *, watch=None, incident=None, start=None, **extra):
    """n mentions (newest last), written directly: the page's cost, not the ingest's."""
    start = start or timezone.now() - timedelta(hours=n // 60 + 1)
    rows = [
        Mention(
            platform=extra.get("platform", "bluesky"),
            external_id=f"{extra.get('prefix', 'p')}{i}",
            text=f"Post {i} <b>about</b> Maison Lumière",
            posted_at=start + timedelta(minutes=i),
            collected_at=start + timedelta(minutes=i),
            author_handle=f"user{i}.bsky.social",
            author_followers=i * 10,
            language=extra.get("language", "fr"),
            sentiment=[Sentiment.NEGATIVE, Sentiment.POSITIVE, Sentiment.NEUTRAL][i % 3],
            source=Source.IMPORT,
            incident=incident,
        )
        for i in range(n)
    ]
    Mention.objects.bulk_create(rows)
    stored = list(Mention.objects.filter(external_id__startswith=extra.get("prefix", "p")))
    if watch is not None:
        MentionMatch.objects.bulk_create(
            MentionMatch(mention=m, watch=watch, posted_at=m.posted_at, sentiment=m.sentiment)
            for m in stored
        )
    return stored


def test_the_page_is_refused_without_the_permission(outsider, browser_client):
    response = browser_client.as_user(outsider).get("/listening/")
    assert response.status_code == 403
    assert "/listening/" not in browser_client.get("/").content.decode()


def test_readers_see_the_nav_link_watches_signals_and_stream(reader, watch, browser_client):
    bulk_mentions(5, watch=watch)
    Signal.objects.create(
        watch=watch,
        kind="volume",
        severity=3,
        opened_at=timezone.now(),
        started_at=timezone.now(),
        updated_at=timezone.now(),
        observed=40,
        expected=4,
    )
    html = browser_client.as_user(reader).get("/listening/").content.decode()
    assert 'href="/listening/"' in html
    assert "Maison Lumière" in html and 'class="sparkline"' in html
    assert "40 mentions/h at the peak vs 4 expected" in html
    assert html.count('class="mention mention-') == 5
    # Text is escaped, never markup.
    assert "&lt;b&gt;about&lt;/b&gt;" in html and "<b>about</b>" not in html
    # The watches (a short list and the chart) come before the stream's 25 mentions in the
    # page's order: on a phone's screen and for the keyboard.
    assert html.index('id="listening-watches"') < html.index('id="listening-stream"')


def test_filters_and_older_pages(reader, watch, browser_client):
    bulk_mentions(90, watch=watch)
    client = browser_client.as_user(reader)
    first = client.get("/listening/", {"sentiment": "negative"})
    mentions = first.context["mentions"]
    assert len(mentions) == 25 and all(m.sentiment == "negative" for m in mentions)
    assert mentions[0].posted_at > mentions[-1].posted_at
    older = first.context["older_query"]
    assert "sentiment=negative" in older
    second = client.get(f"/listening/?{older}").context["mentions"]
    assert len(second) == 5 and second[0].posted_at < mentions[-1].posted_at
    assert all(m.sentiment == "negative" for m in second)
    reach = client.get("/listening/", {"min_followers": 500}).context["mentions"]
    assert reach and all(m.author_followers >= 500 for m in reach)
    paged = client.get("/listening/").context
    rest = client.get(f"/listening/?{paged['older_query']}").context
    assert len(rest["mentions"]) == 25 and rest["mentions"][0].pk != paged["mentions"][0].pk


def test_the_stream_starts_at_the_end_of_a_chosen_day(reader, watch, browser_client):
    """ "Posted up to" a day of the viewer's zone: older posts without paging back (a lead
    looking for last week's posts paged 25 times)."""
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 11, 20, 23, 30, tzinfo=paris)  # 23:30 .. 00:29 in Paris
    bulk_mentions(60, watch=watch, start=start)
    client = browser_client.as_user(reader)
    client.cookies["tz"] = "Europe/Paris"
    shown = client.get("/listening/", {"until": "2026-11-20"}).context["mentions"]
    assert len(shown) == 25
    assert all(m.posted_at < datetime(2026, 11, 21, tzinfo=paris) for m in shown)
    assert shown[0].posted_at == start + timedelta(minutes=29)  # 23:59, the day's last
    # With the other filters, in the older page's link, and bad dates ignored.
    page = client.get("/listening/", {"until": "2026-11-20", "sentiment": "negative"}).context
    assert "until=2026-11-20" in page["stream_query"]
    for bad in ("9999-12-31", "0001-01-01", "2026-13-40", "x"):
        assert client.get("/listening/", {"until": bad}).status_code == 200, bad


def test_the_page_costs_the_same_queries_with_many_mentions(reader, watch, browser_client):
    client = browser_client.as_user(reader)
    bulk_mentions(3, watch=watch, prefix="a")
    client.get("/listening/")
    with CaptureQueriesContext(connection) as few:
        client.get("/listening/")
    bulk_mentions(2000, watch=watch, prefix="b")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/listening/")
    assert len(many) == len(few)
    assert len(response.content) < 200_000


def test_a_panel_refreshes_alone(reader, watch, browser_client):
    bulk_mentions(3, watch=watch)
    client = browser_client.as_user(reader)
    assert client.get("/listening/panels/stream/").content.decode().count("data-mention=") == 3
    assert client.get("/listening/panels/nope/").status_code == 404


@pytest.fixture
def listening_cell(incident, lead, drafter, observer, outsider):
    return {u.username: grant(u, "view_mention") for u in (lead, drafter, observer, outsider)}


def test_drafters_attach_observers_and_outsiders_cannot(incident, listening_cell, watch):
    mention = bulk_mentions(1, watch=watch)[0]
    with pytest.raises(NotAllowed):
        actions.mention_attach(mention=mention, incident=incident, actor=listening_cell["observer"])
    with pytest.raises(NotAllowed):
        actions.mention_attach(mention=mention, incident=incident, actor=listening_cell["outsider"])
    assert actions.mention_attach(
        mention=mention, incident=incident, actor=listening_cell["drafter"]
    )
    assert not actions.mention_attach(
        mention=mention, incident=incident, actor=listening_cell["drafter"]
    )
    entries = TimelineEntry.objects.filter(incident=incident, kind="mentions_attached")
    assert entries.count() == 1 and entries.get().data["count"] == 1
    with pytest.raises(NotAllowed):
        actions.mention_detach(mention=mention, incident=incident, actor=listening_cell["observer"])
    assert actions.mention_detach(mention=mention, incident=incident, actor=listening_cell["lead"])
    assert TimelineEntry.objects.filter(incident=incident, kind="mention_detached").count() == 1
    mention.refresh_from_db()
    assert mention.incident is None


def test_attach_from_the_stream_and_detach_in_the_room(
    incident, listening_cell, watch, browser_client
):
    mention = bulk_mentions(1, watch=watch)[0]
    client = browser_client.as_user(listening_cell["drafter"])
    page = client.get("/listening/").content.decode()
    assert "Attach to incident…" in page and incident.title in page
    response = client.post(f"/listening/mentions/{mention.pk}/attach/", {"incident": incident.pk})
    assert response.status_code == 302
    room = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="mentions-panel"' in room and f'data-mention="{mention.pk}"' in room
    client.post(f"/incidents/{incident.pk}/mentions/{mention.pk}/detach/")
    mention.refresh_from_db()
    assert mention.incident is None


def test_an_outsider_sees_nothing_of_an_incident(incident, listening_cell, watch, browser_client):
    mention = bulk_mentions(1, watch=watch, incident=incident)[0]
    client = browser_client.as_user(listening_cell["outsider"])
    assert client.get(f"/incidents/{incident.pk}/mentions/").status_code == 404
    page = client.get("/listening/").content.decode()
    assert f'data-mention="{mention.pk}"' in page
    assert f"/incidents/{incident.pk}/" not in page and incident.title not in page
    response = client.post(f"/listening/mentions/{mention.pk}/attach/", {"incident": incident.pk})
    assert response.status_code == 404


def test_the_room_panel_filters_pages_and_costs_constant_queries(
    incident, lead, watch, browser_client
):
    client = browser_client.as_user(lead)
    bulk_mentions(3, incident=incident, prefix="a")
    url = f"/incidents/{incident.pk}/mentions/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    bulk_mentions(1500, incident=incident, prefix="b", start=incident.declared_at)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"mentions_sentiment": "negative"})
    assert len(many) == len(few)
    context = response.context
    assert len(context["mentions"]) == 10
    assert all(m.sentiment == "negative" for m in context["mentions"])
    counts = {value: n for value, _label, n, _query in context["mention_counts"]}
    assert counts["negative"] == 1 + 500 and context["mentions_total"] == 1503
    older = client.get(url, {"mentions_before": context["mentions_older"]}).context["mentions"]
    assert older[0].posted_at <= context["mentions"][-1].posted_at


def test_the_room_panel_shows_no_chip_for_a_tone_with_no_mention(incident, lead, browser_client):
    client = browser_client.as_user(lead)
    bulk_mentions(3, incident=incident)  # negative, positive, neutral: none unknown
    url = f"/incidents/{incident.pk}/mentions/"
    html = client.get(url).content.decode()
    assert "sentiment-negative" in html and "sentiment-unknown" not in html
    # Still there while it is the filter shown ("No mention with this sentiment.").
    html = client.get(url, {"mentions_sentiment": "unknown"}).content.decode()
    assert "chip chip-sentiment sentiment-unknown is-current" in html


def test_the_api_attaches_and_detaches(incident, listening_cell, watch, api):
    ids = [m.pk for m in bulk_mentions(3, watch=watch)]
    client = api.as_user(listening_cell["drafter"])
    response = client.post(
        f"/api/incidents/{incident.pk}/mentions/", {"mentions": ids}, format="json"
    )
    assert response.status_code == 200 and sorted(response.json()["attached"]) == sorted(ids)
    listed = client.get(f"/api/incidents/{incident.pk}/mentions/").json()["results"]
    assert {m["id"] for m in listed} == set(ids)
    assert client.delete(f"/api/incidents/{incident.pk}/mentions/{ids[0]}/").status_code == 204
    assert client.delete(f"/api/incidents/{incident.pk}/mentions/{ids[0]}/").status_code == 404
    observer = api.as_user(listening_cell["observer"])
    refused = observer.post(
        f"/api/incidents/{incident.pk}/mentions/", {"mentions": ids}, format="json"
    )
    assert refused.status_code == 403
    outsider = api.as_user(listening_cell["outsider"])
    hidden = outsider.post(
        f"/api/incidents/{incident.pk}/mentions/", {"mentions": ids}, format="json"
    )
    assert hidden.status_code == 404


def test_an_ingest_tells_the_readers_pages(
    reader, watch, monkeypatch, django_capture_on_commit_callbacks
):
    from incidents.listening import actions, events
    from incidents.listening.ingest import parse

    from .conftest import post

    sent = []
    monkeypatch.setattr(events.events, "publish_user_signal", lambda uid, s: sent.append((uid, s)))
    events.cache.delete(events._THROTTLE_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        actions.mentions_ingest(mentions=[parse(post("x1"))], source=Source.API, actor=None)
    assert (reader.pk, "listening-changed") in sent
    assert datetime.now(UTC)  # the clock is real: throttling uses the cache, not time mocks


def test_a_watch_changed_tells_the_readers_pages(
    reader, watch, watch_editor, monkeypatch, django_capture_on_commit_callbacks
):
    """Its line and 'What … listens for' show what it now is, without waiting for a mention
    (a break-it pass saw the old terms stay)."""
    from incidents.listening import actions, events

    sent = []
    monkeypatch.setattr(events.events, "publish_user_signal", lambda uid, s: sent.append((uid, s)))
    with django_capture_on_commit_callbacks(execute=True):
        actions.watch_update(watch=watch, actor=watch_editor, keywords=["maison lumière", "kx"])
    assert (reader.pk, "listening-changed") in sent
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.watch_create(actor=watch_editor, name="Other", brand="Other", keywords=["zz"])
    assert (reader.pk, "listening-changed") in sent


def test_a_cell_without_listening_gets_a_placeholder_that_brings_the_panel_in(
    incident, drafter, browser_client
):
    client = browser_client.as_user(drafter)
    room = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="mentions-panel" data-panel="mentions" hidden' in room
    assert "?whole=1" in room and 'id="mentions-title"' not in room
    whole = client.get(f"/incidents/{incident.pk}/mentions/?whole=1", HTTP_HX_REQUEST="true")
    html = whole.content.decode()
    assert html.lstrip().startswith('<section id="mentions-panel"') and "mentions-title" in html


@pytest.mark.parametrize(
    ("platform", "handle", "shown"),
    [("bluesky", "bursta4", "@bursta4"), ("x", "@user0", "@user0"), ("x", " @@u ", "@u"),
     ("mastodon", "ann@mastodon.social", "@ann@mastodon.social"),
     ("facebook", "Jean Dupont", "Jean Dupont"), ("press", "lemonde.fr", "lemonde.fr")],
)  # fmt: skip
def test_one_rule_shows_handles_in_the_stream_and_the_room(
    platform, handle, shown, incident, lead, watch, browser_client
):
    """A handle sent without "@" (the bulk API) and one sent with it (a CSV export) show
    alike, with one "@" where the platform names accounts so; stored as sent."""
    from incidents.listening.models import shown_handle

    assert shown_handle(handle, platform) == shown
    bulk_mentions(1, watch=watch, incident=incident, platform=platform)
    Mention.objects.update(author_handle=handle)
    client = browser_client.as_user(grant(lead, "view_mention"))
    for url in ("/listening/", f"/incidents/{incident.pk}/mentions/"):
        html = client.get(url).content.decode()
        assert f">{shown}<" in html.replace("&#x27;", "'"), url
    assert Mention.objects.get().author_handle == handle


def test_the_attach_bar_shows_only_when_a_shown_mention_can_be_attached(
    incident, listening_cell, watch, browser_client
):
    mentions = bulk_mentions(2, watch=watch)
    client = browser_client.as_user(listening_cell["drafter"])
    assert 'id="attach-selected"' in client.get("/listening/").content.decode()
    Mention.objects.filter(pk=mentions[0].pk).update(incident=incident)
    assert 'id="attach-selected"' in client.get("/listening/").content.decode()
    Mention.objects.update(incident=incident)  # every shown mention is attached
    page = client.get("/listening/").content.decode()
    assert 'id="attach-selected"' not in page and "Select all shown" not in page
    assert "Attach to incident…" not in page
    # Named for those in its cell; an outsider to it reads only that it is attached.
    assert page.count(f"Attached to “{incident.title}”") == 2
    outsider = browser_client.as_user(listening_cell["outsider"])
    page = outsider.get("/listening/").content.decode()
    assert page.count("Attached to an incident") == 2 and incident.title not in page


def test_a_watch_that_alerts_nobody_says_so_at_no_query_per_watch(
    reader, watch_editor, watch, browser_client
):
    """The line says when the watch's signals alert nobody (its count annotated on the
    page's query of the watches); the Edit link for those who may change watches."""
    edit = f"/listening/watches/{watch.pk}/edit/"
    client = browser_client.as_user(reader)
    page = client.get("/listening/").content.decode()
    assert "Nobody is alerted by its signals." in page and f'href="{edit}"' not in page
    page = browser_client.as_user(watch_editor).get("/listening/").content.decode()
    assert page.count(f'href="{edit}"') == 3  # its Edit link, the notice's, and "Edit the watch"
    assert f'<span class="watch-name">{watch.name}</span>' in page  # whole, never cut
    client = browser_client.as_user(reader)
    client.get("/listening/")
    with CaptureQueriesContext(connection) as one:
        client.get("/listening/")
    for i in range(4):
        other = actions.watch_create(
            actor=watch_editor, name=f"Other {i}", brand="Other", keywords=[f"k{i}"]
        )
        other.subscribers.set([reader, watch_editor][: i % 3])
    watch.subscribers.add(reader)
    with CaptureQueriesContext(connection) as five:
        page = client.get("/listening/").content.decode()
    assert len(five) == len(one)
    assert page.count("Nobody is alerted") == 2  # "Other 0" and "Other 3"


def test_the_watches_are_listed_by_name(reader, watch_editor, browser_client):
    # Counting the people alerted groups the query, which drops the model's ordering.
    for name in ("Vapora", "Bouilloires", "Acme", "Bouilloire KX-200"):
        actions.watch_create(actor=watch_editor, name=name, brand=name, keywords=[name])
    page = browser_client.as_user(reader).get("/listening/").content.decode()
    names = re.findall(r'<span class="watch-name">([^<]+)</span>', page)
    assert names == ["Acme", "Bouilloire KX-200", "Bouilloires", "Vapora"]


def test_a_subscriber_who_may_not_read_listening_data_is_not_counted_as_alerted(
    reader, outsider, watch_editor, watch, browser_client
):
    """Alerts go only to subscribers who may still read listening data: one who lost that
    right (or never had it) alerts nobody, and the watch's line says so."""
    watch.subscribers.set([outsider])
    client = browser_client.as_user(reader)
    page = client.get(f"/listening/?chart={watch.pk}").content.decode()
    assert "Nobody is alerted by its signals." in page and "0 people alerted" in page
    watch.subscribers.add(reader)
    page = client.get(f"/listening/?chart={watch.pk}").content.decode()
    assert "Nobody is alerted" not in page and "1 person alerted" in page


def test_a_watch_summary_lists_its_first_terms_then_how_many_more(
    reader, watch, watch_editor, browser_client
):
    """200 long keywords made the box 11,700 px tall: 30 of each kind, then a count."""
    keywords = [f"<b>term{i}</b>" for i in range(35)]
    actions.watch_update(watch=watch, actor=watch_editor, keywords=keywords)
    page = browser_client.as_user(reader).get(f"/listening/?chart={watch.pk}").content.decode()
    assert "&lt;b&gt;term29&lt;/b&gt; and 5 more" in page and "term30" not in page


def test_the_chart_band_is_computed_once_a_minute_whoever_looks(
    reader, watch, watch_editor, browser_client, monkeypatch
):
    """Four weeks of a busy watch's minutes cost a few hundred ms: the page's live refresh
    and every viewer read the band computed this minute, until the watch is saved."""
    from django.core.cache import caches

    from incidents.listening import selectors

    monkeypatch.setattr(selectors, "BAND_CACHE_SECONDS", 120)
    caches["default"].clear()
    bulk_mentions(30, watch=watch)
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)  # every request in the same minute
    client = browser_client.as_user(reader)

    def band_reads():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/listening/panels/watches/").status_code == 200
        return sum("listening_mentionmatch" in q["sql"] for q in queries)

    first, second = band_reads(), band_reads()
    assert first == second + 1  # the sparklines and the chart's volume, not the band
    actions.watch_update(watch=watch, actor=watch_editor, volume_min_count=12)
    assert band_reads() == first


def test_the_page_says_when_detection_or_a_collector_is_not_working(
    reader, watch, browser_client, make_user, settings
):
    # "Nothing abnormal: no open signal" read the same with the scheduler down for a day,
    # and a collector failing for hours left no trace outside the admin.
    from incidents.listening.models import CollectorState, Watch

    client = browser_client.as_user(reader)
    quiet = client.get("/listening/").content.decode()
    assert "Nothing abnormal: no open signal." in quiet and "source-problems" not in quiet
    # A watch older than five minutes and detection never run: the scheduler is not there.
    now = timezone.now()
    Watch.objects.filter(pk=watch.pk).update(created_at=now - timedelta(hours=1))
    assert "Spike detection has not run yet" in client.get("/listening/").content.decode()

    settings.LISTENING_MASTODON = [{"base_url": "https://bot:PASS@social.example:8443/"}]
    settings.LISTENING_FEEDS = [{"url": "https://news.example/rss"}]
    CollectorState.objects.create(name="detector", updated_at=now - timedelta(hours=3))
    CollectorState.objects.create(
        name="mastodon:https://bot:PASS@social.example:8443",
        updated_at=now,
        last_success_at=now - timedelta(hours=2),
        last_error="Mastodon social.example hashtag 'kx200': MastodonUnauthorizedError: 401",
    )
    CollectorState.objects.create(  # failed once, retried: no news
        name="feed:https://news.example/rss",
        updated_at=now,
        last_success_at=now - timedelta(minutes=3),
        last_error="HTTP 503",
    )
    CollectorState.objects.create(  # no longer configured: no news either
        name="feed:https://old.example/rss", updated_at=now, last_error="HTTP 404"
    )
    CollectorState.objects.create(name="bluesky:jetstream", updated_at=now, last_error="refused")
    html = client.get("/listening/").content.decode()
    assert "Spike detection has not run since" in html
    assert "No open signal, but detection is not running" in html
    assert "Collecting from Mastodon (social.example:8443) has failed since" in html
    assert "Collecting from Bluesky has not worked yet" in html
    assert "news.example" not in html and "old.example" not in html and "PASS" not in html
    # Why, for those who may read it in the admin only.
    assert "MastodonUnauthorizedError" not in html and "sees why in the admin" in html
    operator = grant(make_user("operator", is_staff=True), "view_mention", "view_collectorstate")
    operator_page = browser_client.as_user(operator).get("/listening/").content.decode()
    assert "MastodonUnauthorizedError" in operator_page
    # The detector back, failing for one watch: said at once.
    CollectorState.objects.filter(name="detector").update(
        updated_at=now, last_error="Failed for watches 3 (see the log); retried next minute."
    )
    html = client.get("/listening/").content.decode()
    assert "Spike detection failed for some watches" in html
    # Mastodon failing still: no "nothing abnormal" while its posts are missing.
    assert "Nothing abnormal: no open signal." not in html
    assert "No open signal in what arrived, but the posts of a source above are missing" in html
    french = client.get("/listening/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "La collecte depuis Mastodon (social.example:8443) échoue depuis le" in french
