"""A break-it pass on signals, declaring from them and attaching: a stopped watch's open
signal, two people declaring from one signal at once, two detection runs at once, and
bodies that would make an answer unbounded."""

from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.utils import translation

from crisiscell.typography import french_spacing
from incidents.errors import Conflict
from incidents.listening import actions, detection, selectors
from incidents.listening.models import CollectorState, Mention, Signal
from incidents.models import Incident
from incidents.notifications.models import Notification
from incidents.selectors import loose_ends
from tests.helpers import run_concurrently

from .conftest import NOW, grant, ingest, post

pytestmark = pytest.mark.django_db


def storm(prefix, start, minutes, per_minute):
    """`per_minute` posts a minute for `minutes` from `start`, stored."""
    ingest(
        [
            post(
                f"{prefix}{m}-{k}", posted_at=(start + timedelta(minutes=m, seconds=k)).isoformat()
            )
            for m in range(minutes)
            for k in range(per_minute)
        ]
    )


def test_a_stopped_watchs_signal_closes_and_resumed_mid_burst_the_same_signal_goes_on(
    signal, watch_editor, reader
):
    # Stopped, the watch is evaluated no more: its signal stayed open for good, and the
    # incident declared from it read "mentions are still above normal" when resolved.
    watch = signal.watch
    watch.subscribers.set([reader])
    incident = actions.signal_declare(signal=signal, actor=reader)
    actions.watch_update(watch=watch, actor=watch_editor, is_active=False)
    done = detection.detect(now=NOW + timedelta(minutes=5))
    signal.refresh_from_db()
    assert signal.status == "closed" and done["closed"] == 1
    assert loose_ends(incident) == []
    # Resumed while the burst goes on, and grows: forgotten, or closed with a cool-down,
    # the watch opened a copy of the signal and alerted everyone again.
    alerts = Notification.objects.count()
    actions.watch_update(watch=watch, actor=watch_editor, is_active=True)
    storm("g", NOW + timedelta(minutes=10), 30, 8)
    for minute in range(10, 45, 5):
        detection.detect(now=NOW + timedelta(minutes=minute))
    signal.refresh_from_db()
    assert Signal.objects.count() == 1 and Notification.objects.count() == alerts
    assert signal.status == "open" and signal.incident == incident  # the same one, going on


def test_a_watch_resumed_long_after_its_stop_starts_afresh(signal, watch_editor, reader):
    watch = signal.watch
    actions.watch_update(watch=watch, actor=watch_editor, is_active=False)
    detection.detect(now=NOW + timedelta(minutes=5))
    actions.watch_update(watch=watch, actor=watch_editor, is_active=True)
    later = NOW + timedelta(hours=5)
    storm("n", later - timedelta(minutes=20), 20, 3)  # a new burst, hours later
    assert detection.detect(now=later)["opened"] == 1
    assert Signal.objects.filter(status="open").count() == 1
    signal.refresh_from_db()
    assert signal.status == "closed"


WATCH = {"name": "W", "brand": "B", "keywords": ["ok"]}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("mentions", {"mentions": ["x"] * 100_000}),
        ("watches", {**WATCH, "platforms": ["no"] * 100_000}),
        ("watches", {**WATCH, "subscribers": ["a"] * 100_000}),
        ("watches", {**WATCH, "keywords": [[1]] * 100_000}),
    ],
)
def test_a_list_far_over_its_limit_is_one_short_error(
    path, body, lead, incident, watch_editor, api
):
    # Each item was checked before the length: 100,000 bad ids (under the 2.5 MB body
    # limit) cost seconds and answered 4 MB of errors, one per item.
    user = grant(lead, "view_mention", "change_watch") if path == "mentions" else watch_editor
    url = f"/api/incidents/{incident.pk}/mentions/" if path == "mentions" else "/api/watches/"
    response = api.as_user(user).post(url, body, format="json")
    assert response.status_code == 400
    assert len(response.content) < 500, response.content[:300]
    assert "no more than" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_detection_reads_and_computes_outside_its_write_transaction(history, monkeypatch):
    # Loading weeks of a watch's minutes and running the detector took the whole pass's
    # transaction: on SQLite the database's write lock (every declaration, entry and
    # ingest waited for every watch to be evaluated), on PostgreSQL the rows of the signals
    # it had written already (a declaration from one waited for the other watches).
    seen = []

    def spy(real):
        def call(*args, **kwargs):
            seen.append((real.__name__, connection.in_atomic_block))
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(detection, "_load", spy(detection._load))
    monkeypatch.setattr(detection, "run", spy(detection.run))
    assert detection.detect(now=NOW)["opened"] == 1
    assert seen == [("_load", False), ("run", False)]


