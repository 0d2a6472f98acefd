"""The crisis cell endpoints: list, add, change role, hand over leadership, remove."""

import pytest
from django.utils import timezone

from incidents import actions
from incidents.models import Incident, Membership, TimelineEntry
from tests.helpers import assert_error, dt


def members_url(incident):
    return f"/api/incidents/{incident.pk}/members/"


def member_url(incident, user):
    return f"/api/incidents/{incident.pk}/members/{user.pk}/"


def cell(incident):
    """The active cell as {username: role}."""
    return dict(
        Membership.objects.active().filter(incident=incident).values_list("user__username", "role")
    )


def state(incident):
    """Every membership row and every timeline entry: what a refused write must not touch."""
    return (
        list(Membership.objects.filter(incident=incident).order_by("id").values()),
        list(TimelineEntry.objects.filter(incident=incident).values_list("seq", "hash")),
    )


def new_entries(incident, after_seq):
    return list(TimelineEntry.objects.filter(incident=incident, seq__gt=after_seq).order_by("seq"))


def last_seq(incident):
    return TimelineEntry.objects.filter(incident=incident).order_by("-seq").first().seq


FULL_CELL = {
    "lead": "lead",
    "drafter": "drafter",
    "approver": "approver",
    "spokesperson": "spokesperson",
    "observer": "observer",
}


# --- List --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["lead", "drafter", "observer", "staff"])
def test_members_and_staff_read_the_active_cell(api, incident, persona, request, lead):
    response = api.as_user(request.getfixturevalue(persona)).get(members_url(incident))

    assert response.status_code == 200, response.content
    body = response.json()
    assert {m["user"]["username"]: m["role"] for m in body} == FULL_CELL
    [lead_item] = [m for m in body if m["role"] == "lead"]
    assert lead_item["user"] == {"id": lead.pk, "username": "lead", "name": "Camille Laurent"}
    assert lead_item["role_label"] == "Lead"
    assert all(m["left_at"] is None for m in body)
    assert all(m["added_by"]["id"] == lead.pk for m in body)


def test_member_list_item_shape(api, incident, lead, observer):
    body = api.as_user(lead).get(members_url(incident)).json()

    item = next(m for m in body if m["user"]["id"] == observer.pk)
    assert set(item) == {
        "user",
        "role",
        "role_label",
        "function",
        "added_by",
        "added_at",
        "left_at",
    }
    assert item["role_label"] == "Observer (read-only)" and item["function"] == ""
    membership = Membership.objects.get(incident=incident, user=observer)
    assert dt(item["added_at"]) == membership.added_at


def test_outsider_gets_404_on_member_list(api, incident, outsider):
    response = api.as_user(outsider).get(members_url(incident))

    assert_error(response, 404)
    assert "drafter" not in response.text


def test_history_true_includes_ended_memberships(api, incident, lead, drafter, observer):
    actions.member_remove(incident=incident, actor=lead, user=observer)
    actions.member_change_role(
        incident=incident, actor=lead, user=drafter, role="approver", function="legal"
    )

    active = api.as_user(lead).get(members_url(incident)).json()
    history = api.as_user(lead).get(members_url(incident), {"history": "true"}).json()

    assert observer.pk not in [m["user"]["id"] for m in active]
    assert len(active) == 4
    assert len(history) == 6  # five original rows (two now ended) + drafter's approver row
    ended = [(m["user"]["username"], m["role"]) for m in history if m["left_at"] is not None]
    assert sorted(ended) == [("drafter", "drafter"), ("observer", "observer")]
    current = [(m["user"]["username"], m["role"]) for m in history if m["left_at"] is None]
    assert ("drafter", "approver") in current
    assert len(history) == Membership.objects.filter(incident=incident).count()


def test_history_false_is_the_active_cell(api, incident, lead, observer):
    actions.member_remove(incident=incident, actor=lead, user=observer)

    body = api.as_user(lead).get(members_url(incident), {"history": "false"}).json()

    assert {m["user"]["username"] for m in body} == set(FULL_CELL) - {"observer"}


# --- Add ---------------------------------------------------------------------------------


