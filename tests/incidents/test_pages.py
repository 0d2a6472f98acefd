"""The server-rendered pages and their htmx endpoints, through the Django test client."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import actions
from incidents.models import Incident, Membership, TimelineEntry

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PASSWORD = "pw-for-tests"  # what conftest's make_user sets


def room_url(incident, suffix=""):
    return f"/incidents/{incident.pk}/{suffix}"


def endpoint_id(suffix):
    """'members/{drafter}/role/' -> 'members-role', for readable test ids."""
    return "-".join(part for part in suffix.split("/") if part and "{" not in part)


def post(client, url, data=None, *, htmx=True):
    return client.post(url, data or {}, headers=HTMX if htmx else None)


def snapshot(incident):
    """Everything a refused request must leave untouched."""
    incident = Incident.objects.get(pk=incident.pk)
    cell = sorted(Membership.objects.active().filter(incident=incident).values_list("user", "role"))
    return (
        incident.status,
        incident.severity,
        cell,
        Membership.objects.filter(incident=incident).count(),
        TimelineEntry.objects.filter(incident=incident).count(),
    )


def active_role(incident, user):
    return (
        Membership.objects.active()
        .filter(incident=incident, user=user)
        .values_list("role", flat=True)
        .first()
    )


def seqs(html):
    return [int(s) for s in re.findall(r'data-seq="(\d+)"', html)]


def add_entries(incident, actor, count, **fields):
    for i in range(count):
        actions.timeline_add_entry(
            incident=incident,
            actor=actor,
            kind=fields.get("kind", "note"),
            text=fields.get("text", f"Entry {i}"),
            key_event=fields.get("key_event", False),
        )


def assert_htmx_done(response):
    assert response.status_code == 200, response.content
    assert "incident-changed" in response.headers.get("HX-Trigger", "")


def assert_redirected_to_room(response, incident):
    assert response.status_code == 302
    assert response["Location"] == room_url(incident)


# --- Login and anonymous access -------------------------------------------------------------


def test_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'name="username"' in response.text
    assert 'name="password"' in response.text


def test_login_with_the_right_password_opens_the_dashboard(client, lead):
    response = client.post("/accounts/login/", {"username": "lead", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_with_a_wrong_password_is_refused_with_an_error(client, lead):
    response = client.post("/accounts/login/", {"username": "lead", "password": "wrong"})
    assert response.status_code == 200
    assert 'class="form-error"' in response.text
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("path", ["/", "/incidents/{pk}/"])
def test_anonymous_user_is_redirected_to_login(client, incident, path):
    path = path.format(pk=incident.pk)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


# --- Dashboard ------------------------------------------------------------------------------


def test_dashboard_lists_only_the_incidents_of_my_cells(
    browser_client, declare, lead, outsider, make_user
):
    mine = declare(title="Boycott call on TikTok")
    other = declare(actor=make_user("someone"), title="Leaked memo on a forum")
    response = browser_client.as_user(lead).get("/")
    assert response.status_code == 200
    assert mine.title in response.text
    assert other.title not in response.text


def test_outsider_sees_none_of_the_cells_incidents(browser_client, incident, outsider):
    response = browser_client.as_user(outsider).get("/")
    assert response.status_code == 200
    assert incident.title not in response.text
    assert "No open incident" in response.text


def test_staff_sees_every_incident(browser_client, declare, staff, make_user):
    first = declare(title="Boycott call on TikTok")
    second = declare(actor=make_user("someone"), title="Leaked memo on a forum")
    response = browser_client.as_user(staff).get("/")
    assert first.title in response.text
    assert second.title in response.text
    assert "Staff view" in response.text


def test_closed_incidents_are_listed_only_with_show_all(browser_client, declare, lead):
    open_one = declare(title="Still burning")
    closed = declare(title="False alarm")
    actions.incident_transition(incident=closed, actor=lead, status="closed")
    client = browser_client.as_user(lead)

    default = client.get("/").text
    assert open_one.title in default
    assert closed.title not in default

    everything = client.get("/?show=all").text
    assert open_one.title in everything
    assert closed.title in everything


def test_dashboard_shows_an_empty_state_when_there_is_no_incident(browser_client, lead):
    client = browser_client.as_user(lead)
    assert "No open incident" in client.get("/").text
    assert "No incidents yet" in client.get("/?show=all").text


def test_dashboard_with_only_closed_incidents_shows_the_open_empty_state(
    browser_client, declare, lead
):
    closed = declare(title="False alarm")
    actions.incident_transition(incident=closed, actor=lead, status="closed")
    response = browser_client.as_user(lead).get("/")
    assert "No open incident" in response.text
    assert closed.title not in response.text


# --- Declaring ------------------------------------------------------------------------------


def test_declare_form_renders(browser_client, lead):
    response = browser_client.as_user(lead).get("/incidents/new/")
    assert response.status_code == 200
    for field in ("title", "category", "origin", "platforms", "severity"):
        assert f'name="{field}"' in response.text


def test_declaring_creates_the_incident_and_opens_its_room(browser_client, lead):
    client = browser_client.as_user(lead)
    response = client.post(
        "/incidents/new/",
        {
            "title": "Influencer calls for a boycott",
            "category": "brand",
            "origin": "online",
            "platforms": ["tiktok", "instagram"],
            "severity": "3",
        },
    )
    incident = Incident.objects.get()
    assert_redirected_to_room(response, incident)
    assert incident.title == "Influencer calls for a boycott"
    assert (incident.status, incident.severity) == ("detected", 3)
    assert incident.platforms == ["instagram", "tiktok"]
    assert active_role(incident, lead) == "lead"

    room = client.get(response["Location"])
    assert room.status_code == 200
    assert "Influencer calls for a boycott" in room.text
    assert "Incident declared. You lead its crisis cell." in room.text


def test_declaring_with_activate_starts_the_incident_active(browser_client, lead):
    browser_client.as_user(lead).post(
        "/incidents/new/",
        {
            "title": "Outage",
            "category": "service",
            "origin": "offline",
            "severity": "2",
            "activate": "on",
        },
    )
    assert Incident.objects.get().status == "active"


def test_invalid_declaration_re_renders_with_errors_and_writes_nothing(browser_client, lead):
    response = browser_client.as_user(lead).post(
        "/incidents/new/", {"title": "", "category": "not-a-category", "origin": "online"}
    )
    assert response.status_code == 200
    assert "has-error" in response.text
    assert "This field is required." in response.text
    assert Incident.objects.count() == 0
    assert Membership.objects.count() == 0
    assert TimelineEntry.objects.count() == 0


def test_declaration_refused_by_the_action_re_renders_with_its_message(browser_client, lead):
    response = browser_client.as_user(lead).post(
        "/incidents/new/",
        {
            "title": "From the future",
            "category": "brand",
            "origin": "online",
            "severity": "2",
            "detected_at": "2999-01-01T10:00",
        },
    )
    assert response.status_code == 200
    assert "The detection time cannot be in the future." in response.text
    assert Incident.objects.count() == 0
    assert TimelineEntry.objects.count() == 0


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
    assert "Observers can read the timeline but not write to it." in response.text
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
    assert "Observers can read the timeline but not write to it." in room.text
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


# --- Lead actions ---------------------------------------------------------------------------

both_ways = pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])


def done(response, incident, htmx):
    if htmx:
        assert_htmx_done(response)
    else:
        assert_redirected_to_room(response, incident)


@both_ways
def test_lead_moves_the_status(browser_client, incident, lead, htmx):
    response = post(
        browser_client.as_user(lead), room_url(incident, "status/"), {"status": "active"}, htmx=htmx
    )
    done(response, incident, htmx)
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
        {"role": "approver"},
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
    ("members/{drafter}/role/", lambda p: {"role": "approver"}),
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


# --- Language -------------------------------------------------------------------------------


def test_pages_are_english_by_default(browser_client, lead):
    assert '<html lang="en">' in browser_client.as_user(lead).get("/").text


def test_accept_language_fr_serves_french(browser_client, incident, lead):
    client = browser_client.as_user(lead)
    for url in ("/", room_url(incident)):
        assert '<html lang="fr">' in client.get(url, headers={"Accept-Language": "fr"}).text


def test_login_page_follows_accept_language(client):
    response = client.get("/accounts/login/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr">' in response.text


def test_set_language_switches_to_french_and_back(browser_client, lead):
    client = browser_client.as_user(lead)
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert '<html lang="fr">' in client.get("/").text

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").text


# --- Query counts ---------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_queries_do_not_grow_with_the_number_of_incidents(
    browser_client, declare, lead, drafter, observer, django_assert_max_num_queries
):
    def declare_some(count):
        for i in range(count):
            incident = declare(title=f"Incident {i}", severity=1 + i % 4)
            actions.member_add(incident=incident, actor=lead, user=drafter, role="drafter")
            actions.member_add(incident=incident, actor=lead, user=observer, role="observer")

    client = browser_client.as_user(drafter)
    declare_some(3)
    client.get("/")  # warm up session and caches
    small = count_queries(client, "/")

    declare_some(27)
    with django_assert_max_num_queries(small):
        response = client.get("/")
    assert response.text.count('class="incident-link"') == 25  # one full page


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
