"""The API's reads: the incident list and the timeline cost a constant number of queries
whatever the number of rows, and the read serializers' direct representations say exactly
what their declared fields (the schema) describe, in every language and time zone."""

import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from incidents import actions, selectors
from incidents.api.serializers import (
    ENTRY_ROW_FIELDS,
    IncidentSerializer,
    IncidentStateSerializer,
    TimelineEntrySerializer,
    UserSummarySerializer,
)
from incidents.models import Incident, TimelineEntry
from tests.incidents.conftest import add_entries


def api_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def declared(serializer, instance) -> dict:
    """What the serializer's declared fields give, through DRF's generic path."""
    return serializers.ModelSerializer.to_representation(serializer, instance)


@pytest.fixture(params=[("en", "UTC"), ("fr", "America/St_Johns")])
def locale(request):
    """A language and an active zone (St John's: a half-hour offset, not UTC)."""
    language, zone = request.param
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        yield language


def test_timeline_entries_read_as_their_declared_fields(incident, lead, locale):
    add_entries(incident, lead, 3)
    actions.timeline_add_entry(
        incident=incident, actor=lead, kind="decision", text="Recall batch 12", key_event=True
    )
    entries = list(selectors.timeline_for(incident))
    last = entries[-1]
    system = TimelineEntry(  # by the system (no actor), with data
        incident=incident,
        seq=last.seq + 1,
        kind="status_changed",
        text="",
        actor=None,
        occurred_at=last.occurred_at,
        recorded_at=last.recorded_at,
        data={"from": "detected", "to": "active", "n": [1, 2.5, None]},
        prev_hash=last.hash,
        hash="0" * 64,
    )
    entries.append(system)

    for entry in entries:
        serializer = TimelineEntrySerializer(entry)
        data = serializer.data
        assert list(data.items()) == list(declared(serializer, entry).items())

    # The API's pages read rows, not model instances: the same representation.
    rows = selectors.timeline_for(incident).values(*ENTRY_ROW_FIELDS)
    from_rows = TimelineEntrySerializer(rows, many=True).data
    from_models = TimelineEntrySerializer(entries[:-1], many=True).data
    assert [list(item.items()) for item in from_rows] == [
        list(item.items()) for item in from_models
    ]
    assert data["occurred_at"] == serializers.DateTimeField().to_representation(entry.occurred_at)


def test_incidents_read_as_their_declared_fields(api, incident, lead, observer, staff, locale):
    actions.incident_transition(incident=incident, actor=lead, status="active")
    request = APIRequestFactory().get("/api/incidents/")
    for user in (lead, observer, staff):
        request.user = user
        rows = [
            *selectors.incidents_for_list(user, cells=True),
            *selectors.incidents_for_list(user, cells=False),  # the lead and my role annotated
            selectors.incident_for_room(user, incident.pk),
        ]
        for row in rows:
            serializer = IncidentSerializer(row, context={"request": request})
            expected = declared(serializer, row)
            expected["platforms"] = list(row.platforms)  # stored order, not a set
            assert list(serializer.data.items()) == list(expected.items())

    state = IncidentStateSerializer(incident)
    assert list(state.data.items()) == list(declared(state, incident).items())
    person = UserSummarySerializer(lead)
    assert (
        person.data
        == declared(person, lead)
        == {
            "id": lead.pk,
            "username": lead.username,
            "name": lead.get_full_name() or lead.username,
        }
    )


def test_incident_list_queries_do_not_grow_with_incidents(api, declare, lead, drafter):
    declare(actor=lead, title="First")
    client = api.as_user(lead)
    few = api_queries(client, "/api/incidents/")
    for n in range(8):
        incident = declare(actor=lead, title=f"More {n}")
        actions.member_add(incident=incident, actor=lead, user=drafter, role="drafter")
    assert Incident.objects.count() == 9

    assert api_queries(client, "/api/incidents/") == few
    assert few == 1  # the page with my role and the lead, counted from its rows


def test_timeline_page_queries_do_not_grow_with_entries(api, incident, lead, drafter):
    url = f"/api/incidents/{incident.pk}/timeline/"
    client = api.as_user(drafter)
    few = api_queries(client, url)
    add_entries(incident, lead, 150)
    assert TimelineEntry.objects.filter(incident=incident).count() > 150

    assert api_queries(client, url) == few
    assert api_queries(client, f"{url}?after=3") == few
    assert few == 1  # the page, visibility checked in the same query
