"""Spike and tone-shift detection: the pure detector on hand-built series, the runner
against the database (idempotent, alerts once), declaring from a signal, the signals API."""

import math
import random
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.errors import InvalidInput
from incidents.listening import actions, detection
from incidents.listening.detection import DAY, Closed, Episode, Rules, Series
from incidents.listening.models import ExpectedBurst, Mention, Signal
from incidents.models import Membership, TimelineEntry
from incidents.notifications import actions as notification_actions
from incidents.notifications.models import Notification
from tests.helpers import assert_error

from .conftest import NOW, grant, ingest, post

HISTORY = 14 * DAY
RULES = Rules(volume_deviations=4, volume_min_count=10, tone_shift_points=25, tone_min_scored=25)


def flat(per_hour, minutes=HISTORY + 600, negative_share=0.2):
    """A steady stream: one mention every 60/per_hour minutes, every fifth one negative
    (at 0.2), all scored."""
    counts = [0] * minutes
    step = 60 / per_hour
    at = 0.0
    while at < minutes:
        counts[int(at)] += 1
        at += step
    negative = [0] * minutes
    seen = 0
    for i, n in enumerate(counts):
        for _ in range(n):
            seen += 1
            if (seen * negative_share) % 1 < negative_share - 1e-9:
                negative[i] += 1
    return counts, negative, list(counts)


def add(series_lists, start, minutes, per_minute, negative_per_minute=0):
    counts, negative, scored = series_lists
    for i in range(start, start + minutes):
        counts[i] += per_minute
        scored[i] += per_minute
        negative[i] += negative_per_minute


def evaluate(lists, first, last, rules=RULES, bursts=()):
    series = Series(0, *lists)
    return detection.run(series, first, last, rules, history_start=0, bursts=bursts)


def kinds(events):
    return [type(e).__name__ for e in events if not isinstance(e, detection.Updated)]


def test_a_spike_opens_one_signal_that_lasts_the_episode_and_closes_after():
    lists = flat(10)
    add(lists, HISTORY + 60, 90, 2)  # 10/h -> 130/h for an hour and a half
    episode, events = evaluate(lists, HISTORY, HISTORY + 599)
    assert kinds(events) == ["Opened", "Closed"]
    opened, closed = events[0], next(e for e in events if isinstance(e, Closed))
    assert opened.kind == "volume"
    assert HISTORY + 60 <= opened.minute <= HISTORY + 70  # within ten minutes
    assert abs(opened.started - (HISTORY + 60)) <= 3
    # Closed only once the hour window is back to normal for CLOSE_AFTER minutes.
    assert closed.minute >= HISTORY + 150 + detection.CLOSE_AFTER
    assert not episode.open and episode.closed_at == closed.minute


def test_no_new_signal_during_the_cool_down():
    lists = flat(10)
    add(lists, HISTORY + 60, 30, 3)
    _, first_events = evaluate(lists, HISTORY, HISTORY + 599)
    closed = next(e.minute for e in first_events if isinstance(e, Closed))
    add(lists, closed + 10, 30, 3)  # a second burst within the cool-down
    _, events = evaluate(lists, HISTORY, HISTORY + 599)
    assert kinds(events) == ["Opened", "Closed"]
    later = flat(10)
    add(later, HISTORY + 60, 30, 3)
    add(later, closed + detection.COOL_DOWN + 70, 30, 3)  # after it: a new signal
    _, events = evaluate(later, HISTORY, HISTORY + 599)
    assert kinds(events).count("Opened") == 2


def test_a_much_bigger_wave_during_the_cool_down_opens_a_new_signal_at_once():
    # A modest burst opens and closes a signal; 20 minutes into the cool-down a wave of 300
    # an hour begins: not the last episode's tail, it is signalled as soon as its hour is
    # crisis-grade and twice the last peak, not when the cool-down ends 100 minutes later.
    lists = flat(10)
    add(lists, HISTORY + 60, 30, 1)
    _, first_events = evaluate(lists, HISTORY, HISTORY + 599)
    closed = next(e for e in first_events if isinstance(e, Closed))
    peak = max(e.reading.observed for e in first_events if hasattr(e, "reading"))
    wave = closed.minute + 20
    add(lists, wave, 90, 5)
    episode, events = evaluate(lists, HISTORY, HISTORY + 599)
    signals = opened(events)
    assert len(signals) == 2
    assert wave <= signals[1].minute <= wave + 15
    reading = signals[1].reading
    assert detection.volume_severity(reading.observed, reading.expected) >= 3
    assert signals[1].reading.observed >= detection.WAVE_RATIO * peak
    # The episode's state keeps the last peak through a round trip (the runner's JSON).
    assert Episode.from_json(episode.to_json()) == episode


