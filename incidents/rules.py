"""What a user may do on an incident now: the one answer used by the actions' guards, the
room's controls and the API (`available_actions`, `available_transitions`).

Built on `permissions` (who holds which role) and the lifecycle in `models.TRANSITIONS`.
Uses the incident's prefetched cell when it is there, so a page or a list asks no extra
query; the actions call it on the freshly locked row."""

from django.utils.translation import gettext as _

from . import permissions
from .errors import InvalidInput, NotAllowed, TransitionNotAllowed
from .models import REOPENING_FROM, TRANSITIONS, ApproverFunction, Incident, Role, Status

CHANGE_STATUS = "change_status"
REOPEN = "reopen"
CHANGE_SEVERITY = "change_severity"
EDIT_DETAILS = "edit_details"
MANAGE_CELL = "manage_cell"
HAND_OVER = "hand_over"
WRITE_TIMELINE = "write_timeline"

INCIDENT_ACTIONS = (
    CHANGE_STATUS,
    REOPEN,
    CHANGE_SEVERITY,
    EDIT_DETAILS,
    MANAGE_CELL,
    HAND_OVER,
    WRITE_TIMELINE,
)
# The actions the lead (or a superuser stepping in) holds.
LEAD_ACTIONS = (CHANGE_STATUS, REOPEN, CHANGE_SEVERITY, EDIT_DETAILS, MANAGE_CELL, HAND_OVER)
# The controls the room's header holds (it refreshes itself for whoever has one).
HEADER_ACTIONS = (CHANGE_STATUS, CHANGE_SEVERITY, EDIT_DETAILS)


def _refusals() -> dict[str, str]:
    return {
        CHANGE_STATUS: _("Only the lead can change the status."),
        REOPEN: _("Only the lead can change the status."),
        CHANGE_SEVERITY: _("Only the lead can change the severity."),
        EDIT_DETAILS: _("Only the lead can edit the incident."),
        MANAGE_CELL: _("Only the lead can manage the cell."),
        HAND_OVER: _("Only the lead can hand over leadership."),
        WRITE_TIMELINE: _(
            "Only members of the cell write the timeline; observers and staff outside the "
            "cell read it."
        ),
    }


def _is_reopening(incident: Incident, status: str) -> bool:
    return incident.status in REOPENING_FROM and status == Status.ACTIVE


def available_transitions(user, incident: Incident) -> list[str]:
    """The statuses this user may move the incident to now."""
    if not permissions.can_lead(user, incident):
        return []
    return list(TRANSITIONS[incident.status])


def available_actions(user, incident: Incident) -> list[str]:
    """The names, in INCIDENT_ACTIONS order, of what this user may do on the incident now."""
    names = set()
    if permissions.can_lead(user, incident):
        names.update(LEAD_ACTIONS)
        if not any(_is_reopening(incident, s) for s in TRANSITIONS[incident.status]):
            names.discard(REOPEN)
    if permissions.can_write_timeline(user, incident):
        names.add(WRITE_TIMELINE)
    return [name for name in INCIDENT_ACTIONS if name in names]


def require(user, incident: Incident, action: str) -> None:
    """Raise the action's NotAllowed unless `action` is open to this user."""
    if action == WRITE_TIMELINE:
        allowed = permissions.can_write_timeline(user, incident)
    else:
        allowed = permissions.can_lead(user, incident)
    if not allowed:
        raise NotAllowed(_refusals()[action])


def require_transition(user, incident: Incident, status: str) -> bool:
    """Check a move to `status`: False when the incident is already there (a double
    click, nothing to do); raises NotAllowed or TransitionNotAllowed when refused."""
    require(user, incident, CHANGE_STATUS)
    if status == incident.status:
        return False
    if status not in TRANSITIONS[incident.status]:
        raise TransitionNotAllowed(
            _("An incident cannot go from “%(old)s” to “%(new)s”.")
            % {"old": Status(incident.status).label, "new": Status(status).label}
        )
    return True


def transition_controls(user, incident: Incident) -> list[dict]:
    """The room's status buttons: each allowed target, whether it reopens the incident,
    and whether the move is weighty enough to ask for a confirmation."""
    weighty = (Status.RESOLVED, Status.CLOSED)
    return [
        {
            "status": status,
            "reopen": _is_reopening(incident, status),
            "confirm": status in weighty or incident.status in weighty,
        }
        for status in available_transitions(user, incident)
    ]


def manageable(user, incident: Incident, membership) -> bool:
    """May this user change the role of, or remove, this member? The lead's own row is
    changed by handing over leadership, never directly."""
    return membership.role != Role.LEAD and permissions.can_lead(user, incident)


def membership_function(role: str, function: str) -> str:
    """The approver function a cell membership with `role` carries: an approver signs off
    for exactly one function (an `ApproverFunction` value: legal, communications, executive,
    other), chosen explicitly so that an approval policy step asking for that function finds
    its approver; every other role carries none (returns "", whatever was given).

    The one rule of the page forms, the API serializers and the cell actions. Raises
    InvalidInput for an unknown role or function, or an approver without a function."""
    if role not in Role.values:
        raise InvalidInput(_("Unknown role: %(value)s") % {"value": role})
    if function and function not in ApproverFunction.values:
        raise InvalidInput(_("Unknown approver function: %(value)s") % {"value": function})
    if role != Role.APPROVER:
        return ""
    if not function:
        raise InvalidInput(
            _(
                "Choose what this approver signs off for: %(functions)s. Approval policies "
                "ask for these functions; without one, a statement may wait on nobody."
            )
            % {"functions": ", ".join(str(label) for label in ApproverFunction.labels)}
        )
    return function