def test_lead_adds_a_member(api, incident, lead, make_user):
    newcomer = make_user("legal2", first_name="Noor", last_name="Haddad")
    seq = last_seq(incident)
    before = timezone.now()

    response = api.as_user(lead).post(
        members_url(incident),
        {"user": newcomer.pk, "role": "approver", "function": "legal"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"] == {"id": newcomer.pk, "username": "legal2", "name": "Noor Haddad"}
    assert body["role"] == "approver"
    assert body["added_by"]["id"] == lead.pk
    assert body["left_at"] is None
    membership = Membership.objects.active().get(incident=incident, user=newcomer)
    assert (membership.role, membership.added_by) == ("approver", lead)
    assert before <= membership.added_at <= timezone.now()
    [entry] = new_entries(incident, seq)
    assert (entry.kind, entry.actor) == ("member_added", lead)
    assert entry.data["user"] == newcomer.pk
    assert entry.data["role"] == "approver"


def test_added_member_gains_access(api, incident, lead, outsider):
    assert api.as_user(outsider).get(f"/api/incidents/{incident.pk}/").status_code == 404

    api.as_user(lead).post(
        members_url(incident), {"user": outsider.pk, "role": "observer"}, format="json"
    )

    response = api.as_user(outsider).get(f"/api/incidents/{incident.pk}/")
    assert response.status_code == 200
    assert response.json()["my_role"] == "observer"


def test_adding_an_existing_member_gets_400_and_writes_nothing(api, incident, lead, drafter):
    before = state(incident)

    response = api.as_user(lead).post(
        members_url(incident), {"user": drafter.pk, "role": "observer"}, format="json"
    )

    assert "already" in assert_error(response, 400)
    assert state(incident) == before
    assert cell(incident)["drafter"] == "drafter"


def test_adding_someone_as_lead_gets_400(api, incident, lead, outsider):
    before = state(incident)

    response = api.as_user(lead).post(
        members_url(incident), {"user": outsider.pk, "role": "lead"}, format="json"
    )

    assert assert_error(response, 400).startswith("role:")
    assert state(incident) == before
    assert not Membership.objects.filter(incident=incident, user=outsider).exists()


@pytest.mark.parametrize(
    ("make_payload", "field"),
    [
        (lambda user: {"role": "observer"}, "user"),
        (lambda user: {"user": 999_999, "role": "observer"}, "user"),
        (lambda user: {"user": "abc", "role": "observer"}, "user"),
        (lambda user: {"user": user.pk}, "role"),
        (lambda user: {"user": user.pk, "role": "janitor"}, "role"),
    ],
    ids=["missing-user", "unknown-user", "non-numeric-user", "missing-role", "unknown-role"],
)
def test_adding_with_bad_input_gets_400_naming_the_field(
    api, incident, lead, outsider, make_payload, field
):
    before = state(incident)

    response = api.as_user(lead).post(members_url(incident), make_payload(outsider), format="json")

    assert assert_error(response, 400).startswith(f"{field}:")
    assert field in response.json()["errors"]
    assert state(incident) == before


def test_adding_a_deactivated_account_gets_400(api, incident, lead, make_user):
    gone = make_user("gone", is_active=False)
    before = state(incident)

    response = api.as_user(lead).post(
        members_url(incident), {"user": gone.pk, "role": "observer"}, format="json"
    )

    assert_error(response, 400)
    assert state(incident) == before


@pytest.mark.parametrize("persona", ["drafter", "approver", "spokesperson", "observer", "staff"])
def test_non_lead_gets_403_when_adding_a_member(api, incident, outsider, persona, request):
    before = state(incident)

    response = api.as_user(request.getfixturevalue(persona)).post(
        members_url(incident), {"user": outsider.pk, "role": "observer"}, format="json"
    )

    assert_error(response, 403)
    assert state(incident) == before


def test_outsider_gets_404_when_adding_themself(api, incident, outsider):
    before = state(incident)

    response = api.as_user(outsider).post(
        members_url(incident), {"user": outsider.pk, "role": "drafter"}, format="json"
    )

    assert_error(response, 404)
    assert state(incident) == before


def test_removed_member_can_be_added_back_and_history_keeps_both_rows(
    api, incident, lead, observer
):
    api.as_user(lead).delete(member_url(incident, observer))

    response = api.as_user(lead).post(
        members_url(incident), {"user": observer.pk, "role": "drafter"}, format="json"
    )

    assert response.status_code == 201, response.content
    rows = Membership.objects.filter(incident=incident, user=observer).order_by("id")
    assert [(m.role, m.left_at is None) for m in rows] == [("observer", False), ("drafter", True)]
    history = api.as_user(lead).get(members_url(incident), {"history": "true"}).json()
    assert [m["role"] for m in history if m["user"]["id"] == observer.pk] == [
        "drafter",
        "observer",
    ]


# --- Change role -------------------------------------------------------------------------


def test_lead_changes_a_members_role_keeping_the_old_row(api, incident, lead, drafter):
    seq = last_seq(incident)
    old_row = Membership.objects.active().get(incident=incident, user=drafter)

    response = api.as_user(lead).patch(
        member_url(incident, drafter), {"role": "approver", "function": "legal"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["role"] == "approver"
    assert response.json()["user"]["id"] == drafter.pk
    old_row.refresh_from_db()
    assert old_row.left_at is not None
    assert old_row.removed_by == lead
    assert cell(incident)["drafter"] == "approver"
    [entry] = new_entries(incident, seq)
    assert entry.kind == "role_changed"
    assert (entry.data["old"], entry.data["new"]) == ("drafter", "approver")


def test_changing_to_the_same_role_is_a_no_op(api, incident, lead, drafter):
    before = state(incident)

    response = api.as_user(lead).patch(
        member_url(incident, drafter), {"role": "drafter"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["role"] == "drafter"
    assert state(incident) == before


def test_role_change_is_effective_immediately(api, incident, lead, observer):
    api.as_user(lead).patch(member_url(incident, observer), {"role": "drafter"}, format="json")

    response = api.as_user(observer).post(
        f"/api/incidents/{incident.pk}/timeline/", {"kind": "note", "text": "Hi"}, format="json"
    )

    assert response.status_code == 201, response.content


def test_patch_role_lead_hands_over_leadership(api, incident, lead, approver):
    seq = last_seq(incident)

    response = api.as_user(lead).patch(
        member_url(incident, approver), {"role": "lead"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["role"] == "lead"
    assert response.json()["user"]["id"] == approver.pk
    leads = Membership.objects.active().filter(incident=incident, role="lead")
    assert [m.user for m in leads] == [approver]
    assert cell(incident)["lead"] == "drafter"  # the former lead stays, as drafter
    assert Membership.objects.active().filter(incident=incident).count() == 5
    [entry] = new_entries(incident, seq)
    assert (entry.kind, entry.actor, entry.key_event) == ("lead_handed_over", lead, True)
    assert entry.data["old"]["user"] == lead.pk
    assert entry.data["new"]["user"] == approver.pk
    assert entry.data["new_lead_previous_role"] == "approver"
    detail = api.as_user(lead).get(f"/api/incidents/{incident.pk}/").json()
    assert detail["lead"]["id"] == approver.pk
    assert detail["my_role"] == "drafter"


def test_after_hand_over_only_the_new_lead_can_lead(api, incident, lead, drafter):
    api.as_user(lead).patch(member_url(incident, drafter), {"role": "lead"}, format="json")
    transition = f"/api/incidents/{incident.pk}/transition/"

    refused = api.as_user(lead).post(transition, {"status": "active"}, format="json")
    accepted = api.as_user(drafter).post(transition, {"status": "active"}, format="json")

    assert_error(refused, 403)
    assert accepted.status_code == 200, accepted.content
    assert Incident.objects.get(pk=incident.pk).status == "active"


def test_handing_over_to_the_current_lead_changes_nothing(api, incident, lead):
    before = state(incident)

    response = api.as_user(lead).patch(member_url(incident, lead), {"role": "lead"}, format="json")

    assert response.status_code == 200
    assert response.json()["role"] == "lead"
    assert state(incident) == before


def test_lead_cannot_demote_themself_without_handing_over(api, incident, lead):
    before = state(incident)

    response = api.as_user(lead).patch(
        member_url(incident, lead), {"role": "observer"}, format="json"
    )

    assert "lead" in assert_error(response, 400).lower()
    assert state(incident) == before


@pytest.mark.parametrize("role", ["boss", ""])
def test_unknown_role_in_patch_gets_400(api, incident, lead, drafter, role):
    before = state(incident)

    response = api.as_user(lead).patch(member_url(incident, drafter), {"role": role}, format="json")

    assert assert_error(response, 400).startswith("role:")
    assert state(incident) == before


@pytest.mark.parametrize("persona", ["drafter", "observer", "approver", "staff"])
@pytest.mark.parametrize("role", ["observer", "lead"])
def test_non_lead_gets_403_when_changing_roles(api, incident, spokesperson, persona, role, request):
    before = state(incident)

    response = api.as_user(request.getfixturevalue(persona)).patch(
        member_url(incident, spokesperson), {"role": role}, format="json"
    )

    assert_error(response, 403)
    assert state(incident) == before


def test_observer_cannot_take_the_lead_for_themself(api, incident, observer):
    before = state(incident)

    response = api.as_user(observer).patch(
        member_url(incident, observer), {"role": "lead"}, format="json"
    )

    assert_error(response, 403)
    assert state(incident) == before


def test_outsider_gets_404_when_changing_roles(api, incident, outsider, drafter):
    before = state(incident)

    response = api.as_user(outsider).patch(
        member_url(incident, drafter), {"role": "observer"}, format="json"
    )

    assert_error(response, 404)
    assert state(incident) == before


def test_changing_the_role_of_a_non_member_gets_404(api, incident, lead, outsider):
    before = state(incident)

    response = api.as_user(lead).patch(
        member_url(incident, outsider), {"role": "lead"}, format="json"
    )

    assert_error(response, 404)
    assert state(incident) == before


# --- Remove ------------------------------------------------------------------------------


def test_lead_removes_a_member_and_the_row_is_kept(api, incident, lead, spokesperson):
    seq = last_seq(incident)
    row = Membership.objects.active().get(incident=incident, user=spokesperson)
    before = timezone.now()

    response = api.as_user(lead).delete(member_url(incident, spokesperson))

    assert response.status_code == 204
    assert response.content == b""
    row.refresh_from_db()
    assert row.left_at is not None
    assert before <= row.left_at <= timezone.now()
    assert row.removed_by == lead
    assert row.role == "spokesperson"
    assert "spokesperson" not in cell(incident)
    [entry] = new_entries(incident, seq)
    assert (entry.kind, entry.actor) == ("member_removed", lead)
    assert entry.data["user"] == spokesperson.pk
    assert entry.data["role"] == "spokesperson"
    history = api.as_user(lead).get(members_url(incident), {"history": "true"}).json()
    [ended] = [m for m in history if m["user"]["id"] == spokesperson.pk]
    assert dt(ended["left_at"]) == row.left_at


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/incidents/{pk}/"),
        ("get", "/api/incidents/{pk}/members/"),
        ("get", "/api/incidents/{pk}/timeline/"),
        ("post", "/api/incidents/{pk}/timeline/"),
    ],
)
def test_removed_member_loses_access(api, incident, lead, drafter, method, path):
    api.as_user(lead).delete(member_url(incident, drafter))
    url = path.format(pk=incident.pk)
    seq = last_seq(incident)

    response = getattr(api.as_user(drafter), method)(
        url, {"kind": "note", "text": "still here?"} if method == "post" else None, format="json"
    )

    assert_error(response, 404)
    assert new_entries(incident, seq) == []


def test_removed_member_no_longer_appears_in_the_incident_list(api, incident, lead, drafter):
    api.as_user(lead).delete(member_url(incident, drafter))

    assert api.as_user(drafter).get("/api/incidents/").json()["results"] == []


def test_the_lead_cannot_be_removed(api, incident, lead):
    before = state(incident)

    response = api.as_user(lead).delete(member_url(incident, lead))

    assert "lead" in assert_error(response, 400).lower()
    assert state(incident) == before
    assert cell(incident)["lead"] == "lead"


@pytest.mark.parametrize("persona", ["drafter", "observer", "approver", "spokesperson", "staff"])
def test_non_lead_gets_403_when_removing_a_member(api, incident, observer, persona, request):
    target = observer if persona != "observer" else request.getfixturevalue("drafter")
    before = state(incident)

    response = api.as_user(request.getfixturevalue(persona)).delete(member_url(incident, target))

    assert_error(response, 403)
    assert state(incident) == before


def test_member_cannot_remove_themself(api, incident, drafter):
    before = state(incident)

    response = api.as_user(drafter).delete(member_url(incident, drafter))

    assert_error(response, 403)
    assert state(incident) == before


def test_outsider_gets_404_when_removing_a_member(api, incident, outsider, drafter):
    before = state(incident)

    response = api.as_user(outsider).delete(member_url(incident, drafter))

    assert_error(response, 404)
    assert state(incident) == before


def test_removing_someone_already_removed_gets_404(api, incident, lead, observer):
    api.as_user(lead).delete(member_url(incident, observer))
    before = state(incident)

    response = api.as_user(lead).delete(member_url(incident, observer))

    assert_error(response, 404)
    assert state(incident) == before


def test_member_detail_does_not_allow_get_or_put(api, incident, lead, drafter):
    assert_error(api.as_user(lead).get(member_url(incident, drafter)), 405)
    assert_error(
        api.as_user(lead).put(member_url(incident, drafter), {"role": "observer"}, format="json"),
        405,
    )
    assert cell(incident)["drafter"] == "drafter"


def test_an_approver_is_added_with_the_function_they_sign_off_for(api, incident, lead, make_user):
    legal = make_user("legal")
    response = api.as_user(lead).post(
        members_url(incident), {"user": legal.pk, "role": "approver", "function": "legal"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["function"] == "legal"
    assert Membership.objects.active().get(incident=incident, user=legal).function == "legal"


def test_changing_only_the_function_keeps_history(api, incident, lead, approver):
    response = api.as_user(lead).patch(
        member_url(incident, approver), {"role": "approver", "function": "communications"}
    )
    assert response.status_code == 200, response.content
    rows = Membership.objects.filter(incident=incident, user=approver).order_by("id")
    assert [(m.function, m.left_at is None) for m in rows] == [
        ("other", False),
        ("communications", True),
    ]


def test_non_approvers_carry_no_function(api, incident, lead, make_user):
    user = make_user()
    api.as_user(lead).post(
        members_url(incident), {"user": user.pk, "role": "drafter", "function": "legal"}
    )
    assert Membership.objects.active().get(incident=incident, user=user).function == ""