def test_an_expected_burst_raises_no_volume_signal():
    lists = flat(10)
    add(lists, HISTORY + 60, 90, 2)
    bursts = [(HISTORY + 50, HISTORY + 160, None)]
    _, events = evaluate(lists, HISTORY, HISTORY + 599, bursts=bursts)
    assert kinds(events) == []


def test_a_crisis_during_a_campaign_of_known_size_still_alerts():
    # A campaign declared at 4x brings about that (10/h -> 40/h for two hours): quiet. A
    # wave of 300 an hour in its middle alerts within a quarter hour, measured against the
    # campaign (expected 40 in the hour; the excess began with the wave, not the campaign);
    # declared without a size, the same window stays silent.
    start = HISTORY + 60
    campaign = [(start, start + 120, 4.0)]
    lists = flat(10)
    every(lists, start, 120, 2)  # +30 an hour
    _, events = evaluate(lists, HISTORY, HISTORY + 599, bursts=campaign)
    assert opened(events) == []
    wave = start + 40
    add(lists, wave, 40, 5)
    _, events = evaluate(lists, HISTORY, HISTORY + 599, bursts=campaign)
    signals = opened(events)
    assert len(signals) == 1 and wave <= signals[0].minute <= wave + 15
    assert signals[0].reading.expected == pytest.approx(40, rel=0.2)
    assert abs(signals[0].started - wave) <= 5
    minutes, _mentions, expected = signals[0].reading.trigger
    assert expected == pytest.approx(40 * minutes / 60, rel=0.2)
    _, events = evaluate(lists, HISTORY, HISTORY + 599, bursts=[(start, start + 120, None)])
    assert opened(events) == []


def test_a_quiet_watch_needs_the_minimum_count():
    lists = flat(0.5)
    add(lists, HISTORY + 60, 8, 1)  # 8 in the hour: far above 0.5, below 10
    _, events = evaluate(lists, HISTORY, HISTORY + 300)
    assert kinds(events) == []
    add(lists, HISTORY + 70, 3, 1)  # 11: a signal
    _, events = evaluate(lists, HISTORY, HISTORY + 300)
    assert kinds(events) == ["Opened", "Closed"]


def test_a_tone_shift_needs_enough_scored_mentions():
    few = flat(2)
    # 12 negatives on a 2/h stream: 24 scored in six hours (the longest window), under 25.
    add(few, HISTORY + 60, 12, 1, negative_per_minute=1)
    _, events = evaluate(few, HISTORY, HISTORY + 300, Rules(volume_min_count=1000))
    assert kinds(events) == []
    many = flat(60)
    # The same volume, 20% -> 80% negative for two hours.
    counts, negative, _scored = many
    for i in range(HISTORY + 60, HISTORY + 180):
        negative[i] = round(counts[i] * 0.8)
    _, events = evaluate(many, HISTORY, HISTORY + 400, Rules(volume_min_count=1000))
    assert kinds(events) == ["Opened", "Closed"]
    assert events[0].kind == "tone" and events[0].minute <= HISTORY + 90
    assert abs(events[0].started - (HISTORY + 60)) <= 5


def test_severity_grows_with_the_size_of_the_spike():
    severities = []
    for extra in (1, 3, 10):  # per minute over a 10/h stream: 7x, 19x, 61x
        lists = flat(10)
        add(lists, HISTORY + 60, 60, extra)
        _, events = evaluate(lists, HISTORY, HISTORY + 300)
        severities.append(
            max(getattr(e, "reading", None).severity for e in events if hasattr(e, "reading"))
        )
    assert severities == sorted(severities) and severities[0] < severities[-1] == 4


def test_a_low_count_uses_a_poisson_tail():
    # A mean of 0.5 and a MAD of 0: a Poisson tail still says how unusual 10 is.
    assert detection.deviations(10, 0.5, 0.5) > 5
    assert detection.deviations(1, 0.5, 0.5) < 1
    assert detection.deviations(80, 60, 60 + 0.05 * 3600) < 2  # overdispersed: not unusual


def test_the_episode_survives_a_round_trip_through_json():
    episode = Episode(open=True, kind="volume", started=5, severity=2, closed_at=None)
    assert Episode.from_json(episode.to_json()) == episode


