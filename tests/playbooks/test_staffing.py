"""Staffing the cell in one step from the committee roster: the page, the API and the
action; the lead only, all or nobody, errors that say who and why, and reads whose query
count does not grow with the roster."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.errors import InvalidInput, NotAllowed
from incidents.models import EntryKind, Membership, TimelineEntry
from incidents.playbooks import actions
from incidents.playbooks.models import Contact, IncidentContact

pytestmark = pytest.mark.django_db

COMMITTEE = [
    # username (None: no account), name, role, function
    ("david", "David Keller", "approver", "communications"),
    ("ines", "Inès Bernard", "approver", "legal"),
    ("sam", "Sam Moreau", "drafter", ""),
    ("lea", "Léa Martin", "spokesperson", ""),
    (None, "Paul Durand", "approver", "executive"),
]
MARKER = re.compile(r'data-action="([a-z_]+)"')


@pytest.fixture
def committee(incident, lead, make_playbook, make_user):
    """The persona incident following a playbook whose committee is COMMITTEE plus the
    lead (already in the cell); everyone but Paul Durand has an account."""
    playbook = make_playbook(contacts=0, categories=["public_statement"])
    lead.email = "camille.laurent@example.com"
    lead.save()
    rows = [("lead", "Camille Laurent", "lead", ""), *COMMITTEE]
    people = {}
    for order, (username, name, role, function) in enumerate(rows):
        email = f"{username}@example.com" if username != "lead" else lead.email
        if username is None:
            email = "paul.durand@example.com"
        if username not in (None, "lead"):
            people[username] = make_user(username, email=email.upper())
        Contact.objects.create(
            playbook=playbook,
            kind="committee",
            order=order,
            name=name,
            email=email,
            role=role,
            function=function,
        )
    actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)
    return people


def roster_id(incident, name) -> int:
    return IncidentContact.objects.get(incident=incident, name=name).pk


def pick(incident, name, role, function="") -> dict:
    return {"contact": roster_id(incident, name), "role": role, "function": function}


def members(incident) -> dict:
    return {
        m.user.username: (m.role, m.function)
        for m in Membership.objects.active().filter(incident=incident).select_related("user")
    }


# --- The action ------------------------------------------------------------------------------


def test_the_lead_adds_several_people_in_one_step(incident, lead, committee):
    before = TimelineEntry.objects.filter(incident=incident).count()
    added = actions.cell_staff(
        incident=incident,
        actor=lead,
        people=[
            pick(incident, "David Keller", "approver", "communications"),
            pick(incident, "Sam Moreau", "drafter"),
            pick(incident, "Léa Martin", "spokesperson", "legal"),  # ignored: not an approver
        ],
    )
    assert [m.user.username for m in added] == ["david", "sam", "lea"]
    cell = members(incident)
    assert cell["david"] == ("approver", "communications")
    assert cell["sam"] == ("drafter", "")
    assert cell["lea"] == ("spokesperson", "")
    entries = TimelineEntry.objects.filter(incident=incident, seq__gt=before).order_by("seq")
    assert [(e.kind, e.data["username"]) for e in entries] == [
        (EntryKind.MEMBER_ADDED, "david"),
        (EntryKind.MEMBER_ADDED, "sam"),
        (EntryKind.MEMBER_ADDED, "lea"),
    ]


def test_all_or_nobody_and_every_problem_named(incident, lead, committee):
    actions.cell_staff(
        incident=incident, actor=lead, people=[pick(incident, "Sam Moreau", "drafter")]
    )
    before = members(incident)
    with pytest.raises(InvalidInput) as refused:
        actions.cell_staff(
            incident=incident,
            actor=lead,
            people=[
                pick(incident, "David Keller", "approver", "communications"),  # fine
                pick(incident, "Inès Bernard", "approver"),  # no function
                pick(incident, "Sam Moreau", "drafter"),  # already in
                pick(incident, "Paul Durand", "approver", "executive"),  # no account
                pick(incident, "Léa Martin", "lead"),  # the lead is handed over
                {"contact": 999_999, "role": "drafter"},  # not in the roster
            ],
        )
    details = [e["detail"] for e in refused.value.extra["problems"]]
    assert details == [
        "Choose what Inès Bernard approves (legal, communications…): approval policies ask "
        "for functions.",
        "Sam Moreau is already in the cell.",
        "Paul Durand has no account on this site under paul.durand@example.com: ask an "
        "administrator to create one.",
        "Choose a role for Léa Martin: drafter, approver, spokesperson or observer (the lead is "
        "handed over, not added).",
        "Person 999999 is not in this incident's roster.",
    ]
    assert refused.value.message.startswith("Nobody was added; 5 problems:")
    assert members(incident) == before  # David was not added either


def test_the_same_person_twice_and_an_empty_choice(incident, lead, committee):
    sam = pick(incident, "Sam Moreau", "drafter")
    with pytest.raises(InvalidInput, match="Sam Moreau is listed twice"):
        actions.cell_staff(incident=incident, actor=lead, people=[sam, sam])
    with pytest.raises(InvalidInput, match="Tick at least one person"):
        actions.cell_staff(incident=incident, actor=lead, people=[])


@pytest.mark.parametrize("persona", ["drafter", "approver", "spokesperson", "observer", "staff"])
def test_only_the_lead_staffs(request, incident, committee, persona):
    user = request.getfixturevalue(persona)
    with pytest.raises(NotAllowed, match="Only the lead can manage the cell"):
        actions.cell_staff(
            incident=incident, actor=user, people=[pick(incident, "Sam Moreau", "drafter")]
        )
    assert "sam" not in members(incident)


# --- The page ---------------------------------------------------------------------------------


def roster_page(client, incident):
    return client.get(f"/incidents/{incident.pk}/roster/")


def test_the_page_lists_the_roster_with_choices_prefilled(
    incident, lead, committee, browser_client
):
    page = roster_page(browser_client.as_user(lead), incident).content.decode()
    david = roster_id(incident, "David Keller")
    assert f'name="pick" value="{david}" id="pick-{david}" checked' in page
    assert re.search(rf'<select id="role-{david}".*?value="approver" selected', page, re.S)
    assert re.search(
        rf'<select id="function-{david}".*?value="communications" selected', page, re.S
    )
    # The lead is in the cell already; Paul has no account: shown, not selectable, and why.
    camille = roster_id(incident, "Camille Laurent")
    paul = roster_id(incident, "Paul Durand")
    assert f'value="{camille}"' not in page and f'value="{paul}"' not in page
    assert "Already in the cell: Lead" in page
    assert "No account on this site under paul.durand@example.com" in page
    assert set(MARKER.findall(page)) == {"staff_cell"}


def test_submitting_adds_everyone_ticked_and_returns_to_the_room(
    incident, lead, committee, browser_client
):
    ids = {name: roster_id(incident, name) for _u, name, _r, _f in COMMITTEE}
    data = {"pick": [ids["David Keller"], ids["Inès Bernard"], ids["Léa Martin"]]}
    for name, contact in ids.items():
        data[f"role-{contact}"] = dict((n, r) for _u, n, r, _f in COMMITTEE)[name]
        data[f"function-{contact}"] = dict((n, f) for _u, n, _r, f in COMMITTEE)[name]
    response = browser_client.as_user(lead).post(f"/incidents/{incident.pk}/roster/", data)
    assert response.status_code == 302 and response.url == f"/incidents/{incident.pk}/"
    cell = members(incident)
    assert cell["david"] == ("approver", "communications")
    assert cell["ines"] == ("approver", "legal")
    assert cell["lea"] == ("spokesperson", "")
    assert "sam" not in cell
    room = browser_client.get(response.url).content.decode()
    assert "3 people added to the cell." in room


def test_a_refusal_keeps_the_choices_and_says_who(incident, lead, committee, browser_client):
    ines, sam = roster_id(incident, "Inès Bernard"), roster_id(incident, "Sam Moreau")
    data = {
        "pick": [ines, sam],
        f"role-{ines}": "approver",
        f"function-{ines}": "",
        f"role-{sam}": "observer",
    }
    response = browser_client.as_user(lead).post(f"/incidents/{incident.pk}/roster/", data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Nobody was added; one problem:" in page
    assert "Choose what Inès Bernard approves" in page
    assert f'name="pick" value="{sam}" id="pick-{sam}" checked' in page
    assert re.search(rf'<select id="role-{sam}".*?value="observer" selected', page, re.S)
    assert "sam" not in members(incident)


@pytest.mark.parametrize("persona", ["drafter", "observer", "staff"])
def test_others_read_the_roster_without_controls(
    request, incident, committee, browser_client, api, persona
):
    user = request.getfixturevalue(persona)
    response = roster_page(browser_client.as_user(user), incident)
    assert response.status_code == 200
    page = response.content.decode()
    assert "David Keller" in page and 'name="pick"' not in page
    assert "data-action" not in page  # the page offers what the API says: nothing
    listed = api.as_user(user).get(f"/api/incidents/{incident.pk}/roster/").json()
    assert listed["available_actions"] == [] and len(listed["people"]) == len(COMMITTEE) + 1
    sam = roster_id(incident, "Sam Moreau")
    refused = browser_client.post(
        f"/incidents/{incident.pk}/roster/", {"pick": [sam], f"role-{sam}": "drafter"}
    )
    assert (
        refused.status_code == 422
        and "Only the lead can manage the cell" in refused.content.decode()
    )
    assert "sam" not in members(incident)


def test_outsiders_get_a_404(incident, committee, outsider, browser_client, api):
    assert roster_page(browser_client.as_user(outsider), incident).status_code == 404
    assert api.as_user(outsider).get(f"/api/incidents/{incident.pk}/roster/").status_code == 404


def test_the_room_links_to_the_roster_for_the_lead_only(incident, lead, drafter, browser_client):
    link = f'href="/incidents/{incident.pk}/roster/"'
    assert link in browser_client.as_user(lead).get(f"/incidents/{incident.pk}/").content.decode()
    assert (
        link
        not in browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/").content.decode()
    )


def test_an_incident_without_a_playbook_says_so(incident, lead, browser_client):
    page = roster_page(browser_client.as_user(lead), incident).content.decode()
    assert "This incident has no committee roster" in page


# --- The API ----------------------------------------------------------------------------------


def test_the_api_lists_the_roster_with_account_matches(incident, lead, committee, api):
    body = api.as_user(lead).get(f"/api/incidents/{incident.pk}/roster/").json()
    assert body["available_actions"] == ["staff_cell"]
    people = {p["name"]: p for p in body["people"]}
    assert list(people) == ["Camille Laurent"] + [name for _u, name, _r, _f in COMMITTEE]
    david = people["David Keller"]
    assert david["account"]["username"] == "david" and david["selectable"]
    assert (david["role"], david["function"], david["in_cell"]) == (
        "approver",
        "communications",
        None,
    )
    assert people["Camille Laurent"]["in_cell"]["role"] == "lead"
    assert not people["Camille Laurent"]["selectable"]
    assert people["Paul Durand"]["account"] is None and not people["Paul Durand"]["selectable"]


def test_the_api_staffs_and_reports_problems(incident, lead, committee, api, drafter):
    url = f"/api/incidents/{incident.pk}/roster/staff/"
    people = [
        pick(incident, "David Keller", "approver", "communications"),
        pick(incident, "Sam Moreau", "drafter"),
    ]
    refused = api.as_user(drafter).post(url, {"people": people}, format="json")
    assert refused.status_code == 403
    response = api.as_user(lead).post(url, {"people": people}, format="json")
    assert response.status_code == 201, response.content
    assert [
        (m["user"]["username"], m["role"], m["function"]) for m in response.json()["added"]
    ] == [
        ("david", "approver", "communications"),
        ("sam", "drafter", ""),
    ]
    again = api.as_user(lead).post(
        url,
        {
            "people": [
                pick(incident, "Sam Moreau", "drafter"),
                pick(incident, "Inès Bernard", "approver"),
            ]
        },
        format="json",
    )
    assert again.status_code == 400
    body = again.json()
    assert body["detail"].startswith("Nobody was added; 2 problems:")
    assert [e["contact"] for e in body["problems"]] == [
        roster_id(incident, "Sam Moreau"),
        roster_id(incident, "Inès Bernard"),
    ]
    lead_role = api.as_user(lead).post(
        url, {"people": [pick(incident, "Léa Martin", "lead")]}, format="json"
    )
    assert lead_role.status_code == 400 and "role" in lead_role.json()["detail"]
    assert "lea" not in members(incident)


# --- Reads cost the same whatever the roster's size --------------------------------------------


def grow(incident, make_user, count):
    start = IncidentContact.objects.filter(incident=incident).count()
    for n in range(start, start + count):
        make_user(f"member{n}", email=f"member{n}@example.com")
        IncidentContact.objects.create(
            incident=incident,
            kind="committee",
            order=100 + n,
            name=f"Member {n}",
            email=f"member{n}@example.com",
            role="drafter",
        )


def test_reads_do_not_grow_with_the_roster(
    incident, lead, committee, make_user, browser_client, api
):
    pages = browser_client.as_user(lead)
    client = api.as_user(lead)
    urls = {
        "page": (pages, f"/incidents/{incident.pk}/roster/"),
        "api": (client, f"/api/incidents/{incident.pk}/roster/"),
    }
    for c, url in urls.values():
        c.get(url)  # warm up (sessions, content types)
    small = {}
    for name, (c, url) in urls.items():
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        small[name] = len(ctx.captured_queries)
    grow(incident, make_user, 12)
    for name, (c, url) in urls.items():
        with CaptureQueriesContext(connection) as ctx:
            response = c.get(url)
        assert len(ctx.captured_queries) == small[name], name
    assert len(response.json()["people"]) == len(COMMITTEE) + 1 + 12


def test_staffing_costs_a_bounded_number_of_queries_per_person(
    incident, lead, committee, make_user
):
    grow(incident, make_user, 8)
    contacts = IncidentContact.objects.filter(incident=incident, name__startswith="Member ")
    people = [{"contact": c.pk, "role": "drafter"} for c in contacts]
    with CaptureQueriesContext(connection) as ctx:
        actions.cell_staff(incident=incident, actor=lead, people=people[:2])
    two = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        actions.cell_staff(incident=incident, actor=lead, people=people[2:8])
    six = len(ctx.captured_queries)
    per_person = (six - two) / 4
    # member_add: lock, role and membership checks, insert, its timeline entry (seq, insert,
    # signed head), the notice (bell row, preferences, chat targets, one outbox INSERT) and
    # the statements' "does a statement in review now wait on nobody" check.
    assert per_person <= 16
    assert six - 6 * per_person <= two  # the reads before adding anyone do not grow
