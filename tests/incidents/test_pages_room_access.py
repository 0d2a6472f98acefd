"""Who gets into an incident room and what they may do there: outsiders get 404 and
write nothing, observers and staff read only, non-leads are refused the lead's actions."""

import pytest

from tests.incidents.conftest import (
    assert_redirected_to_room,
    endpoint_id,
    post,
    room_url,
    snapshot,
)

pytestmark = pytest.mark.django_db


# --- Outsiders ------------------------------------------------------------------------------

GET_ENDPOINTS = ["", "edit/", "header/", "members/", "timeline/"]
POST_ENDPOINTS = [
    ("status/", lambda p: {"status": "active"}),
    ("severity/", lambda p: {"severity": "4"}),
    ("entries/", lambda p: {"kind": "note", "text": "I was not invited"}),
    ("members/add/", lambda p: {"user": p["outsider"].pk, "role": "drafter"}),
    ("lead/", lambda p: {"to_user": p["outsider"].pk, "former_lead_role": "drafter"}),
    ("members/{drafter}/role/", lambda p: {"role": "observer"}),
    ("members/{drafter}/remove/", lambda p: {}),
]


@pytest.mark.parametrize("suffix", GET_ENDPOINTS)
def test_outsider_gets_404_on_room_pages(browser_client, incident, outsider, suffix):
    response = browser_client.as_user(outsider).get(room_url(incident, suffix))
    assert response.status_code == 404
    assert incident.title not in response.text


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
@pytest.mark.parametrize(
    ("suffix", "data"), POST_ENDPOINTS, ids=[endpoint_id(e[0]) for e in POST_ENDPOINTS]
)
def test_outsider_gets_404_on_room_actions_and_nothing_is_written(
    browser_client, incident, outsider, drafter, suffix, data, htmx
):
    before = snapshot(incident)
    url = room_url(incident, suffix.format(drafter=drafter.pk))
    payload = data({"outsider": outsider})
    response = post(browser_client.as_user(outsider), url, payload, htmx=htmx)
    assert response.status_code == 404
    assert snapshot(incident) == before


def test_unknown_incident_is_a_404_even_for_staff(browser_client, staff):
    assert browser_client.as_user(staff).get("/incidents/999999/").status_code == 404


# --- Read-only members (observer, staff) ----------------------------------------------------


def test_observer_sees_the_room_without_entry_form_or_lead_controls(
    browser_client, incident, observer
):
    response = browser_client.as_user(observer).get(room_url(incident))
    assert response.status_code == 200
    assert incident.title in response.text
    assert "entry-form" not in response.text
    assert room_url(incident, "entries/") not in response.text
    assert "lead-controls" not in response.text
    assert room_url(incident, "status/") not in response.text
    assert room_url(incident, "members/add/") not in response.text
    assert room_url(incident, "lead/") not in response.text


def test_writer_sees_the_entry_form_but_no_lead_controls(browser_client, incident, drafter):
    response = browser_client.as_user(drafter).get(room_url(incident))
    assert "entry-form" in response.text
    assert "lead-controls" not in response.text


def test_lead_sees_the_entry_form_and_lead_controls(browser_client, incident, lead, outsider):
    response = browser_client.as_user(lead).get(room_url(incident))
    assert "entry-form" in response.text
    assert "lead-controls" in response.text
    assert room_url(incident, "members/add/") in response.text


def test_staff_sees_the_room_read_only(browser_client, incident, staff):
    response = browser_client.as_user(staff).get(room_url(incident))
    assert response.status_code == 200
    assert "Staff view (read-only)" in response.text
    assert "entry-form" not in response.text
    assert "lead-controls" not in response.text


def test_observer_posting_an_entry_is_refused_with_a_message(browser_client, incident, observer):
    before = snapshot(incident)
    response = post(
        browser_client.as_user(observer),
        room_url(incident, "entries/"),
        {"kind": "note", "text": "Sneaky note"},
    )
    assert response.status_code == 422
    assert "Only members of the cell write the timeline" in response.text
    assert "HX-Trigger" not in response.headers
    assert snapshot(incident) == before


def test_observer_posting_an_entry_without_javascript_is_redirected_with_the_message(
    browser_client, incident, observer
):
    before = snapshot(incident)
    client = browser_client.as_user(observer)
    response = post(
        client, room_url(incident, "entries/"), {"kind": "note", "text": "Hi"}, htmx=False
    )
    assert_redirected_to_room(response, incident)
    room = client.get(response["Location"])
    assert "Only members of the cell write the timeline" in room.text
    assert snapshot(incident) == before


# --- Non-lead members on lead actions -------------------------------------------------------

LEAD_ONLY = [
    ("status/", lambda p: {"status": "active"}, "Only the lead can change the status."),
    ("severity/", lambda p: {"severity": "4"}, "Only the lead can change the severity."),
    (
        "members/add/",
        lambda p: {"user": p["outsider"].pk, "role": "drafter"},
        "Only the lead can manage the cell.",
    ),
    ("members/{approver}/role/", lambda p: {"role": "observer"}, "Only the lead can manage"),
    ("members/{approver}/remove/", lambda p: {}, "Only the lead can manage the cell."),
    (
        "lead/",
        lambda p: {"to_user": p["approver"].pk, "former_lead_role": "drafter"},
        "Only the lead can hand over leadership.",
    ),
]


@pytest.mark.parametrize("persona", ["drafter", "observer"])
@pytest.mark.parametrize(
    ("suffix", "data", "message"),
    LEAD_ONLY,
    ids=[endpoint_id(e[0]) for e in LEAD_ONLY],
)
def test_non_lead_is_refused_lead_actions_and_nothing_is_written(
    browser_client, incident, outsider, approver, request, persona, suffix, data, message
):
    user = request.getfixturevalue(persona)
    before = snapshot(incident)
    url = room_url(incident, suffix.format(approver=approver.pk))
    payload = data({"outsider": outsider, "approver": approver})
    response = post(browser_client.as_user(user), url, payload)
    assert response.status_code == 422
    assert message in response.text
    assert "HX-Trigger" not in response.headers
    assert snapshot(incident) == before
