import pytest

from incidents import actions, permissions, selectors
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import EntryKind, Membership, Role, TimelineEntry


def last_entry(incident):
    return TimelineEntry.objects.filter(incident=incident).last()


def test_adding_a_member_records_who_added_whom(incident, lead, make_user):
    newcomer = make_user("legal2")
    membership = actions.member_add(
        incident=incident, actor=lead, user=newcomer, role="approver", function="legal"
    )
    assert (membership.added_by, membership.role, membership.left_at) == (lead, "approver", None)
    assert membership.function == "legal"
    entry = last_entry(incident)
    assert entry.kind == EntryKind.MEMBER_ADDED
    assert entry.data["user"] == newcomer.pk and entry.data["role"] == "approver"


def test_a_person_holds_one_role_at_a_time(incident, lead, drafter):
    with pytest.raises(InvalidInput):
        actions.member_add(
            incident=incident, actor=lead, user=drafter, role="approver", function="legal"
        )


def test_lead_role_cannot_be_added_only_handed_over(incident, lead, make_user):
    with pytest.raises(InvalidInput):
        actions.member_add(incident=incident, actor=lead, user=make_user(), role="lead")


def test_deactivated_accounts_cannot_join(incident, lead, make_user):
    with pytest.raises(InvalidInput):
        actions.member_add(
            incident=incident, actor=lead, user=make_user(is_active=False), role="observer"
        )


@pytest.mark.parametrize("persona", ["drafter", "approver", "spokesperson", "observer"])
def test_only_the_lead_manages_the_cell(incident, persona, request, make_user):
    user = request.getfixturevalue(persona)
    with pytest.raises(NotAllowed):
        actions.member_add(incident=incident, actor=user, user=make_user(), role="observer")
    with pytest.raises(NotAllowed):
        actions.member_remove(
            incident=incident, actor=user, user=request.getfixturevalue("drafter")
        )


def test_changing_a_role_keeps_the_old_membership_as_history(incident, lead, drafter):
    actions.member_change_role(incident=incident, actor=lead, user=drafter, role="spokesperson")
    rows = list(Membership.objects.filter(incident=incident, user=drafter).order_by("id"))
    assert [(m.role, m.left_at is None) for m in rows] == [
        ("drafter", False),
        ("spokesperson", True),
    ]
    assert last_entry(incident).data["old"] == "drafter"


def test_removing_a_member_ends_the_membership_and_their_access(incident, lead, drafter):
    actions.member_remove(incident=incident, actor=lead, user=drafter)
    row = Membership.objects.get(incident=incident, user=drafter)
    assert row.left_at is not None and row.removed_by == lead
    assert last_entry(incident).kind == EntryKind.MEMBER_REMOVED
    assert not permissions.can_view(drafter, incident)
    assert not selectors.incidents_visible_to(drafter).exists()


def test_the_lead_cannot_be_removed_or_demoted(incident, lead):
    with pytest.raises(InvalidInput):
        actions.member_remove(incident=incident, actor=lead, user=lead)
    with pytest.raises(InvalidInput):
        actions.member_change_role(incident=incident, actor=lead, user=lead, role="observer")


def test_handing_over_leaves_exactly_one_lead_and_is_logged(incident, lead, approver):
    actions.lead_hand_over(
        incident=incident, actor=lead, to_user=approver, former_lead_role="observer"
    )
    leads = Membership.objects.active().filter(incident=incident, role=Role.LEAD)
    assert [m.user for m in leads] == [approver]
    assert permissions.active_role(lead, incident) == "observer"
    entry = last_entry(incident)
    assert entry.kind == EntryKind.LEAD_HANDED_OVER and entry.key_event
    assert entry.data["old"]["user"] == lead.pk and entry.data["new"]["user"] == approver.pk
    assert entry.data["new_lead_previous_role"] == "approver"
    # The former lead no longer controls the incident; the new one does.
    with pytest.raises(NotAllowed):
        actions.incident_transition(incident=incident, actor=lead, status="active")
    actions.incident_transition(incident=incident, actor=approver, status="active")


def test_handing_over_to_someone_outside_the_cell_adds_them(incident, lead, outsider):
    actions.lead_hand_over(incident=incident, actor=lead, to_user=outsider)
    assert permissions.active_role(outsider, incident) == "lead"
    assert permissions.active_role(lead, incident) == "drafter"


def test_role_change_to_lead_is_a_hand_over(incident, lead, drafter):
    actions.member_change_role(incident=incident, actor=lead, user=drafter, role="lead")
    assert permissions.active_role(drafter, incident) == "lead"
    assert last_entry(incident).kind == EntryKind.LEAD_HANDED_OVER


def test_staff_see_every_incident_but_others_only_their_cells(incident, staff, outsider, lead):
    assert list(selectors.incidents_visible_to(staff)) == [incident]
    assert list(selectors.incidents_visible_to(lead)) == [incident]
    assert not selectors.incidents_visible_to(outsider).exists()
