"""Local times that did not exist (spring forward) are refused with a clear message, and
for times that happened twice (autumn) people say which one they mean — in the room's
forms and in the API alike (one rule: incidents/localtime.py)."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from incidents import actions
from incidents.forms import TimelineEntryForm
from incidents.localtime import occurrences
from incidents.models import TimelineEntry

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _last(days_back_with):
    """The most recent day (within the last year) whose 02:30 in Paris is such a time."""
    today = timezone.now().astimezone(PARIS).date()
    for back in range(1, 366):
        day = today - timedelta(days=back)
        naive = datetime(day.year, day.month, day.day, 2, 30)
        if len(occurrences(naive, PARIS)) == days_back_with:
            return naive
    raise AssertionError("no such day in the last year")


@pytest.fixture
def gap():
    return _last(0)  # the spring-forward night: 02:30 never happened


@pytest.fixture
def repeated():
    return _last(2)  # the autumn night: 02:30 happened twice


@pytest.fixture
def room(lead, settings):
    settings.TIME_ZONE = "Europe/Paris"
    incident = actions.incident_declare(
        actor=lead, title="Rumour", category="rumour", origin="online"
    )
    # Observations may go back to the detection time: make it a year ago.
    incident.detected_at = timezone.now() - timedelta(days=365)
    incident.save(update_fields=["detected_at"])
    return incident


def test_occurrences_tell_normal_missing_and_repeated_times(gap, repeated):
    assert len(occurrences(datetime(2026, 6, 1, 12, 0), PARIS)) == 1
    assert occurrences(gap, PARIS) == ()
    first, second = occurrences(repeated, PARIS)
    assert (first.offset, second.offset) == ("+02:00", "+01:00")
    assert second.instant.astimezone(UTC) - first.instant.astimezone(UTC) == timedelta(hours=1)


def _post_entry(client, incident, **fields):
    data = {"kind": "note", "text": "Seen on a forum", **fields}
    return client.post(f"/incidents/{incident.pk}/entries/", data, HTTP_HX_REQUEST="true")


def test_the_room_refuses_a_time_that_did_not_exist(client, lead, room, gap):
    client.force_login(lead)
    client.cookies["tz"] = "Europe/Paris"
    response = _post_entry(client, room, occurred_at=gap.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 422
    assert "did not exist" in response.content.decode()
    assert not TimelineEntry.objects.filter(incident=room, kind="note").exists()


@pytest.mark.parametrize("typed", ["2026-02-30T10:00", "2026-13-45T09:00", "2026-03-01T24:00"])
def test_a_date_that_is_no_date_is_a_form_error_not_a_crash(client, lead, room, typed):
    client.force_login(lead)
    response = _post_entry(client, room, occurred_at=typed)
    assert response.status_code == 422
    assert "Enter a valid date/time." in response.content.decode()
    form = {"title": "Impossible date", "category": "brand", "origin": "online", "severity": "2"}
    declared = client.post("/incidents/new/", {**form, "detected_at": typed})
    assert declared.status_code in (200, 422) and "Enter a valid date/time." in declared.text


def test_the_room_asks_which_of_two_repeated_times_is_meant(client, lead, room, repeated):
    client.force_login(lead)
    client.cookies["tz"] = "Europe/Paris"
    typed = repeated.strftime("%Y-%m-%dT%H:%M")
    response = _post_entry(client, room, occurred_at=typed)
    page = response.content.decode()
    assert response.status_code == 422 and "happened twice" in page
    # The choice appears in place, with the typed time kept.
    assert 'name="occurred_at_fold"' in page and "UTC+01:00" in page and typed in page
    assert 'hx-swap-oob="true"' in page

    response = _post_entry(client, room, occurred_at=typed, occurred_at_fold="1")
    assert response.status_code == 200
    entry = TimelineEntry.objects.get(incident=room, kind="note")
    assert entry.occurred_at == repeated.replace(tzinfo=PARIS, fold=1).astimezone(UTC)


def test_the_choice_stays_hidden_for_ordinary_times():
    form = TimelineEntryForm({"kind": "note", "text": "x", "occurred_at": "2026-06-01T12:00"})
    html = str(form["occurred_at"])
    assert 'name="occurred_at_fold"' in html and "hidden" in html
    assert 'id="id_occurred_at"' in html


def test_the_api_refuses_missing_and_repeated_times_without_an_offset(
    api, lead, room, gap, repeated
):
    api.force_authenticate(lead)
    url = f"/api/incidents/{room.pk}/timeline/"
    missing = api.post(url, {"kind": "note", "text": "x", "occurred_at": gap.isoformat()})
    assert missing.status_code == 400 and "did not exist" in str(missing.json())
    twice = api.post(url, {"kind": "note", "text": "x", "occurred_at": repeated.isoformat()})
    assert twice.status_code == 400 and "+02:00 or +01:00" in str(twice.json())
    explicit = repeated.replace(tzinfo=PARIS, fold=1)
    ok = api.post(url, {"kind": "note", "text": "x", "occurred_at": explicit.isoformat()})
    assert ok.status_code == 201, ok.content
    assert TimelineEntry.objects.get(incident=room, kind="note").occurred_at == explicit.astimezone(
        UTC
    )
