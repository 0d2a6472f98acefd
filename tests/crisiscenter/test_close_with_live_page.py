"""An incident is not closed while its public crisis page is live: the page would go on
saying the crisis is ongoing. The lead resolves the page first; a dark page, a resolved
one, or none at all closes as before. One rule, for the room and the API."""

import pytest
from django.test import Client

from incidents import actions as incident_actions
from incidents.crisiscenter import actions
from incidents.errors import TransitionNotAllowed
from tests.helpers import assert_error, token_client

pytestmark = pytest.mark.django_db

STILL_LIVE = "Its crisis page is still live"


def resolve_incident(incident, lead):
    for status in ("active", "resolved"):
        incident_actions.incident_transition(incident=incident, actor=lead, status=status)


def test_closing_with_a_live_page_is_refused(live_page, incident, lead):
    resolve_incident(incident, lead)
    with pytest.raises(TransitionNotAllowed, match=STILL_LIVE):
        incident_actions.incident_transition(incident=incident, actor=lead, status="closed")
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.closed_at is None


def test_the_api_answers_409_and_closes_once_the_page_is_resolved(live_page, incident, lead):
    resolve_incident(incident, lead)
    api = token_client(lead)
    url = f"/api/incidents/{incident.pk}/transition/"
    refused = api.post(url, {"status": "closed"}, format="json")
    assert STILL_LIVE in assert_error(refused, 409)
    actions.page_switch(page=live_page, actor=lead, action="resolve")
    response = api.post(url, {"status": "closed"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"


def test_the_room_shows_the_refusal_beside_its_status_buttons(live_page, incident, lead):
    resolve_incident(incident, lead)
    client = Client()
    client.force_login(lead)
    url = f"/incidents/{incident.pk}/status/"
    response = client.post(url, {"status": "closed"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert STILL_LIVE in response.content.decode()
    # Without JavaScript: back to the room, the message on top.
    response = client.post(url, {"status": "closed"}, follow=True)
    assert STILL_LIVE in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "resolved"


@pytest.mark.parametrize("page", ["none", "dark", "resolved"])
def test_closing_works_as_before_without_a_live_page(request, incident, lead, page):
    if page == "dark":
        request.getfixturevalue("dark_page")
    elif page == "resolved":
        live = request.getfixturevalue("live_page")
        actions.page_switch(page=live, actor=lead, action="resolve")
    resolve_incident(incident, lead)
    client = Client()
    client.force_login(lead)
    url = f"/incidents/{incident.pk}/status/"
    asked = client.post(url, {"status": "closed"}, HTTP_HX_REQUEST="true")
    assert asked.status_code == 200, asked.content
    assert "The crisis page is live" not in asked.text  # asked first, nothing about the page
    response = client.post(url, {"confirmed_status": "closed"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content
    incident.refresh_from_db()
    assert incident.status == "closed"


def test_resolving_with_a_live_page_names_it_and_its_promised_update(live_page, incident, lead):
    """Resolving is allowed (the page is resolved after, with its closing update), but the
    lead is told the page still says the crisis is ongoing and when it promised more."""
    incident_actions.incident_transition(incident=incident, actor=lead, status="active")
    client = Client()
    client.force_login(lead)
    asked = client.post(
        f"/incidents/{incident.pk}/status/", {"status": "resolved"}, HTTP_HX_REQUEST="true"
    )
    assert asked.status_code == 200
    live_page.refresh_from_db()
    assert live_page.next_update_at is not None  # going live promised the first update
    assert "The crisis page is live and promises an update at" in asked.text
    actions.page_switch(page=live_page, actor=lead, action="resolve")
    asked = client.post(
        f"/incidents/{incident.pk}/status/", {"status": "resolved"}, HTTP_HX_REQUEST="true"
    )
    assert "The crisis page is live" not in asked.text
