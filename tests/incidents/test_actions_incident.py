from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import actions
from incidents.errors import InvalidInput, NotAllowed, TransitionNotAllowed
from incidents.models import EntryKind, Membership, Role, Status, TimelineEntry


def kinds(incident):
    return list(TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True))


def test_declaring_makes_the_declarer_lead_and_records_it(declare, lead):
    incident = declare(summary="Screenshot is everywhere")
    assert incident.status == Status.DETECTED
    lead_row = Membership.objects.active().get(incident=incident)
    assert (lead_row.user, lead_row.role, lead_row.added_by) == (lead, Role.LEAD, lead)
    entry = TimelineEntry.objects.get(incident=incident)
    assert (entry.seq, entry.kind, entry.key_event, entry.actor) == (1, "declared", True, lead)
    assert entry.data["severity"] == 2 and entry.text == "Screenshot is everywhere"


def test_golden_hour_defaults_to_sixty_minutes_and_severity_shortens_it(declare):
    moderate = declare(severity=2)
    critical = declare(severity=4)
    assert moderate.first_response_due_at - moderate.declared_at == timedelta(minutes=60)
    assert critical.first_response_due_at - critical.declared_at == timedelta(minutes=15)


def test_raising_severity_shortens_the_pending_deadline_and_is_logged(declare, lead):
    incident = declare(severity=2)
    incident = actions.incident_set_severity(incident=incident, actor=lead, severity=3)
    assert incident.first_response_due_at - incident.declared_at == timedelta(minutes=30)
    entry = TimelineEntry.objects.filter(incident=incident).last()
    assert entry.kind == EntryKind.SEVERITY_CHANGED
    assert entry.data["old"] == 2 and entry.data["new"] == 3 and entry.key_event


def test_declaring_with_activation_starts_active(declare):
    incident = declare(activate=True)
    assert incident.status == Status.ACTIVE and incident.active_at is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "   "),
        ("category", "volcano"),
        ("origin", "moon"),
        ("platforms", ["myspace"]),
        ("severity", 9),
        ("detected_at", "future"),
    ],
)
def test_declaring_with_bad_input_writes_nothing(declare, field, value):
    if value == "future":
        value = timezone.now() + timedelta(days=1)
    with pytest.raises(InvalidInput):
        declare(**{field: value})
    assert not TimelineEntry.objects.exists()
    assert not Membership.objects.exists()


def test_lifecycle_walks_forward_with_a_timestamp_per_status(incident, lead):
    for status in ["active", "monitoring", "resolved", "closed"]:
        incident = actions.incident_transition(incident=incident, actor=lead, status=status)
        assert incident.status == status
        assert getattr(incident, f"{status}_at") is not None
    assert kinds(incident)[-4:] == ["status_changed"] * 4


def test_illegal_transition_is_refused_and_not_logged(incident, lead):
    before = kinds(incident)
    with pytest.raises(TransitionNotAllowed):
        actions.incident_transition(incident=incident, actor=lead, status="monitoring")
    incident.refresh_from_db()
    assert incident.status == Status.DETECTED and kinds(incident) == before


def test_reopening_a_closed_incident_is_allowed_and_logged_as_reopened(incident, lead):
    for status in ["active", "resolved", "closed", "active"]:
        actions.incident_transition(incident=incident, actor=lead, status=status)
    entry = TimelineEntry.objects.filter(incident=incident).last()
    assert entry.kind == EntryKind.REOPENED
    assert entry.data == {"old": "closed", "new": "active"} and entry.key_event


def test_asking_for_the_current_status_again_changes_nothing(incident, lead):
    actions.incident_transition(incident=incident, actor=lead, status="active")
    before = kinds(incident)
    actions.incident_transition(incident=incident, actor=lead, status="active")
    assert kinds(incident) == before


@pytest.mark.parametrize("persona", ["drafter", "approver", "spokesperson", "observer", "staff"])
def test_only_the_lead_changes_status_and_severity(incident, persona, request):
    user = request.getfixturevalue(persona)
    with pytest.raises(NotAllowed):
        actions.incident_transition(incident=incident, actor=user, status="active")
    with pytest.raises(NotAllowed):
        actions.incident_set_severity(incident=incident, actor=user, severity=4)
    incident.refresh_from_db()
    assert (incident.status, incident.severity) == ("detected", 2)


def test_a_superuser_can_step_in_as_lead(incident, make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    actions.incident_transition(incident=incident, actor=admin, status="active")
    incident.refresh_from_db()
    assert incident.status == "active"


def test_editing_details_logs_old_and_new_values(incident, lead):
    actions.incident_update(
        incident=incident, actor=lead, title="New title", platforms=["x", "tiktok", "x"]
    )
    incident.refresh_from_db()
    assert incident.title == "New title" and incident.platforms == ["x", "tiktok"]
    entry = TimelineEntry.objects.filter(incident=incident).last()
    assert entry.kind == EntryKind.UPDATED
    assert entry.data["title"] == {
        "old": "Insensitive post on the brand account",
        "new": "New title",
    }
    assert entry.data["platforms"]["new"] == ["x", "tiktok"]


def test_editing_without_change_writes_no_entry(incident, lead):
    before = kinds(incident)
    actions.incident_update(incident=incident, actor=lead, title=incident.title)
    assert kinds(incident) == before


def test_severity_and_status_are_not_editable_as_details(incident, lead):
    with pytest.raises(InvalidInput):
        actions.incident_update(incident=incident, actor=lead, status="closed")
