"""Adding someone to the cell: an approver always with the function they sign off for (one
rule for the page, the API and the actions), a search instead of a list of every account,
and a form that stays ready for the next person."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import actions, extensions
from incidents.errors import InvalidInput
from incidents.models import Membership
from tests.helpers import assert_error
from tests.incidents.conftest import active_role, post, room_url, snapshot

pytestmark = pytest.mark.django_db

ADD = "members/add/"
CANDIDATES = "members/candidates/"


@pytest.fixture
def ines(make_user):
    return make_user("ibernard", first_name="Inès", last_name="Bernard", email="ines@example.com")


def membership(incident, user):
    return Membership.objects.active().filter(incident=incident, user=user).first()


# --- The rule: an approver signs off for a function ------------------------------------------


@pytest.mark.parametrize("function", ["", None])
def test_the_action_refuses_an_approver_without_a_function(incident, lead, ines, function):
    before = snapshot(incident)
    extra = {} if function is None else {"function": function}
    with pytest.raises(InvalidInput, match="Choose what this approver signs off for"):
        actions.member_add(incident=incident, actor=lead, user=ines, role="approver", **extra)
    assert snapshot(incident) == before


def test_changing_someone_into_an_approver_needs_a_function_too(incident, lead, drafter):
    with pytest.raises(InvalidInput, match="Choose what this approver signs off for"):
        actions.member_change_role(incident=incident, actor=lead, user=drafter, role="approver")
    assert active_role(incident, drafter) == "drafter"


@pytest.mark.parametrize("function", ["legal", "communications", "executive", "other"])
def test_every_function_can_be_chosen(incident, lead, ines, function):
    added = actions.member_add(
        incident=incident, actor=lead, user=ines, role="approver", function=function
    )
    assert (added.role, added.function) == ("approver", function)


def test_the_api_refuses_an_approver_without_a_function_on_the_function_field(
    api, incident, lead, ines
):
    before = snapshot(incident)
    response = api.as_user(lead).post(
        f"/api/incidents/{incident.pk}/members/",
        {"user": ines.pk, "role": "approver"},
        format="json",
    )
    detail = assert_error(response, 400)
    assert detail.startswith("function: Choose what this approver signs off for")
    assert "function" in response.json()["errors"]
    assert snapshot(incident) == before


def test_the_api_refuses_turning_a_member_into_an_approver_without_a_function(
    api, incident, lead, drafter
):
    response = api.as_user(lead).patch(
        f"/api/incidents/{incident.pk}/members/{drafter.pk}/", {"role": "approver"}, format="json"
    )
    assert_error(response, 400)
    assert active_role(incident, drafter) == "drafter"


# --- The page form ---------------------------------------------------------------------------


def test_an_approver_without_a_function_is_refused_in_place_with_what_was_typed(
    browser_client, incident, lead, ines
):
    before = snapshot(incident)
    response = post(
        browser_client.as_user(lead),
        room_url(incident, ADD),
        {"user": ines.pk, "person": "ines", "role": "approver", "function": ""},
    )
    assert response.status_code == 422
    assert "HX-Trigger" not in response.headers
    html = response.text
    assert "Choose what this approver signs off for" in html
    assert 'id="member-add-form"' in html  # the form again, to fix in place
    assert 'value="ines"' in html  # what was typed
    assert f'name="user" value="{ines.pk}" checked' in html  # whom was picked
    assert '<option value="approver" selected>' in html
    assert snapshot(incident) == before


def test_adding_answers_with_the_form_emptied_focused_and_saying_who_was_added(
    browser_client, incident, lead, ines
):
    response = post(
        browser_client.as_user(lead),
        room_url(incident, ADD),
        {"user": ines.pk, "role": "approver", "function": "legal"},
    )
    assert response.status_code == 200
    assert "incident-changed" in response.headers["HX-Trigger"]
    html = response.text
    assert "Added Inès Bernard as Approver — Legal." in html
    assert 'id="member-add-form"' in html and "autofocus" in html
    assert 'value=""' in html and 'name="user"' not in html  # emptied
    added = membership(incident, ines)
    assert (added.role, added.function, added.added_by) == ("approver", "legal", lead)
    # The timeline says it the same way.
    timeline = browser_client.get(room_url(incident, "timeline/")).text
    assert "Inès Bernard joined as Approver — Legal" in timeline


def test_without_javascript_adding_redirects_with_the_same_message(
    browser_client, incident, lead, ines
):
    client = browser_client.as_user(lead)
    response = post(
        client,
        room_url(incident, ADD),
        {"person": "ibernard", "role": "approver", "function": "communications"},
        htmx=False,
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "Added Inès Bernard as Approver — Communications." in page.text
    assert membership(incident, ines).function == "communications"


def test_a_function_given_to_another_role_is_dropped(browser_client, incident, lead, ines):
    response = post(
        browser_client.as_user(lead),
        room_url(incident, ADD),
        {"user": ines.pk, "role": "drafter", "function": "legal"},
    )
    assert response.status_code == 200
    assert (membership(incident, ines).role, membership(incident, ines).function) == (
        "drafter",
        "",
    )


@pytest.mark.parametrize("typed", ["ibernard", "IBERNARD", "ines@example.com", " Inès  Bernard "])
def test_the_person_typed_without_javascript_is_found_by_username_email_or_full_name(
    browser_client, incident, lead, ines, typed
):
    response = post(
        browser_client.as_user(lead),
        room_url(incident, ADD),
        {"person": typed, "role": "spokesperson"},
    )
    assert response.status_code == 200, response.text
    assert active_role(incident, ines) == "spokesperson"


def test_nobody_found_is_a_clear_error(browser_client, incident, lead, ines):
    before = snapshot(incident)
    response = post(
        browser_client.as_user(lead), room_url(incident, ADD), {"person": "ines", "role": "drafter"}
    )
    assert response.status_code == 422
    assert "Nobody with an active account is called “ines”" in response.text
    assert snapshot(incident) == before


def test_a_deactivated_account_is_not_found(browser_client, incident, lead, ines):
    ines.is_active = False
    ines.save()
    response = post(
        browser_client.as_user(lead),
        room_url(incident, ADD),
        {"person": "ibernard", "role": "drafter"},
    )
    assert response.status_code == 422
    assert "Nobody with an active account" in response.text


def test_two_people_of_the_same_name_are_ambiguous(browser_client, incident, lead, make_user):
    make_user("mdurand", first_name="Marie", last_name="Durand")
    make_user("mdurand2", first_name="Marie", last_name="Durand")
    before = snapshot(incident)
    response = post(
        browser_client.as_user(lead),
        room_url(incident, ADD),
        {"person": "marie durand", "role": "drafter"},
    )
    assert response.status_code == 422
    assert "Several people are called “marie durand”" in response.text
    assert snapshot(incident) == before


def test_someone_already_in_the_cell_is_refused_with_the_actions_message(
    browser_client, incident, lead, drafter
):
    response = post(
        browser_client.as_user(lead),
        room_url(incident, ADD),
        {"person": "drafter", "role": "observer"},
    )
    assert response.status_code == 422
    assert "drafter is already in the cell; change their role instead." in response.text


def test_nothing_typed_asks_for_the_person(browser_client, incident, lead):
    response = post(browser_client.as_user(lead), room_url(incident, ADD), {"role": "drafter"})
    assert response.status_code == 422
    assert "Type the name, username or e-mail of the person." in response.text


def test_a_member_who_is_not_the_lead_is_refused_with_the_rules_message(
    browser_client, incident, drafter, ines
):
    response = post(
        browser_client.as_user(drafter),
        room_url(incident, ADD),
        {"person": "ibernard", "role": "drafter"},
    )
    assert response.status_code == 422
    assert "Only the lead can manage the cell." in response.text
    assert 'id="member-add-form"' not in response.text


def test_the_role_menu_offers_no_approver_without_a_function(browser_client, incident, lead):
    html = browser_client.as_user(lead).get(room_url(incident)).text
    assert '<option value="approver:legal"' in html
    assert '<option value="approver">' not in html.split('id="member-add"')[0]
    # An approver added before functions were required is shown as such, to be fixed.
    legacy = Membership.objects.active().get(incident=incident, role="approver")
    Membership.objects.filter(pk=legacy.pk).update(function="")
    html = browser_client.as_user(lead).get(room_url(incident)).text
    assert "Approver — choose a function" in html


# --- The picker: a search, not a list of every account ---------------------------------------


def test_the_room_lists_nobody_outside_the_cell(browser_client, incident, lead, make_user):
    for n in range(50):
        make_user(f"staffer{n:02}")
    html = browser_client.as_user(lead).get(room_url(incident)).text
    assert "staffer" not in html
    assert 'id="member-person"' in html and "members/candidates/" in html


def test_the_search_finds_by_username_name_and_email(
    browser_client, incident, lead, ines, make_user
):
    make_user("someone", email="someone@elsewhere.org")
    client = browser_client.as_user(lead)
    for query in ("iber", "Inès", "bernard", "ines@example", "inès bern"):
        response = client.get(room_url(incident, CANDIDATES), {"q": query})
        assert response.status_code == 200
        assert f'name="user" value="{ines.pk}"' in response.text, query
        assert "someone" not in response.text
    # The search field's own name works too (htmx sends it).
    response = client.get(room_url(incident, CANDIDATES), {"person": "iber"})
    assert f'value="{ines.pk}"' in response.text


def test_the_search_leaves_out_members_and_deactivated_accounts(
    browser_client, incident, lead, drafter, make_user
):
    gone = make_user("drafter-gone", is_active=False)
    response = browser_client.as_user(lead).get(room_url(incident, CANDIDATES), {"q": "draft"})
    assert f'value="{drafter.pk}"' not in response.text
    assert f'value="{gone.pk}"' not in response.text
    assert "Nobody outside the cell matches “draft”." in response.text


def test_the_search_shows_at_most_twenty_people_with_a_constant_number_of_queries(
    browser_client, incident, lead, make_user
):
    client = browser_client.as_user(lead)
    url = room_url(incident, CANDIDATES)
    for n in range(3):
        make_user(f"agent{n:02}")
    client.get(url, {"q": "agent"})
    with CaptureQueriesContext(connection) as few:
        response = client.get(url, {"q": "agent"})
    assert response.text.count('name="user"') == 3
    for n in range(3, 60):
        make_user(f"agent{n:02}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"q": "agent"})
    assert response.text.count('name="user"') == 20
    assert "More people match" in response.text
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(response.content) < 10_000


def test_a_long_search_is_cut_not_refused(browser_client, incident, lead, ines):
    response = browser_client.as_user(lead).get(
        room_url(incident, CANDIDATES), {"q": "ibernard " + "x" * 5000}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("persona", "status"),
    [("drafter", 403), ("approver", 403), ("observer", 403), ("staff", 403), ("outsider", 404)],
)
def test_only_the_lead_searches_people(browser_client, incident, persona, status, request, ines):
    """Refused to whoever sees the incident (403), hidden from an outsider (404)."""
    user = request.getfixturevalue(persona)
    response = browser_client.as_user(user).get(room_url(incident, CANDIDATES), {"q": "iber"})
    assert response.status_code == status
    assert "Bernard" not in response.text


def test_an_empty_search_suggests_the_playbook_roster_first(
    browser_client, incident, lead, drafter, ines, monkeypatch
):
    def roster(_incident):
        return [
            extensions.RosterEntry(name="Sam", role="drafter", user=drafter),  # in the cell
            extensions.RosterEntry(
                name="Inès Bernard", role="approver", function="legal", user=ines
            ),
            extensions.RosterEntry(name="No account yet", email="new@example.com"),
        ]

    monkeypatch.setattr(extensions, "_roster", [roster])
    response = browser_client.as_user(lead).get(room_url(incident, CANDIDATES), {"q": ""})
    assert "From the playbook's committee" in response.text
    assert f'value="{ines.pk}" checked' in response.text  # the only one: picked
    assert "Approver — Legal" in response.text
    assert f'value="{drafter.pk}"' not in response.text


def test_the_demo_gives_every_approver_a_function(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    approvers = Membership.objects.filter(role="approver")
    assert approvers.exists()
    assert not approvers.filter(function="").exists()