# --- The runner, against the database ------------------------------------------------------


@pytest.mark.django_db
def test_the_runner_opens_one_signal_and_alerts_once(
    history, reader, lead, django_capture_on_commit_callbacks
):
    grant(lead, "view_mention")  # the alerted are listening readers when the alert goes
    history.subscribers.add(reader, lead)
    notification_actions.preferences_update(actor=lead, language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        done = detection.detect(now=NOW)
    assert done["opened"] == 1
    signal = Signal.objects.get()
    assert signal.kind == "volume" and signal.status == "open" and signal.severity >= 2
    assert signal.first_mention.external_id.startswith("s")
    assert signal.summary["sentiment"]["negative"] >= 1
    assert len(signal.summary["samples"]) == 5
    assert signal.summary["authors"][0]["followers"] == 2900
    assert Notification.objects.filter(kind="signal_opened").count() == 2
    # Sent when the detector saw it, not dated back to the stream's minute (a detector
    # catching up put the alert below older notifications in the bell).
    before = timezone.now() - timedelta(minutes=1)
    assert all(n.created_at > before for n in Notification.objects.all())
    # The bell's line in each person's language, as their e-mail.
    bell = dict(Notification.objects.values_list("user__username", "subject"))
    assert bell[reader.username].startswith(f"Volume spike on {history.name}:")
    assert bell[lead.username].startswith(f"Pic de volume sur {history.name}")
    # Again, and a minute later: nothing new, nobody notified twice.
    assert detection.detect(now=NOW)["opened"] == 0
    assert detection.detect(now=NOW + timedelta(minutes=1))["opened"] == 0
    assert Signal.objects.count() == 1
    assert Notification.objects.filter(kind="signal_opened").count() == 2


@pytest.mark.django_db
def test_a_signal_growing_to_a_higher_severity_refreshes_the_readers_pages(
    history, reader, monkeypatch, django_capture_on_commit_callbacks
):
    from incidents.listening import events

    detection.detect(now=NOW)
    signal = Signal.objects.get()
    # Ten minutes later the wave has grown tenfold: the open signal is updated, its pages
    # refresh at once (not only when the next mentions come in).
    ingest(
        [post(f"g{i}", posted_at=(NOW + timedelta(seconds=2 * i)).isoformat()) for i in range(300)]
    )
    sent = []
    monkeypatch.setattr(events.events, "publish_user_signal", lambda uid, s: sent.append((uid, s)))
    events.cache.set(events._THROTTLE_KEY, 1)  # an ingest just refreshed them
    with django_capture_on_commit_callbacks(execute=True):
        detection.detect(now=NOW + timedelta(minutes=10))
    signal.refresh_from_db()
    assert signal.status == "open" and signal.severity >= 3
    assert (reader.pk, "listening-changed") in sent


@pytest.mark.django_db
def test_an_expected_burst_in_the_database_suppresses_the_signal(history, watch_editor):
    ExpectedBurst.objects.create(
        watch=history, starts_at=NOW - timedelta(hours=1), ends_at=NOW, created_by=watch_editor
    )
    assert detection.detect(now=NOW)["opened"] == 0


@pytest.mark.django_db
def test_a_campaign_of_known_size_in_the_database_lets_a_far_bigger_wave_through(
    history, watch_editor
):
    # Declared at 4x a stream of one mention every two hours: the 30 in 20 minutes are far
    # beyond it, and the signal measures them against the campaign.
    actions.expected_burst_save(
        burst=ExpectedBurst(
            watch=history, starts_at=NOW - timedelta(hours=1), ends_at=NOW, expected_size=4
        ),
        actor=watch_editor,
        now=NOW - timedelta(hours=1),
    )
    assert detection.detect(now=NOW)["opened"] == 1
    signal = Signal.objects.get()
    assert signal.expected == pytest.approx(4 * 0.5, rel=0.5)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [0.5, 101])
def test_an_expected_size_out_of_range_is_refused(watch, watch_editor, size):
    with pytest.raises(InvalidInput, match="from 1 to 100 times the usual volume"):
        actions.expected_burst_save(
            burst=ExpectedBurst(
                watch=watch, starts_at=NOW, ends_at=NOW + timedelta(hours=2), expected_size=size
            ),
            actor=watch_editor,
            now=NOW,
        )
    assert not ExpectedBurst.objects.exists()


# --- Declaring from a signal ---------------------------------------------------------------


