"""A closed incident takes no mention and gives none back: its post-mortem's figures were
signed off on its mentions as they were. Attaching and detaching are refused (409, "reopen
it first", as linking a signal is) by the API and the page forms alike (all go through
actions.mentions_attach and mention_detach), checked on the locked, fresh incident; a
resolved incident still takes them, as it takes a signal's link."""

import pytest

from incidents import actions as incident_actions
from incidents.errors import Conflict
from incidents.listening import actions
from incidents.listening.models import Mention
from incidents.models import TimelineEntry

from .conftest import grant
from .test_pages import bulk_mentions

pytestmark = pytest.mark.django_db

ATTACH_REFUSED = "This incident is closed: reopen it before attaching mentions to it."
DETACH_REFUSED = "This incident is closed: reopen it before detaching mentions from it."


@pytest.fixture
def writer(incident, drafter):
    """The incident's drafter, a listening reader: may attach and detach."""
    return grant(drafter, "view_mention")


@pytest.fixture
def posts(incident, writer, watch):
    """Two mentions: the first attached to the incident, the second free."""
    held, free = bulk_mentions(2, watch=watch)
    actions.mentions_attach(mention_ids=[held.pk], incident=incident, actor=writer)
    return held, free


def move(incident, lead, *statuses):
    for status in statuses:
        incident_actions.incident_transition(incident=incident, actor=lead, status=status)


def attached_to(incident) -> set[int]:
    return set(Mention.objects.filter(incident=incident).values_list("pk", flat=True))


def entries(incident) -> int:
    return TimelineEntry.objects.filter(incident=incident).count()


def test_the_api_refuses_to_attach_to_or_detach_from_a_closed_incident(
    incident, lead, writer, posts, api
):
    held, free = posts
    move(incident, lead, "closed")
    before = entries(incident)
    client = api.as_user(writer)
    url = f"/api/incidents/{incident.pk}/mentions/"
    attach = client.post(url, {"mentions": [free.pk]}, format="json")
    assert attach.status_code == 409, attach.content
    assert attach.json()["detail"] == ATTACH_REFUSED
    detach = client.delete(f"{url}{held.pk}/")
    assert detach.status_code == 409, detach.content
    assert detach.json()["detail"] == DETACH_REFUSED
    assert attached_to(incident) == {held.pk}  # nothing attached, nothing detached
    assert entries(incident) == before
    # Reopened, it takes them again.
    move(incident, lead, "active")
    assert client.post(url, {"mentions": [free.pk]}, format="json").json()["attached"] == [free.pk]
    assert client.delete(f"{url}{held.pk}/").status_code == 204
    assert attached_to(incident) == {free.pk}


def test_a_resolved_incident_still_takes_and_gives_back_mentions(
    incident, lead, writer, posts, api
):
    held, free = posts
    move(incident, lead, "active", "resolved")
    client = api.as_user(writer)
    url = f"/api/incidents/{incident.pk}/mentions/"
    assert client.post(url, {"mentions": [free.pk]}, format="json").status_code == 200
    assert client.delete(f"{url}{held.pk}/").status_code == 204
    assert attached_to(incident) == {free.pk}


def test_the_rule_reads_the_incident_as_it_is_now_not_as_the_caller_read_it(
    incident, lead, writer, posts
):
    """A page read the incident open; it was closed before the form was sent."""
    held, free = posts
    seen_open = type(incident).objects.get(pk=incident.pk)
    move(incident, lead, "closed")
    assert seen_open.status != "closed"
    with pytest.raises(Conflict, match="reopen it before attaching"):
        actions.mentions_attach(mention_ids=[free.pk], incident=seen_open, actor=writer)
    with pytest.raises(Conflict, match="reopen it before attaching"):
        actions.mention_attach(mention=free, incident=seen_open, actor=writer)
    with pytest.raises(Conflict, match="reopen it before detaching"):
        actions.mention_detach(mention=held, incident=seen_open, actor=writer)
    assert attached_to(incident) == {held.pk}


def test_the_page_forms_say_why_and_change_nothing(incident, lead, writer, posts, browser_client):
    held, free = posts
    move(incident, lead, "closed")
    before = entries(incident)
    client = browser_client.as_user(writer)
    # The stream's "Attach to incident…" (a forged or stale form: the page offers open
    # incidents only).
    attach = client.post(
        f"/listening/mentions/{free.pk}/attach/",
        {"incident": incident.pk, "next": "/listening/"},
        follow=True,
    )
    assert attach.redirect_chain[-1][0] == "/listening/"
    assert ATTACH_REFUSED in attach.content.decode()
    # The room's mentions panel, "Detach": back at the panel, said there.
    detach = client.post(f"/incidents/{incident.pk}/mentions/{held.pk}/detach/", {}, follow=True)
    assert detach.redirect_chain[-1][0] == f"/incidents/{incident.pk}/#mentions-panel"
    assert DETACH_REFUSED in detach.content.decode()
    assert attached_to(incident) == {held.pk}
    assert entries(incident) == before


def test_the_refusals_are_translated(incident, lead, writer, posts, api):
    held, free = posts
    move(incident, lead, "closed")
    client = api.as_user(writer)
    url = f"/api/incidents/{incident.pk}/mentions/"
    attach = client.post(url, {"mentions": [free.pk]}, format="json", HTTP_ACCEPT_LANGUAGE="fr")
    detach = client.delete(f"{url}{held.pk}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert attach.status_code == detach.status_code == 409
    assert "rouvrez" in attach.json()["detail"].lower(), attach.json()
    assert "rouvrez" in detach.json()["detail"].lower(), detach.json()


def test_the_pages_offer_no_change_a_closed_incident_would_refuse(
    incident, lead, writer, posts, browser_client
):
    held, free = posts
    client = browser_client.as_user(writer)
    room = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f"/incidents/{incident.pk}/mentions/{held.pk}/detach/" in room
    move(incident, lead, "closed")
    room = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f"/incidents/{incident.pk}/mentions/{held.pk}/detach/" not in room
    # "Attach selected" says it before the confirmation, not after it.
    summary = client.post(
        "/listening/mentions/attach/",
        {"incident": incident.pk, "mentions": [free.pk], "next": "/listening/"},
    )
    assert summary.status_code == 409
    assert ATTACH_REFUSED in summary.content.decode()
    assert 'name="confirm"' not in summary.content.decode()
    assert attached_to(incident) == {held.pk}
