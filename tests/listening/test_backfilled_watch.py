"""A watch given its past (a review): a lead creates a watch and imports last week's export.
The history feeds its baselines (no two hours of learning), but the detector judges only
the minutes since the watch exists: it judged the hour before its first look, so a wave in
the export opened a signal dated before the watch was created."""

from datetime import timedelta

import pytest

from incidents.listening import actions, detection, selectors
from incidents.listening.choices import Source
from incidents.listening.ingest import parse
from incidents.listening.models import Signal
from incidents.notifications.models import Notification

from .conftest import NOW, post

pytestmark = pytest.mark.django_db

CREATED = NOW - timedelta(minutes=10)
WAVE = CREATED - timedelta(minutes=45)  # 30 posts in 20 minutes, over 25 minutes before


def create_watch(watch_editor, reader):
    return actions.watch_create(
        actor=watch_editor,
        now=CREATED,
        name="Maison Lumière",
        brand="Maison Lumière",
        keywords=["maison lumière"],
        subscribers=[reader],
    )


def import_export(importer, *, wave=True, old_episode=False):
    """Last week's export, imported through the one write path: a quiet stream (a post every
    two hours), optionally a wave in the hour before the watch's creation and an episode
    three days before it."""
    week = CREATED - timedelta(days=7)
    rows = [post(f"q{i}", posted_at=(week + timedelta(hours=2 * i)).isoformat()) for i in range(83)]
    if wave:
        rows += [
            post(f"w{i:02}", posted_at=(WAVE + timedelta(seconds=40 * i)).isoformat())
            for i in range(30)
        ]
    if old_episode:
        old = CREATED - timedelta(days=3)
        rows += [
            post(f"o{i:02}", posted_at=(old + timedelta(seconds=30 * i)).isoformat())
            for i in range(40)
        ]
    return actions.mentions_ingest(
        mentions=[parse(row) for row in rows], source=Source.IMPORT, actor=importer, now=NOW
    )


@pytest.mark.parametrize(
    "first_look", [None, CREATED + timedelta(minutes=1)], ids=["imported-first", "looked-first"]
)
def test_a_backfilled_watch_opens_no_signal_dated_before_it_existed(
    first_look, watch_editor, reader, importer, django_capture_on_commit_callbacks
):
    """Imported before the detector's first look at the watch, the wave 25-45 minutes
    before its creation opened a signal at 11:12 on a watch created at 11:50 (and alerted
    as if it were news). Now the watch judges its minutes from its creation, whether the
    import came before or after the detector first looked: the hour's window holds the
    wave, so it opens once, at the watch's first minute; its start and first mention are
    still the wave's (where a declaration attaches from), before the watch existed."""
    watch = create_watch(watch_editor, reader)
    if first_look is not None:
        assert detection.detect(now=first_look)["opened"] == 0  # nothing to see yet
    assert import_export(importer).stored == 113
    with django_capture_on_commit_callbacks(execute=True):
        detection.detect(now=NOW)
    signal = Signal.objects.get()
    assert signal.opened_at >= watch.created_at
    assert signal.opened_at <= CREATED + timedelta(minutes=2)
    assert signal.started_at == WAVE and signal.first_mention.external_id == "w00"
    assert signal.observed == 30
    assert Notification.objects.filter(kind="signal_opened", user=reader).count() == 1


def test_an_imported_past_feeds_the_baseline_but_an_old_episode_raises_nothing(
    watch_editor, reader, importer, django_capture_on_commit_callbacks
):
    """Last week's export holds an episode three days old: it is history, no alert. The
    week's history means the watch is not learning, and a wave after its creation alerts
    at once, from where it started."""
    watch = create_watch(watch_editor, reader)
    import_export(importer, wave=False, old_episode=True)
    assert selectors.learning([watch], NOW) == {}
    assert detection.detect(now=NOW)["opened"] == 0
    assert not Signal.objects.exists() and not Notification.objects.exists()
    live = NOW + timedelta(minutes=1)
    rows = [
        post(f"l{i:02}", posted_at=(live + timedelta(seconds=20 * i)).isoformat())
        for i in range(30)
    ]
    actions.mentions_ingest(
        mentions=[parse(row) for row in rows], source=Source.IMPORT, actor=importer, now=NOW
    )
    with django_capture_on_commit_callbacks(execute=True):
        for minute in range(2, 13):
            detection.detect(now=NOW + timedelta(minutes=minute))
    signal = Signal.objects.get()
    assert signal.started_at == live and signal.first_mention.external_id == "l00"
    assert Notification.objects.filter(kind="signal_opened", user=reader).count() == 1


@pytest.mark.parametrize("skew", [timedelta(0), timedelta(minutes=30), timedelta(hours=2)])
def test_a_watch_stamped_by_a_clock_ahead_of_the_detectors_still_alerts(
    skew, watch_editor, reader, importer, django_capture_on_commit_callbacks
):
    """A break-it pass: the web process stamps created_at with its own clock; one running
    `skew` ahead of the worker's left the watch unjudged (no alert at all) until the
    worker's clock reached it. Now such a watch is judged from the detector's minute."""
    actions.watch_create(
        actor=watch_editor,
        now=CREATED + skew,
        name="Maison Lumière",
        brand="Maison Lumière",
        keywords=["maison lumière"],
        subscribers=[reader],
    )
    import_export(importer, wave=False)  # a week of history: not learning
    live = CREATED + timedelta(minutes=1)
    rows = [
        post(f"l{i:02}", posted_at=(live + timedelta(seconds=20 * i)).isoformat())
        for i in range(40)
    ]
    actions.mentions_ingest(
        mentions=[parse(row) for row in rows], source=Source.IMPORT, actor=importer, now=live
    )
    with django_capture_on_commit_callbacks(execute=True):
        for minute in range(1, 17):
            detection.detect(now=CREATED + timedelta(minutes=minute))
            if Signal.objects.exists():
                break
    signal = Signal.objects.get()
    assert signal.opened_at <= CREATED + timedelta(minutes=16)
    assert signal.first_mention.external_id == "l00"
