"""The lead's actions in the room, with htmx and without JavaScript: status, severity,
entries, the cell and the handover; refused transitions and input, escaped messages."""

import json

import pytest

from incidents.models import TimelineEntry
from tests.incidents.conftest import (
    active_role,
    assert_htmx_done,
    assert_redirected_to_room,
    endpoint_id,
    post,
    room_url,
    snapshot,
)

pytestmark = pytest.mark.django_db


# --- Lead actions ---------------------------------------------------------------------------

both_ways = pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])


def done(response, incident, htmx):
    if htmx:
        assert_htmx_done(response)
    else:
        assert_redirected_to_room(response, incident)


@both_ways
def test_lead_moves_the_status(browser_client, incident, lead, htmx):
    client = browser_client.as_user(lead)
    response = post(client, room_url(incident, "status/"), {"status": "active"}, htmx=htmx)
    done(response, incident, htmx)
    # Said either way: the status shows in the header, far from the form.
    if htmx:
        said = json.loads(response["HX-Trigger"])["room-message"]["message"]
    else:
        said = client.get(response["Location"]).text
    assert "Status: Active." in said
    incident.refresh_from_db()
    assert incident.status == "active"
    assert TimelineEntry.objects.filter(incident=incident).last().kind == "status_changed"


@both_ways
def test_lead_changes_the_severity(browser_client, incident, lead, htmx):
    response = post(
        browser_client.as_user(lead), room_url(incident, "severity/"), {"severity": "4"}, htmx=htmx
    )
    done(response, incident, htmx)
    incident.refresh_from_db()
    assert incident.severity == 4


@both_ways
def test_lead_adds_a_timeline_entry(browser_client, incident, lead, htmx):
    response = post(
        browser_client.as_user(lead),
        room_url(incident, "entries/"),
        {"kind": "decision", "text": "Pause all scheduled posts", "key_event": "on"},
        htmx=htmx,
    )
    done(response, incident, htmx)
    entry = TimelineEntry.objects.filter(incident=incident).last()
    assert (entry.kind, entry.text, entry.key_event, entry.actor) == (
        "decision",
        "Pause all scheduled posts",
        True,
        lead,
    )


@both_ways
def test_lead_adds_a_member(browser_client, incident, lead, outsider, htmx):
    response = post(
        browser_client.as_user(lead),
        room_url(incident, "members/add/"),
        {"user": outsider.pk, "role": "spokesperson"},
        htmx=htmx,
    )
    done(response, incident, htmx)
    assert active_role(incident, outsider) == "spokesperson"


@both_ways
def test_lead_changes_a_members_role(browser_client, incident, lead, drafter, htmx):
    response = post(
        browser_client.as_user(lead),
        room_url(incident, f"members/{drafter.pk}/role/"),
        {"role": "approver:legal"},
        htmx=htmx,
    )
    done(response, incident, htmx)
    assert active_role(incident, drafter) == "approver"


@both_ways
def test_lead_removes_a_member(browser_client, incident, lead, observer, htmx):
    response = post(
        browser_client.as_user(lead),
        room_url(incident, f"members/{observer.pk}/remove/"),
        htmx=htmx,
    )
    done(response, incident, htmx)
    assert active_role(incident, observer) is None


@both_ways
def test_lead_hands_over_leadership(browser_client, incident, lead, drafter, htmx):
    response = post(
        browser_client.as_user(lead),
        room_url(incident, "lead/"),
        {"to_user": drafter.pk, "former_lead_role": "approver"},
        htmx=htmx,
    )
    done(response, incident, htmx)
    assert active_role(incident, drafter) == "lead"
    assert active_role(incident, lead) == "approver"


