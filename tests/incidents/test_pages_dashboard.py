"""Outside the incident room: logging in, the dashboard (whose incidents, closed ones,
empty states, its query count), declaring an incident, and the page language."""

import pytest

from incidents import actions
from incidents.models import Incident, Membership, TimelineEntry
from tests.incidents.conftest import active_role, assert_redirected_to_room, count_queries, room_url

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"  # what conftest's make_user sets


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


def test_an_approver_is_named_with_what_they_sign_for_wherever_their_role_is_shown(
    browser_client, api, incident, lead, make_user
):
    """ "Approver (legal, communications)" for every approver read as signing for both: the
    legal counsel tried to sign for Communications (the cell panel already said "Approver —
    Legal")."""
    counsel = make_user("counsel")
    actions.member_add(
        incident=incident, actor=lead, user=counsel, role="approver", function="legal"
    )
    client = browser_client.as_user(counsel)
    listed = client.get("/").text
    room = client.get(room_url(incident)).text
    for page in (listed, room):
        assert "Approver — Legal" in page
        assert "Approver (legal, communications)" not in page
    # Nor where the lead chooses a role, the function beside it (the roster offered it to
    # the executive, whom the room then called "Approver — Executive management").
    choosing = browser_client.as_user(lead).get(room_url(incident)).text
    assert '<option value="approver">Approver</option>' in choosing
    assert "(legal, communications)" not in choosing
    members = api.as_user(lead).get(f"/api/incidents/{incident.pk}/members/").json()
    rows = members["results"] if isinstance(members, dict) else members
    assert "Approver — Legal" in {row["role_label"] for row in rows}
