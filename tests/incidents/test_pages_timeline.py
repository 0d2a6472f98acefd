"""The room's panels and its timeline: filters, paging with "load older", escaping,
and a query count that does not grow with the timeline."""

import pytest

from incidents import actions
from incidents.models import TimelineEntry
from tests.incidents.conftest import add_entries, count_queries, room_url, seqs

pytestmark = pytest.mark.django_db


# --- Panels and the timeline ----------------------------------------------------------------


def test_panels_render_for_a_member(browser_client, incident, drafter):
    client = browser_client.as_user(drafter)
    header = client.get(room_url(incident, "header/"))
    assert header.status_code == 200
    assert incident.title in header.text
    assert "<html" not in header.text
    members = client.get(room_url(incident, "members/"))
    assert members.status_code == 200
    assert "drafter" in members.text
    timeline = client.get(room_url(incident, "timeline/"))
    assert timeline.status_code == 200
    assert seqs(timeline.text) == [5, 4, 3, 2, 1]


@pytest.fixture
def mixed_timeline(incident, lead, drafter, approver):
    """Entries 1-5 come from the fixture (declared, 4x member added, all by the lead)."""
    actions.timeline_add_entry(incident=incident, actor=drafter, kind="note", text="drafter note")
    actions.timeline_add_entry(
        incident=incident, actor=approver, kind="decision", text="approver decision"
    )
    actions.timeline_add_entry(
        incident=incident, actor=drafter, kind="amplification", text="big account", key_event=True
    )
    return incident  # seq 6: note/drafter, 7: decision/approver, 8: amplification/drafter/key


def test_timeline_filters_by_kind(browser_client, mixed_timeline, drafter):
    response = browser_client.as_user(drafter).get(
        room_url(mixed_timeline, "timeline/"), {"kind": "decision"}
    )
    assert response.status_code == 200
    assert seqs(response.text) == [7]
    assert "approver decision" in response.text


def test_timeline_filters_key_events(browser_client, mixed_timeline, drafter):
    response = browser_client.as_user(drafter).get(
        room_url(mixed_timeline, "timeline/"), {"key_events": "on"}
    )
    assert seqs(response.text) == [8, 1]  # the amplification and the declaration


def test_timeline_filters_by_actor(browser_client, mixed_timeline, drafter):
    response = browser_client.as_user(drafter).get(
        room_url(mixed_timeline, "timeline/"), {"actor": drafter.pk}
    )
    assert seqs(response.text) == [8, 6]


def test_timeline_filters_combine(browser_client, mixed_timeline, drafter):
    response = browser_client.as_user(drafter).get(
        room_url(mixed_timeline, "timeline/"), {"actor": drafter.pk, "kind": "note"}
    )
    assert seqs(response.text) == [6]


def test_timeline_filters_with_no_match_say_so(browser_client, mixed_timeline, drafter):
    response = browser_client.as_user(drafter).get(
        room_url(mixed_timeline, "timeline/"), {"kind": "press_contact"}
    )
    assert seqs(response.text) == []
    assert "No entry matches these filters." in response.text


def test_timeline_with_empty_filters_shows_everything(browser_client, mixed_timeline, drafter):
    # What htmx sends with hx-include=".timeline-filters" when nothing is chosen.
    response = browser_client.as_user(drafter).get(
        room_url(mixed_timeline, "timeline/"), {"kind": "", "actor": ""}
    )
    assert seqs(response.text) == [8, 7, 6, 5, 4, 3, 2, 1]


def test_room_with_50_entries_has_no_load_older_button(browser_client, incident, lead):
    add_entries(incident, lead, 45)  # + 5 from the fixture = 50
    response = browser_client.as_user(lead).get(room_url(incident))
    assert seqs(response.text) == list(range(50, 0, -1))
    assert "Load older entries" not in response.text


def test_room_with_51_entries_pages_with_load_older(browser_client, incident, lead):
    add_entries(incident, lead, 46)  # + 5 from the fixture = 51
    client = browser_client.as_user(lead)
    response = client.get(room_url(incident))
    assert seqs(response.text) == list(range(51, 1, -1))
    assert "Load older entries" in response.text
    assert f"{room_url(incident, 'timeline/')}?before=2" in response.text

    older = client.get(room_url(incident, "timeline/"), {"before": "2"})
    assert older.status_code == 200
    assert seqs(older.text) == [1]
    assert "Load older entries" not in older.text
    assert '<ol class="timeline"' not in older.text  # rows only, appended in place


def test_load_older_keeps_the_filters(browser_client, incident, lead):
    add_entries(incident, lead, 60, kind="decision")  # seq 6..65
    client = browser_client.as_user(lead)
    first = client.get(room_url(incident, "timeline/"), {"kind": "decision"})
    assert seqs(first.text) == list(range(65, 15, -1))
    assert "?kind=decision&amp;before=16" in first.text

    older = client.get(room_url(incident, "timeline/"), {"kind": "decision", "before": "16"})
    assert seqs(older.text) == list(range(15, 5, -1))
    assert "Load older entries" not in older.text


def test_user_text_is_escaped_in_the_room(browser_client, incident, drafter):
    actions.timeline_add_entry(
        incident=incident, actor=drafter, kind="note", text="<script>alert(1)</script>"
    )
    response = browser_client.as_user(drafter).get(room_url(incident))
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_incident_title_is_escaped_on_the_dashboard_and_in_the_room(browser_client, declare, lead):
    incident = declare(title='<img src=x onerror="alert(1)">')
    client = browser_client.as_user(lead)
    for url in ("/", room_url(incident)):
        html = client.get(url).text
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


# --- Query counts ---------------------------------------------------------------------------


def test_room_queries_do_not_grow_with_the_timeline(
    browser_client, incident, lead, drafter, approver, django_assert_max_num_queries
):
    client = browser_client.as_user(lead)
    assert TimelineEntry.objects.filter(incident=incident).count() == 5
    client.get(room_url(incident))  # warm up session and caches
    small = count_queries(client, room_url(incident))
    small_timeline = count_queries(client, room_url(incident, "timeline/"))

    for actor in (lead, drafter, approver):
        add_entries(incident, actor, 65)  # 200 entries in all, from three authors
    with django_assert_max_num_queries(small):
        response = client.get(room_url(incident))
    assert len(seqs(response.text)) == 50
    with django_assert_max_num_queries(small_timeline):
        client.get(room_url(incident, "timeline/"))
