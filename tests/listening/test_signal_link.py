"""A signal about something the committee already handles (an incident declared by hand,
or from another signal of the same burst) is linked to that incident instead of declaring
a duplicate: on the signal's page and through POST /api/signals/{id}/link/."""

import pytest

from incidents.choices import EntryKind
from incidents.listening import actions, selectors
from incidents.listening.models import Mention
from incidents.models import TimelineEntry

pytestmark = pytest.mark.django_db


def _listening(user, reader):
    """`user` given the listening permissions `reader` has."""
    user.user_permissions.add(*reader.user_permissions.all())
    return type(user).objects.get(pk=user.pk)


def _window_ids(signal):
    return list(
        selectors.signal_window(signal, signal.updated_at.replace(year=2100)).values_list(
            "mention_id", flat=True
        )
    )


def test_the_page_points_to_the_incident_that_holds_the_posts_and_links_to_it(
    signal, incident, lead, reader, client
):
    lead = _listening(lead, reader)
    ids = _window_ids(signal)
    actions.mentions_attach(mention_ids=ids[:3], incident=incident, actor=lead)
    client.force_login(lead)

    page = client.get(f"/listening/signals/{signal.pk}/")

    html = page.content.decode()
    assert f"3 of this signal's posts are already attached to “{incident.title}”" in html
    assert page.context["link_form"]["incident"].value() == incident.pk  # suggested
    assert "Link to this incident" in html and "Or declare a new incident" in html

    linked = client.post(
        f"/listening/signals/{signal.pk}/", {"step": "link", "incident": incident.pk}, follow=True
    )

    assert linked.redirect_chain[-1][0] == f"/incidents/{incident.pk}/"
    signal.refresh_from_db()
    assert (signal.incident, signal.declared_by) == (incident, lead)
    assert Mention.objects.filter(incident=incident).count() == len(ids)
    assert f"{len(ids) - 3} of its mentions attached" in linked.content.decode()
    # Recorded as any attachment is (the room's mentions panel refreshes), then the start.
    attachments = TimelineEntry.objects.filter(incident=incident, kind=EntryKind.MENTIONS_ATTACHED)
    assert [e.data["count"] for e in attachments] == [3, len(ids) - 3]
    entry = TimelineEntry.objects.filter(incident=incident, kind=EntryKind.KEY_EVENT).last()
    assert entry.text.startswith("Listening signal linked: it started on")
    assert entry.data["linked"] is True and entry.data["mentions_attached"] == len(ids) - 3
    # Linked: the page says so and offers neither form again.
    again = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    assert signal.linked and f"Linked to “{incident.title}”, declared without this signal." in again
    assert "Link to this incident" not in again
    assert "Linked to an incident" in client.get("/listening/signals/").content.decode()
    # Someone outside the cell reads that it was linked, not to what.
    client.force_login(reader)
    hidden = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    assert "Linked to an incident declared without this signal." in hidden
    assert incident.title not in hidden


def test_declaring_where_every_post_is_taken_says_so(signal, incident, lead, reader, client):
    lead = _listening(lead, reader)
    actions.mentions_attach(mention_ids=_window_ids(signal), incident=incident, actor=lead)
    client.force_login(lead)
    form = {"title": "Twice", "category": "product", "severity": "2"}
    declared = client.post(f"/listening/signals/{signal.pk}/", form, follow=True)
    assert "none of the signal&#x27;s mentions was attached" in declared.content.decode()