@pytest.mark.django_db(transaction=True)
def test_two_detection_runs_at_once_open_one_signal_and_alert_once(history, reader):
    history.subscribers.set([reader])
    calls = [partial(detection.detect, now=NOW) for _ in range(3)]
    results, _expected, unexpected = run_concurrently(calls)
    assert unexpected == []
    assert sum(result["opened"] for result in results) == 1
    assert Signal.objects.count() == 1
    assert Notification.objects.filter(user=reader).count() == 1
    state = CollectorState.objects.get(name=detection.STATE_NAME).state[str(history.pk)]
    assert state["signal"] == Signal.objects.get().pk


@pytest.mark.django_db(transaction=True)
def test_two_people_declaring_from_one_signal_at_once_declare_one_incident(
    signal, reader, make_user
):
    other = grant(make_user("second"), "view_mention")
    calls = [partial(actions.signal_declare, signal=signal, actor=user) for user in (reader, other)]
    results, refused, unexpected = run_concurrently(calls, errors=(Conflict,))
    assert unexpected == [] and len(results) == len(refused) == 1
    assert Incident.objects.get() == results[0]
    assert set(Mention.objects.exclude(incident=None).values_list("incident", flat=True)) == {
        results[0].pk
    }


@pytest.mark.parametrize(
    ("language", "summary"),
    [
        ("en", "Declared from a listening signal: 1 mention attached."),
        ("fr", french_spacing("Déclaré à partir d’un signal de veille : 1 mention rattachée.")),
    ],
)
def test_a_declaration_names_one_mention_in_the_singular(
    language, summary, signal, reader, lead, incident
):
    lead = grant(lead, "view_mention")
    window = selectors.signal_window(signal, NOW + timedelta(hours=1)).order_by("posted_at")
    taken = list(window.values_list("mention_id", flat=True))[1:]
    actions.mentions_attach(mention_ids=taken, incident=incident, actor=lead)
    with translation.override(language):
        declared = actions.signal_declare(signal=signal, actor=reader, now=NOW)
    assert declared.summary == summary


def test_one_watch_failing_stops_no_other_and_is_retried(history, watch_editor, monkeypatch):
    # An exception in one watch (a bug, a database error) ended the pass: every watch
    # after it went unevaluated, minute after minute.
    # Created before the runs (a watch is judged from its creation on).
    broken = actions.watch_create(
        actor=watch_editor, name="A broken", brand="B", keywords=["ok"], now=NOW - timedelta(days=1)
    )
    load = detection._load

    def failing(watch_id, *args):
        if watch_id == broken.pk:
            raise RuntimeError("boom")
        return load(watch_id, *args)

    monkeypatch.setattr(detection, "_load", failing)
    assert detection.detect(now=NOW)["opened"] == 1  # history's burst, evaluated after it
    state = CollectorState.objects.get(name=detection.STATE_NAME)
    assert f"watches {broken.pk} " in state.last_error
    assert str(broken.pk) not in state.state and str(history.pk) in state.state
    monkeypatch.setattr(detection, "_load", load)
    detection.detect(now=NOW + timedelta(minutes=1))
    state.refresh_from_db()
    assert state.last_error == "" and str(broken.pk) in state.state


def test_a_list_within_its_limit_names_its_first_twenty_refused_items(watch_editor, api):
    # Each refused item was named: 200 bad platforms (within the limit) answered 8-12 kB,
    # 10,000 bad evidence ids 400 kB.
    body = {**WATCH, "platforms": ["no"] * 200}
    response = api.as_user(watch_editor).post("/api/watches/", body, format="json")
    assert response.status_code == 400
    refused = response.json()["errors"]["platforms"]
    assert len(refused) == 20 and "0" in refused and "19" in refused
    assert len(response.content) < 3_000