LEAD_ACTIONS = [
    ("status/", lambda p: {"status": "active"}),
    ("severity/", lambda p: {"severity": "4"}),
    ("entries/", lambda p: {"kind": "note", "text": "Statement drafted"}),
    ("members/add/", lambda p: {"user": p["outsider"].pk, "role": "drafter"}),
    ("members/{drafter}/role/", lambda p: {"role": "approver:legal"}),
    ("members/{drafter}/remove/", lambda p: {}),
    ("lead/", lambda p: {"to_user": p["drafter"].pk, "former_lead_role": "approver"}),
]


@pytest.mark.parametrize(
    ("suffix", "data"), LEAD_ACTIONS, ids=[endpoint_id(e[0]) for e in LEAD_ACTIONS]
)
def test_lead_action_without_javascript_confirms_with_a_message(
    browser_client, incident, lead, drafter, outsider, suffix, data
):
    """views.py: "Without JavaScript the same forms post normally and redirect back with a
    message." The no-JS user must be told the action went through."""
    client = browser_client.as_user(lead)
    url = room_url(incident, suffix.format(drafter=drafter.pk))
    response = post(client, url, data({"outsider": outsider, "drafter": drafter}), htmx=False)
    assert_redirected_to_room(response, incident)
    room = client.get(response["Location"])
    assert "message-success" in room.text


def test_illegal_transition_is_refused_with_its_message(browser_client, incident, lead):
    before = snapshot(incident)
    response = post(
        browser_client.as_user(lead), room_url(incident, "status/"), {"status": "monitoring"}
    )
    assert response.status_code == 422
    assert "An incident cannot go from “Detected” to “Monitoring”." in response.text
    assert "HX-Trigger" not in response.headers
    assert snapshot(incident) == before


def test_illegal_transition_without_javascript_shows_the_message_in_the_room(
    browser_client, incident, lead
):
    client = browser_client.as_user(lead)
    response = post(client, room_url(incident, "status/"), {"status": "monitoring"}, htmx=False)
    assert_redirected_to_room(response, incident)
    assert "cannot go from" in client.get(response["Location"]).text
    incident.refresh_from_db()
    assert incident.status == "detected"


@pytest.mark.parametrize(
    ("suffix", "data", "message"),
    [
        ("status/", {"status": "bogus"}, "Unknown status: bogus"),
        ("severity/", {"severity": "high"}, "Choose a severity."),
        ("severity/", {"severity": "9"}, "Severity must be one of 1, 2, 3 or 4."),
        ("entries/", {"kind": "note", "text": ""}, "This field is required."),
        ("entries/", {"kind": "declared", "text": "Forged"}, "Select a valid choice."),
    ],
)
def test_invalid_lead_input_is_refused_with_422(
    browser_client, incident, lead, suffix, data, message
):
    before = snapshot(incident)
    response = post(browser_client.as_user(lead), room_url(incident, suffix), data)
    assert response.status_code == 422
    assert message in response.text
    assert snapshot(incident) == before


def test_refusal_messages_escape_user_input(browser_client, incident, lead, drafter):
    response = post(
        browser_client.as_user(lead),
        room_url(incident, f"members/{drafter.pk}/role/"),
        {"role": "<img src=x onerror=alert(1)>"},
    )
    assert response.status_code == 422
    assert "<img" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text


def test_changing_the_role_of_someone_outside_the_cell_is_a_404(
    browser_client, incident, lead, outsider
):
    before = snapshot(incident)
    response = post(
        browser_client.as_user(lead),
        room_url(incident, f"members/{outsider.pk}/role/"),
        {"role": "drafter"},
    )
    assert response.status_code == 404
    assert snapshot(incident) == before


def test_after_handing_over_the_former_lead_loses_the_controls(
    browser_client, incident, lead, drafter
):
    client = browser_client.as_user(lead)
    post(
        client, room_url(incident, "lead/"), {"to_user": drafter.pk, "former_lead_role": "drafter"}
    )
    assert "lead-controls" not in client.get(room_url(incident)).text
    response = post(client, room_url(incident, "status/"), {"status": "active"})
    assert response.status_code == 422