@pytest.mark.django_db
def test_declare_from_a_signal(signal, reader, api):
    response = api.as_user(reader).post(f"/api/signals/{signal.pk}/declare/", {}, format="json")
    assert response.status_code == 201, response.content
    incident_id = response.json()["incident"]
    signal.refresh_from_db()
    assert signal.incident_id == incident_id and signal.declared_by == reader
    incident = signal.incident
    # The category its top terms suggest: the posts are about a missed delivery.
    assert incident.category == "service" and incident.platforms == ["bluesky"]
    assert incident.severity == signal.severity and "Maison Lumière" in incident.title
    assert Membership.objects.get(incident=incident).user == reader  # the lead
    assert Mention.objects.filter(incident=incident).count() == 30
    started = TimelineEntry.objects.get(incident=incident, kind="key_event")
    assert started.data["first_mention"] == signal.first_mention_id
    assert started.data["platform"] == "bluesky" and "Bluesky" in started.text
    again = api.as_user(reader).post(f"/api/signals/{signal.pk}/declare/", {}, format="json")
    assert_error(again, 409)


@pytest.mark.django_db
def test_people_without_listening_access_cannot_declare(signal, outsider, lead, api):
    for user in (outsider, lead):
        assert_error(api.as_user(user).post(f"/api/signals/{signal.pk}/declare/"), 403)
        assert_error(api.as_user(user).get("/api/signals/"), 403)
    assert Signal.objects.get().incident is None


@pytest.mark.django_db
def test_signals_api_shapes_and_constant_queries(signal, reader, api, watch):
    client = api.as_user(reader)
    page = client.get("/api/signals/", {"watch": watch.pk, "status": "open"}).json()
    assert [s["id"] for s in page["results"]] == [signal.pk]
    assert page["results"][0]["watch_name"] == watch.name and page["results"][0]["incident"] is None
    assert client.get("/api/signals/", {"status": "closed"}).json()["results"] == []
    assert_error(client.get("/api/signals/", {"status": "nope"}), 400)
    detail = client.get(f"/api/signals/{signal.pk}/").json()
    assert detail["signal"]["id"] == signal.pk
    points = detail["curve"]["points"]
    assert 0 < len(points) <= 288
    assert sum(p["mentions"] for p in points) >= 30
    assert any(p["expected"] is not None and p["high"] >= p["expected"] for p in points)
    with CaptureQueriesContext(connection) as one:
        client.get("/api/signals/")
    for _ in range(5):
        Signal.objects.create(
            watch=watch, kind="tone", opened_at=NOW, started_at=NOW, updated_at=NOW
        )
    with CaptureQueriesContext(connection) as six:
        assert len(client.get("/api/signals/").json()["results"]) == 6
    assert len(six.captured_queries) == len(one.captured_queries)
    with CaptureQueriesContext(connection) as curve:
        client.get(f"/api/signals/{signal.pk}/")
    assert len(curve.captured_queries) <= len(one.captured_queries) + 3