def test_the_api_links_for_the_cell_only(signal, incident, lead, observer, reader, api):
    lead, observer = _listening(lead, reader), _listening(observer, reader)
    url = f"/api/signals/{signal.pk}/link/"
    # Not in the cell: the incident does not exist for them; an observer may not write.
    assert api.as_user(reader).post(url, {"incident": incident.pk}).status_code == 404
    assert api.as_user(observer).post(url, {"incident": incident.pk}).status_code == 403
    assert api.as_user(lead).post(url, {"incident": "x"}).status_code == 400
    # Closed, it takes no signal (as the page offers only open incidents): nothing attached.
    type(incident).objects.filter(pk=incident.pk).update(status="closed")
    closed = api.as_user(lead).post(url, {"incident": incident.pk})
    assert closed.status_code == 409 and "reopen it" in closed.json()["detail"], closed.content
    assert not Mention.objects.filter(incident=incident).exists()
    type(incident).objects.filter(pk=incident.pk).update(status="active")

    answer = api.as_user(lead).post(url, {"incident": incident.pk})

    assert answer.status_code == 200, answer.content
    assert answer.json() == {"incident": incident.pk, "attached": len(_window_ids(signal))}
    listed = api.as_user(lead).get("/api/signals/").json()["results"]
    assert [(s["incident"], s["linked"]) for s in listed] == [(incident.pk, True)]
    again = api.as_user(lead).post(url, {"incident": incident.pk})
    assert again.status_code == 409 and again.json()["incident"] == incident.pk
    assert again.json()["detail"] == "This signal is already linked to an incident."
    declare = api.as_user(reader).post(f"/api/signals/{signal.pk}/declare/", {})
    assert declare.status_code == 409 and "incident" not in declare.json()  # not their cell


def test_a_signal_linked_after_the_committee_saw_it_is_not_its_detection(
    signal, incident, lead, reader
):
    from datetime import timedelta

    from incidents.postmortems import figures

    lead = _listening(lead, reader)
    first = min(
        Mention.objects.filter(id__in=_window_ids(signal)).values_list("posted_at", flat=True)
    )
    # Seen by the committee a minute after the first post, before the signal opened.
    type(incident).objects.filter(pk=incident.pk).update(detected_at=first + timedelta(minutes=1))
    incident.refresh_from_db()
    assert signal.opened_at > incident.detected_at
    actions.signal_link(signal=signal, incident=incident, actor=lead)
    metrics = figures.report(incident).metrics
    assert metrics.detect_seconds == 60 and not metrics.detect_from_signal


def test_the_page_offers_and_suggests_only_incidents_the_person_may_link(
    signal, incident, lead, observer, reader, client
):
    lead, observer = _listening(lead, reader), _listening(observer, reader)
    actions.mentions_attach(mention_ids=_window_ids(signal)[:3], incident=incident, actor=lead)
    client.force_login(observer)  # in the cell, but may not write its timeline
    page = client.get(f"/listening/signals/{signal.pk}/")
    html = page.content.decode()
    assert "already attached to" not in html and "Link to this incident" not in html
    assert list(page.context["link_form"].fields["incident"].queryset) == []
    # A forged link is refused with its reason, on a page that offers no link form.
    forged = client.post(
        f"/listening/signals/{signal.pk}/", {"step": "link", "incident": incident.pk}, follow=True
    )
    assert "it is closed, or you may not write its timeline" in forged.content.decode()
    assert forged.redirect_chain[-1][0] == f"/listening/signals/{signal.pk}/"
    # Closed, the incident is no longer offered nor suggested to its lead either.
    type(incident).objects.filter(pk=incident.pk).update(status="closed")
    client.force_login(lead)
    html = client.get(f"/listening/signals/{signal.pk}/").content.decode()
    assert "already attached to" not in html and "Link to this incident" not in html


def test_resolving_the_incident_names_its_open_signal(signal, incident, lead, reader, client):
    """The signal linked to the incident is still open (the posts are still above normal):
    the lead resolving it is told; once the signal closes, it is no longer named."""
    from incidents import actions as incident_actions

    lead = _listening(lead, reader)
    actions.signal_link(signal=signal, incident=incident, actor=lead)
    incident_actions.incident_transition(incident=incident, actor=lead, status="active")
    client.force_login(lead)
    url = f"/incidents/{incident.pk}/status/"
    asked = client.post(url, {"status": "resolved"}, HTTP_HX_REQUEST="true").content.decode()
    assert "1 listening signal linked to it is still open" in asked
    type(signal).objects.filter(pk=signal.pk).update(status="closed")
    asked = client.post(url, {"status": "resolved"}, HTTP_HX_REQUEST="true").content.decode()
    assert "listening signal" not in asked
