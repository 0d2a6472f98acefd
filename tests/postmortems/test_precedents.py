""" "Has this happened before?": on an incident, the ended incidents of its category the
viewer may see, newest first, bounded, with their post-mortem's lessons and action items —
in the room and in the API, in a constant number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.postmortems import actions
from incidents.postmortems.selectors import PRECEDENTS_SHOWN


def ended(declare, lead, title, *, category="public_statement", members=()):
    past = declare(title=title, category=category)
    for user, role in members:
        incident_actions.member_add(incident=past, actor=lead, user=user, role=role)
    for status in ("active", "resolved"):
        incident_actions.incident_transition(incident=past, actor=lead, status=status)
    return past


def with_lessons(past, lead, *, summary, items=()):
    pm = actions.postmortem_create(incident=past, actor=lead)
    pm = actions.postmortem_write(postmortem=pm, actor=lead, base_version=1, summary=summary)
    for title in items:
        actions.item_add(
            postmortem=pm,
            actor=lead,
            title=title,
            owner=lead,
            due_date=timezone.localdate() + timedelta(days=7),
        )
    return pm


@pytest.fixture
def history(incident, declare, lead, drafter):
    """Before the persona incident: two ended incidents of its category (the drafter was in
    the older one only), one of another category, one of its category still running."""
    older = ended(declare, lead, "Older bad post", members=[(drafter, "drafter")])
    with_lessons(older, lead, summary="Answer within the hour.", items=["Train the CMs"])
    newer = ended(declare, lead, "Newer bad post")
    with_lessons(newer, lead, summary="Legal was too slow.", items=["Pre-approve templates"])
    ended(declare, lead, "A product recall", category="product")
    declare(title="Still running")
    return {"older": older, "newer": newer}


def api_url(incident):
    return f"/api/incidents/{incident.pk}/precedents/"


def test_the_lead_sees_the_ended_incidents_of_the_category_newest_first_with_lessons(
    incident, history, lead, api
):
    body = api.as_user(lead).get(api_url(incident)).json()
    assert body["category"] == "public_statement"
    assert [r["title"] for r in body["results"]] == ["Newer bad post", "Older bad post"]
    newer = body["results"][0]
    assert newer["summary"] == "Legal was too slow."
    assert newer["postmortem_status"] == "draft"
    assert [(i["title"], i["status"]) for i in newer["items"]] == [
        ("Pre-approve templates", "open")
    ]
    assert body["more"] is False


def test_others_see_only_the_incidents_they_were_in_and_staff_all(
    incident, history, drafter, observer, staff, outsider, api
):
    def titles(user):
        results = api.as_user(user).get(api_url(incident)).json()["results"]
        return [r["title"] for r in results]

    assert titles(drafter) == ["Older bad post"]
    assert titles(observer) == []
    assert titles(staff) == ["Newer bad post", "Older bad post"]
    assert api.as_user(outsider).get(api_url(incident)).status_code == 404


def test_the_room_shows_them_and_links_to_more(
    incident, history, declare, lead, browser_client, django_assert_max_num_queries
):
    client = browser_client.as_user(lead)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Has this happened before?" in page
    assert "Legal was too slow." in page and "Pre-approve templates" in page
    assert "All incidents of this category" not in page
    for i in range(PRECEDENTS_SHOWN):
        with_lessons(
            ended(declare, lead, f"Again {i}"), lead, summary=f"Lesson {i}", items=["a", "b"]
        )
    # More incidents, post-mortems and items: the same number of queries.
    with django_assert_max_num_queries(60) as counted:
        page = client.get(f"/incidents/{incident.pk}/").content.decode()
        first = len(counted)
    assert "Again 4" in page and "Older bad post" not in page  # bounded, newest first
    more = "/?show=all&amp;category=public_statement"
    assert "All incidents of this category" in page and more in page
    listed = client.get("/?show=all&category=public_statement").content.decode()
    assert "Older bad post" in listed and "A product recall" not in listed
    with_lessons(ended(declare, lead, "Once more"), lead, summary="x", items=["c"])
    with django_assert_max_num_queries(first):
        client.get(f"/incidents/{incident.pk}/")


def test_an_incident_without_history_shows_no_box(incident, lead, browser_client, api):
    page = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/").content.decode()
    assert "Has this happened before?" not in page
    assert api.as_user(lead).get(api_url(incident)).json() == {
        "category": "public_statement",
        "results": [],
        "more": False,
    }


def test_the_api_answers_in_constant_queries(
    incident, history, declare, lead, api, django_assert_max_num_queries
):
    client = api.as_user(lead)
    with django_assert_max_num_queries(30) as counted:
        client.get(api_url(incident))
        first = len(counted)
    for i in range(3):
        with_lessons(ended(declare, lead, f"More {i}"), lead, summary="s", items=["x", "y"])
    with django_assert_max_num_queries(first):
        client.get(api_url(incident))