@pytest.mark.django_db
def test_the_signal_page_shows_the_curve_and_declares(signal, reader, outsider, client):
    client.force_login(reader)
    page = client.get(f"/listening/signals/{signal.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "chart-band" in html and "Declare an incident" in html
    assert "@user29.bsky.social" in html  # top author by reach, as the stream shows it
    # The reason, in plain words: the window that stood out and what it should have held.
    trigger = signal.summary["trigger"]
    assert trigger["mentions"] >= 10 and trigger["minutes"] in (10, 20, 60)
    assert f"{trigger['mentions']} mentions in {trigger['minutes']} minutes where" in html
    form = {"title": "Lids melting", "category": "product", "severity": "3"}
    declared = client.post(f"/listening/signals/{signal.pk}/", form)
    signal.refresh_from_db()
    assert declared.status_code == 302 and declared["Location"].endswith(
        f"/incidents/{signal.incident_id}/"
    )
    assert signal.incident.title == "Lids melting"
    assert (signal.incident.category, signal.incident.severity) == ("product", 3)
    again = client.post(f"/listening/signals/{signal.pk}/", {**form, "title": "Twice"}, follow=True)
    assert "already declared" in again.content.decode()
    assert "“Lids melting” was declared from this signal." in again.content.decode()
    client.force_login(outsider)
    assert client.get(f"/listening/signals/{signal.pk}/").status_code == 403


@pytest.mark.django_db
def test_a_signal_is_linked_to_an_incident_declared_by_hand(signal, reader, lead, incident):
    from incidents.errors import Conflict, NotAllowed

    with pytest.raises(NotAllowed):  # not in the cell
        actions.signal_link(signal=signal, incident=incident, actor=reader)
    lead.user_permissions.add(*reader.user_permissions.all())
    lead = type(lead).objects.get(pk=lead.pk)
    actions.signal_link(signal=signal, incident=incident, actor=lead)
    signal.refresh_from_db()
    assert (signal.incident, signal.declared_by) == (incident, lead)
    with pytest.raises(Conflict):
        actions.signal_link(signal=signal, incident=incident, actor=lead)


# --- Behaviour on noisy streams -------------------------------------------------------------


def noisy(per_hour, days=21, seed=7, cascades_per_day=0, level_by_day=None):
    """A seeded stream with a day cycle (busier in the afternoon), Poisson counts, 20% of
    them negative; `cascades_per_day` harmless reply cascades of 3-8 posts within a quarter
    hour; `level_by_day`: {day: factor} for days busier or quieter than usual."""
    rng = random.Random(seed)
    minutes = days * DAY
    counts = [0] * minutes
    for i in range(minutes):
        hour = (i % DAY) / 60
        rate = per_hour / 60 * (1 + 0.6 * math.cos(2 * math.pi * (hour - 14) / 24))
        rate *= (level_by_day or {}).get(i // DAY, 1.0)
        # Poisson by inversion (rates are small per minute).
        u, k, p = rng.random(), 0, math.exp(-rate)
        total = p
        while u > total:
            k += 1
            p *= rate / k
            total += p
        counts[i] = k
    for day in range(days):
        for _ in range(cascades_per_day):
            start = day * DAY + rng.randrange(DAY - 15)
            for _ in range(rng.randint(3, 8)):
                counts[start + rng.randrange(15)] += 1
    negative = [sum(rng.random() < 0.2 for _ in range(n)) for n in counts]
    return counts, negative, list(counts)


def opened(events):
    return [e for e in events if isinstance(e, detection.Opened)]


def test_a_six_fold_step_on_a_noisy_stream_raises_one_signal_within_ten_minutes():
    lists = noisy(20)
    start = 15 * DAY + 14 * 60  # an afternoon (the busiest hours), two weeks in
    add(lists, start, 180, 3)  # ~35/h -> ~215/h for three hours
    _, events = evaluate(lists, 15 * DAY, 16 * DAY - 1)
    signals = opened(events)
    assert len(signals) == 1 and signals[0].kind == "volume"
    assert start <= signals[0].minute <= start + 10
    # The reason names the short window that stood out and what it should have held.
    minutes, mentions, expected = signals[0].reading.trigger
    assert minutes <= 20 and mentions >= 3 * expected


def test_a_noisy_quiet_week_with_reply_cascades_raises_nothing():
    # One mention an hour and a reply cascade of 3-8 posts a day: a cascade on top of a
    # busy hour comes near the 10-mention minimum, and is not an incident.
    for seed in (1, 2, 3):
        lists = noisy(1, days=28, seed=seed, cascades_per_day=1)
        _, events = evaluate(lists, 21 * DAY, 28 * DAY - 1)
        assert opened(events) == [], seed


def test_a_busier_day_is_not_an_incident_but_a_spike_on_it_is():
    # Day 15 runs at 1.6x the usual all day: no signal; a 5x step that afternoon still
    # raises one within ten minutes, measured against the day as it runs.
    busy = noisy(30, days=16, level_by_day={15: 1.6})
    _, events = evaluate(busy, 15 * DAY, 16 * DAY - 1)
    assert opened(events) == []
    start = 15 * DAY + 15 * 60
    add(busy, start, 120, 3)
    _, events = evaluate(busy, 15 * DAY, 16 * DAY - 1)
    signals = opened(events)
    assert len(signals) == 1 and start <= signals[0].minute <= start + 10


def test_a_long_incident_gives_exactly_one_signal():
    # Six hours at about 4x: the day's level is not learnt from the incident while it lasts.
    lists = noisy(20, days=16)
    start = 15 * DAY + 9 * 60
    add(lists, start, 360, 1)
    _, events = evaluate(lists, 15 * DAY, 16 * DAY - 1)
    assert kinds(events) == ["Opened", "Closed"]
    assert opened(events)[0].minute <= start + 20
    closed = next(e for e in events if isinstance(e, Closed))
    assert closed.minute >= start + 360


def test_a_second_wave_after_an_incident_is_seen_as_soon_as_the_first():
    # The hours of an incident do not teach the detector to expect the next one: a second
    # wave of the same size five hours after the first (its cool-down over) is caught as fast.
    lists = noisy(20, days=16)
    first, second = 15 * DAY + 9 * 60, 15 * DAY + 16 * 60
    add(lists, first, 120, 3)
    add(lists, second, 120, 3)
    _, events = evaluate(lists, 15 * DAY, 16 * DAY - 1)
    signals = opened(events)
    assert len(signals) == 2
    assert first <= signals[0].minute <= first + 10
    assert second <= signals[1].minute <= second + 10


def every(lists, start, minutes, period, negative=False):
    """One more mention every `period` minutes from `start` for `minutes` minutes."""
    counts, negatives, scored = lists
    for i in range(start, start + minutes, period):
        counts[i] += 1
        scored[i] += 1
        negatives[i] += int(negative)


def test_a_sustained_three_fold_step_is_seen_by_the_longer_windows(monkeypatch):
    # About 3x on a 6/h watch for four hours: no hour stands out at the bar, two or three
    # hours together do. One signal, whose reason is the long window.
    lists = noisy(6, days=16, seed=3)
    start = 15 * DAY + 10 * 60
    every(lists, start, 240, 4)  # +15 an hour
    _, events = evaluate(lists, 15 * DAY, 16 * DAY - 1)
    signals = opened(events)
    assert len(signals) == 1 and signals[0].kind == "volume"
    assert start + 60 <= signals[0].minute <= start + 180
    minutes, mentions, expected = signals[0].reading.trigger
    assert minutes > detection.WINDOW and mentions >= 2.5 * expected
    assert kinds(events) == ["Opened", "Closed"]
    # Without them the same step raises nothing.
    monkeypatch.setattr(detection, "LONG_WINDOWS", ())
    _, events = evaluate(lists, 15 * DAY, 16 * DAY - 1)
    assert opened(events) == []


def test_a_quiet_watchs_sustained_step_counts_its_minimum_in_the_long_window():
    # About 3.5x on a 2/h watch for four hours: the signal opens at a minute whose hour holds
    # 9 mentions, under the watch's minimum of 10, because the two hours hold 21 where 5 were
    # expected. The same day without the step raises nothing.
    quiet = noisy(2, days=16, seed=8)
    _, events = evaluate(quiet, 15 * DAY, 16 * DAY - 1)
    assert opened(events) == []
    start = 15 * DAY + 10 * 60
    every(quiet, start, 240, 8)  # +7.5 an hour
    _, events = evaluate(quiet, 15 * DAY, 16 * DAY - 1)
    signals = opened(events)
    assert len(signals) == 1 and start + 60 <= signals[0].minute <= start + 240
    reading = signals[0].reading
    minutes, mentions, expected = reading.trigger
    assert reading.observed < RULES.volume_min_count <= mentions
    assert minutes > detection.WINDOW and mentions >= 3 * expected


def test_a_past_incident_does_not_make_quiet_nights_look_clustered():
    # The clustering of a 2/h watch's quarter hours (its reply cascades) is read over the
    # past 14 days; one day with an incident (a spike of about 300 posts that fades within
    # the hour) is not what its nights look like.
    lists = noisy(2, days=16, seed=5, cascades_per_day=1)
    usual = detection.dispersion(Series(0, *lists), 15 * DAY, history_start=0)
    for minute in range(60):
        add(lists, 12 * DAY + 14 * 60 + minute, 1, round(30 * math.exp(-minute / 10)))
    after = detection.dispersion(Series(0, *lists), 15 * DAY, history_start=0)
    assert usual > 1.1  # the cascades show
    assert after == pytest.approx(usual, rel=0.25)


def test_a_slow_tone_shift_on_a_modest_watch_is_seen_by_the_longest_tone_window(monkeypatch):
    # 20/h, 20% -> 35% of the labels negative for six hours: three hours of it are too few
    # mentions to tell from chance at the bar, six are.
    lists = flat(20, minutes=HISTORY + 600)
    shifted = flat(20, minutes=HISTORY + 600, negative_share=0.35)
    start = HISTORY + 60
    lists[1][start : start + 360] = shifted[1][start : start + 360]
    rules = Rules(volume_min_count=1000, tone_shift_points=12, tone_min_scored=25)
    _, events = evaluate(lists, HISTORY, HISTORY + 599, rules)
    signals = opened(events)
    assert len(signals) == 1 and signals[0].kind == "tone"
    assert start + 180 <= signals[0].minute < start + 360
    monkeypatch.setattr(detection, "LONG_TONE_WINDOWS", ())
    _, events = evaluate(lists, HISTORY, HISTORY + 599, rules)
    assert opened(events) == []


@pytest.mark.django_db
def test_a_tone_signal_gives_its_reason_in_plain_words(watch, reader, client):
    # Its reason is the tone window that stood out, not a volume window.
    reading = detection.Reading(
        minute=detection.epoch_minute(NOW),
        observed=40,
        expected=38.0,
        deviations=0.4,
        volume_alert=False,
        volume_elevated=False,
        negative_share=0.41,
        baseline_negative_share=0.27,
        tone_shift=0.14,
        tone_alert=True,
        tone_elevated=True,
        severity=2,
        trigger=(60, 40, 38.0),
        tone_trigger=(360, 131, 0.412, 0.268),
    )
    signal = actions.signal_open(
        watch=watch, kind="tone", started_at=NOW - timedelta(hours=4), reading=reading, now=NOW
    )
    assert signal.summary["trigger"] == {
        "kind": "tone",
        "minutes": 360,
        "scored": 131,
        "negative": 41,
        "usual": 27,
    }
    client.force_login(reader)
    reason = "41% negative over 360 minutes (131 scored mentions) where 27% is usual"
    assert reason in client.get(f"/listening/signals/{signal.pk}/").content.decode()
    # The open signals' panel gives a tone signal's shares as it did.
    panel = client.get("/listening/panels/signals/").content.decode()
    assert "41 %" in panel and "27 %" in panel
    french = client.get(f"/listening/signals/{signal.pk}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "41 % de négatif sur 360 minutes" in french.content.decode()
    # A new peak without a tone window keeps the reason it had.
    actions.signal_update(signal=signal, reading=replace(reading, tone_trigger=None), now=NOW)
    signal.refresh_from_db()
    assert signal.summary["trigger"]["kind"] == "tone"


@pytest.mark.django_db
def test_a_lone_post_before_the_wave_is_not_where_it_started(history):
    """On a quiet watch one post 50 minutes before the wave pulled the signal's start (and
    first mention, and so the mentions a declaration attaches) back to it (a new-user
    pass: "Started 14:53" for a burst at 15:44, naming an unrelated older post)."""
    ingest([post("lone", posted_at=(NOW - timedelta(minutes=50)).isoformat())])
    detection.detect(now=NOW)
    signal = Signal.objects.get()
    assert signal.first_mention.external_id.startswith("s")
    assert signal.started_at >= NOW - timedelta(minutes=21)


def test_a_lone_negative_post_long_before_a_tone_wave_is_not_where_it_started():
    # One mention every two hours, a fifth of them negative; one more negative post 100
    # minutes before half an hour of negative posts (one a minute). Quiet minutes count
    # against the tone wave: its start is the wave's, not the lone post's.
    lists = flat(0.5)
    wave = HISTORY + 200
    add(lists, HISTORY + 100, 1, 1, negative_per_minute=1)
    add(lists, wave, 30, 1, negative_per_minute=1)
    _, events = evaluate(lists, HISTORY, HISTORY + 400, Rules(volume_min_count=1000))
    signals = opened(events)
    assert len(signals) == 1 and signals[0].kind == "tone"
    assert wave <= signals[0].started <= wave + 5


def day_and_night(day_per_hour, night_per_hour, busy=range(8, 20), minutes=HISTORY + DAY):
    """Busy hours and quiet ones every day (a fifth negative, all scored), evenly spread."""
    counts = [0] * minutes
    for m in range(minutes):
        rate = day_per_hour if (m % DAY) // 60 in busy else night_per_hour
        counts[m] = int((m + 1) * rate / 60) - int(m * rate / 60)
    negative, seen = [0] * minutes, 0
    for m, n in enumerate(counts):
        for _ in range(n):
            seen += 1
            negative[m] += seen % 5 == 0
    return counts, negative, list(counts)


@pytest.mark.parametrize(
    ("hour", "extra_share", "shift_points"),
    [(2, None, 25), (14, 0.33, 25), (14, 0.15, 10)],
    ids=["night-wave", "busy-hours-wave", "busy-hours-low-bar"],
)
def test_a_tone_waves_start_knows_the_time_of_day(hour, extra_share, shift_points):
    """The usual negative mentions a minute are those of that time of day: a wave at night
    (30 negative posts an hour on a watch of 20 an hour by night, 1,200 by day) starts when
    it starts, not at the signal's opening (the week's average rate had put the night's
    wave below usual); a wave in busy hours does not reach back to the morning (the busy
    hours' usual negatives read as the wave's)."""
    lists = day_and_night(1200, 20)
    wave = HISTORY + hour * 60
    counts, negative, _scored = lists
    for m in range(wave, HISTORY + DAY):
        if extra_share is None:  # one more negative post every other minute
            add(lists, m, 1, (m - wave) % 2 == 0, negative_per_minute=(m - wave) % 2 == 0)
        else:  # a share of the posts turn negative
            negative[m] = min(counts[m], negative[m] + round(extra_share * counts[m]))
    rules = Rules(volume_min_count=100_000, tone_shift_points=shift_points)
    _, events = evaluate(lists, HISTORY, HISTORY + DAY - 1, rules)
    signals = opened(events)
    assert signals and signals[0].kind == "tone"
    assert wave - 2 <= signals[0].started <= wave + 5 < signals[0].minute


@pytest.mark.django_db
def test_a_lone_negative_post_long_before_a_tone_wave_is_not_its_first_mention(watch, watch_editor):
    """A quiet watch alerting on tone only (a post every two hours, one in five negative):
    a lone negative post 95 minutes before half an hour of negative posts was the tone
    signal's start, its first mention and the start of what a declaration attaches."""
    actions.watch_update(watch=watch, actor=watch_editor, volume_min_count=1000)
    type(watch).objects.filter(pk=watch.pk).update(created_at=NOW - timedelta(days=8))
    praise = "Maison Lumière, livraison rapide et produits magnifiques, merci !"
    rows = [
        post(
            f"h{i}",
            **({} if i % 5 == 0 else {"text": praise}),
            posted_at=(NOW - timedelta(days=8) + timedelta(hours=2 * i)).isoformat(),
        )
        for i in range(95)  # the last one two hours before NOW
    ]
    rows.append(post("lone", posted_at=(NOW - timedelta(minutes=95)).isoformat()))
    rows += [
        post(f"t{i}", posted_at=(NOW - timedelta(minutes=30) + timedelta(minutes=i)).isoformat())
        for i in range(30)
    ]
    ingest(rows)
    detection.detect(now=NOW)
    signal = Signal.objects.get()
    assert signal.kind == "tone"
    assert signal.first_mention.external_id.startswith("t")
    assert signal.started_at >= NOW - timedelta(minutes=31)


@pytest.mark.django_db
def test_a_watch_set_up_as_a_crisis_starts_alerts_at_once_when_it_sorted_the_past_in(
    watch_editor,
):
    """A new-user pass set a watch up for its brand, sorting the week's stored posts into it
    (none about that brand), then 40 complaints came: the watch was 'learning its usual
    volume' for two hours and said nothing. The posts sorted give it that history: zero."""
    other = [
        post(
            f"o{i}",
            text="Une bouilloire KX-200 de plus, rien à voir",
            posted_at=(NOW - timedelta(days=2) + timedelta(hours=i)).isoformat(),
        )
        for i in range(48)
    ]
    ingest(other)
    kind = dict(name="Savonnerie Azur", brand="Azur", keywords=["azur fraîcheur"])
    new = actions.watch_create(actor=watch_editor, now=NOW - timedelta(minutes=20), **kind)
    result = actions.watch_rematch(
        watch=new, actor=watch_editor, days=7, now=NOW - timedelta(minutes=20)
    )
    assert (result.read, result.added) == (48, 0)
    new.refresh_from_db()
    assert new.sorted_from == NOW - timedelta(days=2) and new.known_since == new.sorted_from
    burst = [
        post(
            f"b{i}",
            text="Azur Fraîcheur m'a brûlé la peau, produit dangereux",
            posted_at=(NOW - timedelta(minutes=15) + timedelta(seconds=20 * i)).isoformat(),
        )
        for i in range(40)
    ]
    ingest(burst)

    assert detection.detect(now=NOW)["opened"] == 1
    assert Signal.objects.get().watch == new
    # Without the sorted past, the same watch would still be learning (no alert yet).
    type(new).objects.filter(pk=new.pk).update(sorted_from=None)
    Signal.objects.all().delete()
    assert detection.alerts_from(new.created_at) > NOW
