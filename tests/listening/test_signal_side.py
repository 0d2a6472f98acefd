"""A signal from the committee's side: declaring from it with a category and a severity, its
curve (one bucket rule for the page and the API, never a future drawn as zeros, its
moments marked), reaching closed signals, the figures as they read (expected counts, the
signal's status in French), its top terms, and the alert e-mail."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from crisiscell.typography import french_spacing
from incidents.listening import actions, charts, curves, detection, figures, terms
from incidents.listening.models import Signal
from incidents.listening.selectors import Bucket
from incidents.models import TimelineEntry
from incidents.notifications import actions as notification_actions
from incidents.notifications.models import Notification
from incidents.outbox.choices import Channel
from incidents.outbox.models import OutboundMessage
from tests.helpers import assert_error

from .conftest import NOW, grant, ingest, post

pytestmark = pytest.mark.django_db


# 1. Declare from a signal: title, category and severity


def test_the_page_offers_title_category_and_severity_prefilled_with_the_guess(
    signal, reader, client
):
    client.force_login(reader)
    page = client.get(f"/listening/signals/{signal.pk}/")
    form = page.context["declare_form"]
    # The mentions are about a missed delivery ("livraison"): Service is suggested.
    assert form.initial == {
        "title": "Volume spike on Maison Lumière",
        "category": "service",
        "severity": signal.severity,
    }
    html = page.content.decode()
    assert 'type="text" name="title"' in html and 'name="category"' in html
    assert 'class="button button-primary"' in html
    refused = client.post(
        f"/listening/signals/{signal.pk}/", {"title": "x", "category": "nope", "severity": "9"}
    )
    assert refused.status_code == 422
    assert set(refused.context["declare_form"].errors) == {"category", "severity"}
    assert Signal.objects.get().incident is None


def test_the_api_declares_with_the_category_and_severity_given(signal, reader, api):
    client = api.as_user(reader)
    defaults = client.get(f"/api/signals/{signal.pk}/").json()["declare_defaults"]
    assert defaults["category"] == "service" and defaults["severity"] == signal.severity
    for body, field in (({"category": "recall"}, "category"), ({"severity": 7}, "severity")):
        response = client.post(f"/api/signals/{signal.pk}/declare/", body, format="json")
        assert_error(response, 400)
        assert field in response.json()["errors"], response.json()
    assert Signal.objects.get().incident is None
    response = client.post(
        f"/api/signals/{signal.pk}/declare/", {"category": "product", "severity": 4}, format="json"
    )
    assert response.status_code == 201
    signal.refresh_from_db()
    assert (signal.incident.category, signal.incident.severity) == ("product", 4)


def test_the_category_guess_reads_the_top_terms():
    assert terms.guess_category(["couvercle", "fendu", "dangereux"]) == "product"
    assert terms.guess_category(["remboursement"]) == "service"
    assert terms.guess_category(["rumeur"]) == "rumour"
    assert terms.guess_category(["honte", "scandale"]) == "brand"
    assert terms.guess_category(["application"]) == "brand"  # short words count whole


# 2 and 3. The curve: ends now while open, one bucket rule, its moments marked


def test_an_open_signals_curve_ends_now_and_a_closed_one_an_hour_after_its_close(signal):
    start, end, width = curves.span(signal, now=NOW + timedelta(minutes=5, seconds=30))
    assert end == NOW + timedelta(minutes=5) and width == timedelta(minutes=10)
    # On the clock (10:40, 10:50...), not on now: the last bucket is still filling.
    assert start.minute % 10 == 0 and start.second == 0
    # Opened minutes ago: an hour of its usual level before it, not six (the wave would be
    # the chart's last few percent, its "started" and "opened" marks one on a phone).
    before = signal.started_at - start
    assert curves.SIGNAL_BEFORE_MIN <= before < curves.SIGNAL_BEFORE_MIN + width
    assert (end - signal.started_at) / (end - start) > 0.05
    # Longer: as long before it as it has lasted, up to six hours.
    start, end, width = curves.span(signal, now=signal.started_at + timedelta(hours=3))
    assert timedelta(hours=3) <= signal.started_at - start < timedelta(hours=3) + width
    start, end, width = curves.span(signal, now=signal.started_at + timedelta(hours=20))
    assert curves.SIGNAL_BEFORE <= signal.started_at - start < curves.SIGNAL_BEFORE + width
    # Open for a month: wider buckets, never more than MAX_BUCKETS, over at most SPAN_MAX.
    start, end, wide = curves.span(signal, now=NOW + timedelta(days=30))
    assert wide > timedelta(minutes=10) and (end - start) / wide <= curves.MAX_BUCKETS
    actions.signal_close(signal=signal, now=NOW + timedelta(minutes=30))
    assert curves.span(signal, now=NOW + timedelta(minutes=40))[1] == NOW + timedelta(minutes=40)
    assert curves.span(signal, now=NOW + timedelta(hours=5))[1] == NOW + timedelta(minutes=90)


def test_page_and_api_draw_the_same_buckets_with_the_signals_moments(
    signal, reader, client, api, at_now
):
    at_now(NOW + timedelta(minutes=7))
    curve = api.as_user(reader).get(f"/api/signals/{signal.pk}/").json()["curve"]
    client.force_login(reader)
    page = client.get(f"/listening/signals/{signal.pk}/")
    chart = page.context["chart"]
    assert curve["bucket_minutes"] == chart.bucket_minutes == 10
    assert len(curve["points"]) == chart.buckets
    assert sum(p["mentions"] for p in curve["points"]) == chart.total >= 30
    # Buckets on the clock: the one from 12:00 is still filling at 12:07 (a bar "so far").
    assert chart.end == NOW + timedelta(minutes=7) and chart.partial
    assert [name for name, _x, _moment in chart.marks] == ["started", "opened"]
    html = page.content.decode()
    assert "chart-mark-started" in html and "mentions per 10 min" in html
    assert "Negative share at the peak" in html and "over the period shown" in html
    assert "drawn where 5 mentions or more were scored" in html  # a gap is not a zero


def test_a_signals_marks_are_named_at_their_lines_never_cut_nor_overlapping(
    signal, reader, client, at_now
):
    # A signal opened two minutes after it started, at the chart's right edge: the labels
    # take a row each, each left of its line (no room on its right), inside the plot.
    minute = timedelta(minutes=1)
    marks = [("started", 96.0, NOW), ("opened", 98.5, NOW + 2 * minute)]
    started, opened = charts.place_labels(marks)
    assert (started.anchor, opened.anchor) == ("end", "end") and started.row != opened.row
    # Apart: one row, the first left of its line, the next right of its own.
    started, opened = charts.place_labels([("started", 40.0, NOW), ("opened", 45.0, NOW)])
    assert (started.anchor, opened.anchor, started.row, opened.row) == ("end", "start", 0, 0)
    # The opening's figure where it fits; its name and time where it does not (a phone:
    # the figure ran past the card, a verification pass).
    figure = {"opened": "signal opened 06:56: 54 in 20 min"}
    [fits] = charts.place_labels([("opened", 10.0, NOW)], figure)
    [shortened] = charts.place_labels([("opened", 50.0, NOW)], figure)
    assert fits.text == figure["opened"] and figure["opened"] not in shortened.text
    # Whatever the marks, each label inside the plot and none over another on its row.
    for xs in ((0.0, 1.0, 2.0), (30.0, 31.0, 99.0), (50.0, 60.0, 100.0), (0.0, 50.0, 100.0)):
        labels = charts.place_labels(
            [(name, x, NOW) for name, x in zip(("started", "opened", "closed"), xs, strict=True)],
            figure,
        )
        spans = []
        for label in labels:
            width = charts.LABEL_CHAR * len(label.text)
            lo = label.x - width if label.anchor == "end" else label.x
            assert lo >= 0 and lo + width <= 100, (xs, label)
            spans.append((label.row, lo, lo + width))
        for i, (row, lo, hi) in enumerate(spans):
            for other_row, other_lo, other_hi in spans[i + 1 :]:
                assert row != other_row or hi <= other_lo or other_hi <= lo, (xs, spans)
    # On the page: each mark's label in the SVG under the plot, as tall as its rows.
    at_now(signal.opened_at + 2 * minute)
    client.force_login(reader)
    page = client.get(f"/listening/signals/{signal.pk}/")
    chart = page.context["chart"]
    html = page.content.decode()
    assert [label.name for label in chart.mark_labels] == ["started", "opened", "sofar"]
    assert f'class="chart-mark-labels" width="100%" height="{chart.mark_rows_height}"' in html
    for label in chart.mark_labels:
        assert (
            f'class="chart-label chart-label-{label.name}" x="{label.left}%" y="{label.y}"' in html
        )
        assert f'text-anchor="{label.anchor}">{label.text}</text>' in html
    # The scales' tops sit above the plot, not over it.
    assert html.index('class="chart-scale') < html.index('class="chart-svg"')


def test_a_chart_stops_at_its_end_inside_a_bucket_still_filling():
    hour = timedelta(hours=1)
    buckets = [Bucket(NOW + i * hour, mentions=10, negative=0, scored=0) for i in range(3)]
    chart = charts.chart(buckets, hour, end=NOW + timedelta(hours=2, minutes=15))
    assert chart.end == NOW + timedelta(hours=2, minutes=15) and chart.partial
    assert chart.per == "per hour"
    # The bucket still filling is a bar "so far" over its whole hour, not the line's end:
    # its 10 so far read as a fall.
    assert chart.volume_line.count("L") == 1 and chart.filling is not None
    assert chart.axis_end == NOW + 3 * hour and chart.filling_count == 10
    whole = charts.chart(buckets, hour, end=NOW + 3 * hour)
    assert whole.end == NOW + 3 * hour and not whole.partial and whole.filling is None
    assert whole.volume_line.count("L") == 2


def test_the_rooms_chart_ends_now(incident, lead, browser_client):
    from .test_pages import bulk_mentions

    bulk_mentions(5, incident=incident, start=incident.declared_at)
    before = timezone.now()
    chart = (
        browser_client.as_user(lead)
        .get(f"/incidents/{incident.pk}/mentions/")
        .context["mention_chart"]
    )
    assert chart.end <= timezone.now() and chart.end >= before - timedelta(seconds=1)


def test_the_rooms_chart_draws_a_fresh_wave_in_ten_minute_bars(incident, lead, browser_client):
    # Hourly bars over six hours before the declaration left a 30-minute wave one or two
    # bars at the end of an empty chart.
    from .test_pages import bulk_mentions

    declared = incident.declared_at
    bulk_mentions(30, incident=incident, start=declared - timedelta(minutes=40))
    chart = (
        browser_client.as_user(lead)
        .get(f"/incidents/{incident.pk}/mentions/")
        .context["mention_chart"]
    )
    assert chart.bucket_minutes == 10
    assert chart.total == 30
    assert chart.start <= declared - timedelta(hours=1) < chart.start + timedelta(minutes=10)


def test_the_rooms_chart_span_follows_the_first_mention_within_six_hours():
    from incidents.listening.views import room_chart_span

    declared = datetime(2026, 12, 3, 9, 7, tzinfo=UTC)
    now = declared + timedelta(minutes=30)
    # No mention older than an hour before: an hour before, in 10-minute bars.
    assert room_chart_span(declared, declared, now) == (
        datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
        timedelta(minutes=10),
    )
    # A slow start three hours before: from it.
    start, width = room_chart_span(declared, declared - timedelta(hours=3), now)
    assert (start, width) == (datetime(2026, 12, 3, 6, 0, tzinfo=UTC), timedelta(minutes=10))
    # A week of simmering: six hours before at most.
    start, width = room_chart_span(declared, declared - timedelta(days=7), now)
    assert start == datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    # Days later: whole hours, at most 48 bars.
    start, width = room_chart_span(declared, declared, declared + timedelta(days=3))
    assert width == timedelta(hours=2) and (declared + timedelta(days=3) - start) / width <= 48


# 4. Closed signals can be reached


def _closed(watch, hours_ago, **extra):
    moment = timezone.now() - timedelta(hours=hours_ago)
    return Signal.objects.create(
        watch=watch,
        kind="volume",
        status="closed",
        opened_at=moment - timedelta(hours=1),
        started_at=moment - timedelta(hours=1),
        closed_at=moment,
        updated_at=moment,
        **extra,
    )


def test_recent_closed_signals_are_listed_bounded_and_paged(reader, watch, browser_client):
    client = browser_client.as_user(reader)
    recent = _closed(watch, 2)
    old = _closed(watch, 24 * 9)
    client.get("/listening/")
    with CaptureQueriesContext(connection) as one:
        page = client.get("/listening/")
    assert list(page.context["recent_signals"]) == [recent]
    assert f"/listening/signals/{old.pk}/" not in page.content.decode()
    for hours in range(3, 20):
        _closed(watch, hours)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/listening/")
    assert len(many) == len(one)
    assert len(page.context["recent_signals"]) == 10 and page.context["recent_more"]
    assert "More: every signal" in page.content.decode()
    # Every signal, older ones too, 25 at a time.
    first = client.get("/listening/signals/")
    assert len(first.context["signals"]) == 19 and not first.context["older"]
    for hours in range(30, 40):
        _closed(watch, hours)
    first = client.get("/listening/signals/")
    rest = client.get("/listening/signals/", {"before": first.context["older"]})
    shown = [s.pk for s in first.context["signals"]] + [s.pk for s in rest.context["signals"]]
    assert len(shown) == len(set(shown)) == 29 and old.pk in shown


def test_the_lists_link_an_incident_only_to_its_cell(reader, lead, watch, incident, browser_client):
    from .conftest import grant

    _closed(watch, 2, incident=incident)
    room = f'href="/incidents/{incident.pk}/"'
    for path in ("/listening/", "/listening/signals/"):
        html = browser_client.as_user(reader).get(path).content.decode()
        assert "Incident declared" in html and room not in html
        html = browser_client.as_user(grant(lead, "view_mention")).get(path).content.decode()
        assert room in html


def test_the_declared_incident_links_its_signal(signal, reader, client):
    client.force_login(reader)
    form = {"title": "Livraisons", "category": "service", "severity": "2"}
    room = client.post(f"/listening/signals/{signal.pk}/", form, follow=True)
    signal.refresh_from_db()
    assert TimelineEntry.objects.get(incident=signal.incident, kind="key_event").data["signal"] == (
        signal.pk
    )
    assert f'href="/listening/signals/{signal.pk}/"' in room.content.decode()
    panel = client.get(f"/incidents/{signal.incident_id}/mentions/").content.decode()
    assert f'href="/listening/signals/{signal.pk}/"' in panel and "From the signal" in panel


# 5 and 6. How the figures read


def test_an_open_signal_reads_ouvert_in_french_and_small_expectations_keep_a_decimal(
    signal, reader, client
):
    Signal.objects.filter(pk=signal.pk).update(observed=49, expected=0.24)
    client.force_login(reader)
    html = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    assert "49 mentions in one hour; 0.2 were expected" in html
    french = client.get(
        f"/listening/signals/{signal.pk}/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert ">Ouvert<" in french and "À faire" not in french
    # Singular below 2 in French.
    assert french_spacing("49 mentions en une heure ; 0,2 attendue") in french
    card = client.get("/listening/panels/signals/").content.decode()
    assert "49 mentions/h at the peak vs 0.2 expected" in card


@pytest.mark.parametrize(
    "value,shown",
    [(0.24, "0.2"), (0.03, "< 0.1"), (0, "0"), (1.0, "1"), (3.46, "3.5"), (38.4, "38")],
)
def test_expected_counts_read_with_one_decimal_when_small(value, shown):
    with translation.override("en"):
        assert figures.expected(value) == shown


# 7. Top terms


def test_top_terms_leave_out_elisions_numbers_and_fillers():
    text = "C'est la 3e fois, s'est plaint trois fois au bout du fil, mine de rien: l'entreprise"
    assert terms.words(text) == {"plaint", "entreprise"}
    assert terms.words("Three times they said that, qu'importe") == {"times", "importe"}


@pytest.mark.django_db
def test_top_terms_leave_out_each_word_the_watch_looks_for(signal):
    """Every post says "Maison Lumière" (the watch's keyword): its words told nothing."""
    found = [term for term, _n in signal.summary["terms"]]
    assert "livraison" in found and "honte" in found
    assert not {"maison", "lumière", "lumiere"} & set(found), found


# 8. The alert e-mail


def test_the_alert_email_gives_the_reason_the_first_mention_the_terms_and_the_link(
    history, reader, lead, settings
):
    settings.SITE_URL = "https://crisis.example.com"
    for person in (reader, lead):
        person.email = f"{person.username}@example.com"
        person.save(update_fields=["email"])
    notification_actions.preferences_update(actor=lead, language="fr")
    grant(lead, "view_mention")  # the alerted are listening readers when the alert goes
    history.subscribers.add(reader, lead)
    detection.detect(now=NOW)
    opened = Signal.objects.get()
    mails = {m.user_id: m for m in OutboundMessage.objects.filter(channel=Channel.EMAIL)}
    english, french = mails[reader.pk].body, mails[lead.pk].body
    # The reason as it stood when the signal opened (the e-mail is written then).
    assert "Why: " in english and " expected at that time of day" in english
    assert "in the last" not in english  # read right once the signal is closed too
    assert "Watch: Maison Lumière" in english
    assert "First mention: Bluesky · @user0.bsky.social: “Maison Lumière a encore raté" in english
    assert "Top terms: " in english and "livraison" in english
    assert f"https://crisis.example.com/listening/signals/{opened.pk}/" in english
    assert french_spacing("Pourquoi : ") in french
    assert french_spacing("Veille : Maison Lumière") in french
    assert french_spacing("Première mention : Bluesky") in french


def test_the_schema_names_the_declare_fields_and_defaults(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    declare = schema[schema.index("    DeclareRequest:") :][:1500]
    assert "CategoryEnum" in declare and "SeverityEnum" in declare
    assert "SignalDeclareDefaults" in schema


def test_a_subscriber_who_lost_listening_access_is_not_alerted(history, reader, make_user):
    """Access is checked when the alert goes, not only when someone was subscribed."""
    gone = grant(make_user("gone"), "view_mention")
    history.subscribers.add(reader, gone)
    gone.user_permissions.clear()
    detection.detect(now=NOW)
    assert Signal.objects.count() == 1
    alerted = set(Notification.objects.filter(kind="signal_opened").values_list("user", flat=True))
    assert alerted == {reader.pk}


def test_a_post_cannot_write_lines_links_or_pings_into_the_alert(history, reader):
    """The first mention's author and text are someone else's words: one line each, no chat
    markup (Slack's <!channel>, <url|label>), no @everyone."""
    reader.email = "reader@example.com"
    reader.save(update_fields=["email"])
    history.subscribers.add(reader)
    hostile = post(
        "s-first",
        text="Maison Lumière <!channel> <https://evil.example/login|Reset your password> @everyone",
        posted_at=(NOW - timedelta(minutes=25)).isoformat(),
        author={"handle": "eve\n\nOpen it: https://evil.example/\n\n-- \nFooter"},
    )
    ingest([hostile])
    detection.detect(now=NOW)
    signal = Signal.objects.get()
    assert signal.first_mention.external_id == "s-first"
    body = OutboundMessage.objects.get(channel=Channel.EMAIL, user=reader).body
    first = next(line for line in body.splitlines() if "First mention" in line)
    assert "Open it: https://evil.example/" in first  # on the author's line, not a line of ours
    opens = [line for line in body.splitlines() if line.startswith("Open it")]
    assert len(opens) == 1 and "evil" not in opens[0]  # the e-mail's own link, alone
    assert "<" not in body and ">" not in body
    assert "@everyone" not in body and "@\u200beveryone" in body


# 9. The figures read right once closed, in both languages


@pytest.mark.parametrize(
    "expected,english,french",
    [
        (1.3, "where 1.3 were expected", "pour 1,3 attendue "),
        (0.3, "where 0.3 were expected", "pour 0,3 attendue "),
        (1, "where 1 was expected", "pour 1 attendue "),
        (1.5, "where 1.5 were expected", "pour 1,5 attendue "),
        (2, "where 2 were expected", "pour 2 attendues "),
        (12.4, "where 12 were expected", "pour 12 attendues "),
    ],
)
def test_a_signals_reason_reads_right_whenever_it_is_read(expected, english, french):
    """No "in the last 20 minutes" on a signal closed yesterday; the French "attendue"
    agrees with its figure (singular below 2), the English verb with its own."""
    trigger = {"minutes": 20, "mentions": 54, "expected": expected}
    with translation.override("en"):
        said = figures.reason(trigger)
        assert said.startswith("54 mentions in 20 minutes " + english)
        assert said.endswith("at that time of day") and "last" not in said
        tone = figures.reason(
            {"kind": "tone", "minutes": 360, "scored": 130, "negative": 41, "usual": 27}
        )
        assert tone == ("41% negative over 360 minutes (130 scored mentions) where 27% is usual")
    with translation.override("fr"):
        said = figures.reason(trigger)
        assert said.startswith("54 mentions en 20 minutes, " + french) and "dernières" not in said


@pytest.mark.parametrize(
    "expected,french",
    [
        (1, "80 mentions/h au plus fort pour 1 attendue"),
        (0.3, "80 mentions/h au plus fort pour 0,3 attendue"),
        (1.5, "80 mentions/h au plus fort pour 1,5 attendue"),
        (2, "80 mentions/h au plus fort pour 2 attendues"),
    ],
)
def test_the_volume_at_the_peak_agrees_in_french(expected, french):
    signal = Signal(observed=80, expected=expected)
    with translation.override("fr"):
        assert figures.volume(signal) == french


def test_the_negative_share_stays_inside_the_chart():
    """0-100 % on its own scale, inside the plot (the top of the line under the volume's
    peak label, its stroke whole)."""
    hour = timedelta(hours=1)
    buckets = [
        Bucket(NOW + i * hour, mentions=10, negative=negative, scored=10)
        for i, negative in enumerate([0, 5, 10, 10])
    ]
    chart = charts.chart(buckets, hour)
    points = chart.negative_line.replace("M", " ").replace("L", " ").split()
    ys = [float(point.split(",")[1]) for point in points]
    assert min(ys) == charts.NEGATIVE_TOP and max(ys) == charts.CHART_HEIGHT
    assert all(charts.NEGATIVE_TOP <= y <= charts.CHART_HEIGHT for y in ys)


def test_a_lone_scored_period_is_drawn_across_its_width():
    """A period with enough scored mentions between two without (the room right after a
    declaration): a point alone draws nothing, so the legend spoke of a line not there."""
    hour = timedelta(hours=1)
    scored = [0, 0, 10, 0]
    buckets = [
        Bucket(NOW + i * hour, mentions=10, negative=n // 2, scored=n) for i, n in enumerate(scored)
    ]
    line = charts.chart(buckets, hour).negative_line
    points = [p.split(",") for p in line.replace("M", " ").replace("L", " ").split()]
    quarter = charts.CHART_WIDTH / 4
    assert [float(x) for x, _y in points] == [2 * quarter, 3 * quarter]  # its hour, whole
    assert points[0][1] == points[1][1]  # level: its one share
    # The last period still filling, alone: from its start to now, not half a period back.
    buckets[2], buckets[3] = Bucket(NOW + 2 * hour, 10, 0, 0), Bucket(NOW + 3 * hour, 6, 3, 6)
    chart = charts.chart(buckets, hour, end=NOW + 3 * hour + timedelta(minutes=6))
    points = [p.split(",") for p in chart.negative_line.replace("M", " ").replace("L", " ").split()]
    hours = 4  # drawn: the hour still filling whole (a bar "so far"), its share to now
    assert [float(x) for x, _y in points] == [
        pytest.approx(charts.CHART_WIDTH * 3 / hours, abs=0.1),
        pytest.approx(charts.CHART_WIDTH * 3.1 / hours, abs=0.1),
    ]


def test_top_authors_show_the_handle_as_the_stream_does(signal, reader, client):
    """ "@" where the platform names accounts so (models.shown_handle); a summary stored
    before it kept the platform shows the handle as stored."""
    assert all(author["platform"] == "bluesky" for author in signal.summary["authors"])
    client.force_login(reader)
    html = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    top = signal.summary["authors"][0]["handle"]
    assert f"@{top} (" in html
    old = {**signal.summary, "authors": [{"handle": "olduser", "followers": 3, "n": 1}]}
    Signal.objects.filter(pk=signal.pk).update(summary=old)
    html = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    assert "</strong> olduser (3 followers)" in html


def test_the_signal_page_says_when_its_watch_alerts_nobody(
    signal, reader, watch_editor, outsider, client
):
    # A subscriber who may not read listening data is sent nothing: still nobody.
    signal.watch.subscribers.add(outsider)
    client.force_login(reader)
    html = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    assert "Nobody is alerted by its signals." in html
    edit = f"/listening/watches/{signal.watch_id}/edit/"
    assert edit not in html and "A lead sets who in the watch" in html
    client.force_login(watch_editor)
    html = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    assert f'href="{edit}"' in html
    signal.watch.subscribers.add(reader)
    html = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    assert "Nobody is alerted" not in html
