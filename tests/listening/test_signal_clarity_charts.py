"""What the volume charts and a signal's page say, as a new user reads them: the band is the
normal range and the alert threshold a line of its own; a signal keeps the reason it opened
beside its latest peak's; its buckets sit on the clock; the hour in progress is a bar "so
far"; the evidence comes before the decision; one unit per chart; top terms without
fillers nor the watch's own words; the room's chart starts near its first mention."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import caches

from incidents.listening import charts, curves, detection, selectors, terms
from incidents.listening.models import Signal
from incidents.listening.selectors import Bucket
from incidents.listening.views import room_chart_span

from .conftest import NOW, ingest, post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    caches["default"].clear()
    yield
    caches["default"].clear()


# 1. The band is the normal range; the alert threshold is a line


def test_the_band_is_the_normal_range_and_the_threshold_a_line(watch):
    # detection.band: low = expected - 2 sd, high = expected + volume_deviations (4) sd.
    values = [{"expected": 1.0, "low": 0.0, "high": 9.0}, {"expected": None, "low": None}]
    baseline = charts.baseline(values, watch)
    assert baseline.band == ((0.0, 5.0), (0.0, 0.0))  # 1 + 2 * (9 - 1) / 4
    assert baseline.threshold == (9.0, 0.0) and baseline.min_count == watch.volume_min_count
    hour = timedelta(hours=1)
    buckets = [Bucket(NOW + i * hour, 1, 0, 0) for i in range(2)]
    chart = charts.chart(buckets, hour, baseline=baseline)
    assert chart.band and chart.threshold_line and chart.min_count == watch.volume_min_count
    assert chart.peak >= 9  # the threshold on the scale


def test_every_chart_with_a_band_names_it_normal_range_and_draws_the_threshold(
    signal, reader, client
):
    client.force_login(reader)
    for url in (f"/listening/signals/{signal.pk}/", f"/listening/?chart={signal.watch_id}"):
        html = client.get(url).content.decode()
        assert "usual range" not in html, url
        assert 'class="chart-threshold"' in html and 'class="chart-band"' in html, url
        assert "normal range (expected give or take 2 deviations)" in html, url
        assert "alert threshold (an alert also needs 10 mentions in an hour)" in html, url


# 2. The reason a signal opened stays; its buckets sit on the clock


def _new_peak(signal):
    """More of the wave after the opening: the detector writes a new peak (its trigger)."""
    ingest(
        [
            post(
                f"late{i}",
                posted_at=(NOW + timedelta(seconds=20 * i)).isoformat(),
                author={"handle": f"late{i}.bsky.social", "followers": 10},
            )
            for i in range(40)
        ]
    )
    detection.detect(now=NOW + timedelta(minutes=15))
    return Signal.objects.get(pk=signal.pk)


def test_the_reason_it_opened_stays_beside_its_latest_peak(signal, reader, client, at_now):
    # The detector's own pass already wrote later peaks over the opening's trigger.
    opened = selectors.known_opening(signal)
    window = selectors.signal_window(signal, signal.opened_at).filter(
        posted_at__gte=signal.opened_at - timedelta(minutes=opened["minutes"])
    )
    assert opened["mentions"] == window.count()  # the minutes before it opened
    updated = _new_peak(signal)
    assert updated.peak_at > updated.opened_at and updated.summary["trigger"] != opened
    assert selectors.known_opening(updated) == opened  # kept
    at_now(NOW + timedelta(minutes=16))
    client.force_login(reader)
    page = client.get(f"/listening/signals/{signal.pk}/")
    html = page.content.decode()
    assert page.context["opening"] == opened
    reason = f"{opened['mentions']} mentions in {opened['minutes']} minutes"
    assert "Why it opened" in html and reason in html
    assert "At its latest peak" in html
    latest = updated.summary["trigger"]
    assert f"{latest['mentions']} mentions in {latest['minutes']} minutes" in html
    # The chart marks when it opened (with its figure where the label has room beside its
    # line: here a phone's plot has not, charts.place_labels), and shades its window.
    label = next(label for label in page.context["chart"].mark_labels if label.name == "opened")
    assert label.text.startswith("signal opened")
    assert 'class="chart-trigger"' in html
    # The card says the same opening.
    card = client.get("/listening/panels/signals/").content.decode()
    assert "Opened on:" in card and reason in card


def test_a_signal_opened_before_its_reason_was_kept_says_which_reason_it_shows(
    signal, reader, client
):
    client.force_login(reader)
    summary = {k: v for k, v in signal.summary.items() if k != "opening"}
    Signal.objects.filter(pk=signal.pk).update(peak_at=signal.opened_at, summary=summary)
    card = client.get("/listening/panels/signals/").content.decode()
    assert "Opened on:" in card  # no new peak: its trigger is the opening's
    Signal.objects.filter(pk=signal.pk).update(peak_at=signal.opened_at + timedelta(minutes=5))
    card = client.get("/listening/panels/signals/").content.decode()
    assert "At its latest peak:" in card and "Opened on:" not in card  # not read yet


def test_the_same_signal_draws_the_same_bars_whenever_it_is_opened(signal):
    first = curves.span(signal, now=NOW + timedelta(minutes=3))
    later = curves.span(signal, now=NOW + timedelta(minutes=17))
    for start, _end, width in (first, later):
        assert width == timedelta(minutes=10)
        assert start.minute % 10 == 0 and start.second == 0 and start.microsecond == 0
    assert (later[0] - first[0]) % timedelta(minutes=10) == timedelta(0)
    # The bars both draw hold the same counts.
    a = {
        b.start: b.mentions for b in curves.signal_curve(signal, NOW + timedelta(minutes=3)).buckets
    }
    b = {
        b.start: b.mentions
        for b in curves.signal_curve(signal, NOW + timedelta(minutes=17)).buckets
    }
    shared = [start for start in a if start in b and start + timedelta(minutes=10) <= NOW]
    assert shared and all(a[start] == b[start] for start in shared)


# 3. The bucket in progress is a bar "so far"


def test_the_hour_in_progress_is_a_bar_so_far_wide_enough_to_see():
    hour = timedelta(hours=1)
    buckets = [Bucket(NOW + i * hour, 1, 0, 0) for i in range(167)]
    buckets.append(Bucket(NOW + 167 * hour, 40, 0, 0))
    chart = charts.chart(buckets, hour, end=NOW + 167 * hour + timedelta(minutes=5))
    x, _y, width, height = (float(v) for v in chart.filling)
    assert width >= charts.FILLING_MIN_WIDTH * charts.CHART_WIDTH
    assert x + width == pytest.approx(charts.CHART_WIDTH)
    assert height > 0.8 * charts.CHART_HEIGHT  # the burst: most of the plot's height
    assert chart.mark_labels[-1].name == "sofar" and chart.mark_labels[-1].text == "40 so far"


def test_the_listening_chart_shows_a_burst_in_the_current_hour(watch, reader, client, at_now):
    at_now(NOW + timedelta(minutes=30))
    ingest([post(f"now{i}", posted_at=(NOW + timedelta(minutes=i)).isoformat()) for i in range(12)])
    client.force_login(reader)
    html = client.get(f"/listening/?chart={watch.pk}").content.decode()
    assert 'class="chart-filling"' in html
    assert "12 so far" in html and "last bar still filling: 12 so far" in html


# 4. On a phone the evidence comes before the decision


def test_the_signal_page_puts_the_evidence_before_the_decision(signal, reader, client):
    client.force_login(reader)
    html = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    order = [html.index(part) for part in ('id="facts-title"', 'id="curve-title"',
                                           'id="summary-title"', 'id="declare-title"')]  # fmt: skip
    assert order == sorted(order)
    assert 'class="listening-grid signal-grid"' in html


# 5. One unit per chart, the trigger in its own words


def test_one_unit_for_the_chart_and_its_peak(signal, reader, client, at_now):
    at_now(NOW + timedelta(minutes=7))
    client.force_login(reader)
    page = client.get(f"/listening/signals/{signal.pk}/")
    chart, html = page.context["chart"], page.content.decode()
    assert "Mentions per 10 min</h2>" in html
    assert f'{chart.peak} <span class="chart-unit">mentions per 10 min</span>' in html
    assert f"(peak {chart.highest}, " in html and chart.highest == max(
        bucket.mentions
        for bucket in curves.signal_curve(signal, NOW + timedelta(minutes=7)).buckets
    )
    assert "mentions/h" not in html and "Busiest hour" in html


# 6. Top terms say something


def test_fillers_and_the_watchs_own_words_are_no_top_terms(watch):
    assert terms.words("It stays everywhere, the brand, marque partout toujours") == set()
    stored = [["lumière", 9], ["stays", 5], ["livraison", 4], ["cosmetics", 3], ["everywhere", 2]]
    assert selectors.telling_terms(stored, watch) == [["livraison", 4]]


def test_the_signal_page_lists_telling_terms_only(signal, reader, client):
    summary = dict(signal.summary, terms=[["everywhere", 9], ["lumiere", 5], ["livraison", 4]])
    Signal.objects.filter(pk=signal.pk).update(summary=summary)
    client.force_login(reader)
    html = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    assert "livraison (4)" in html and "everywhere (9)" not in html and "lumiere (5)" not in html


# 7. The room's chart starts shortly before its first mention


def test_the_rooms_chart_starts_an_hour_before_a_wave_that_came_after_the_declaration():
    declared = datetime(2026, 12, 3, 7, 7, tzinfo=UTC)
    wave = declared + timedelta(hours=5, minutes=20)
    now = wave + timedelta(minutes=25)
    start, width = room_chart_span(declared, wave, now)
    assert width == timedelta(minutes=10)
    assert wave - timedelta(hours=1, minutes=10) < start <= wave - timedelta(hours=1)
    assert (wave - start) / (now - start) < 0.75  # the wave is no sliver at the edge
    # A mention before the declaration: from it, as before (six hours at most).
    assert room_chart_span(declared, declared - timedelta(hours=3), now)[0] == datetime(
        2026, 12, 3, 4, 0, tzinfo=UTC
    )
