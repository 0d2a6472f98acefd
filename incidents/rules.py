"""What a user may do on an incident now: the one answer used by the actions' guards, the
room's controls and the API (`available_actions`, `available_transitions`).

Built on `permissions` (who holds which role) and the lifecycle in `models.TRANSITIONS`.
Uses the incident's prefetched cell when it is there, so a page or a list asks no extra
query; the actions call it on the freshly locked row."""

from django.utils.translation import gettext as _

from . import extensions, permissions
from .errors import InvalidInput, NotAllowed, TransitionNotAllowed
from .models import (
    REOPENING_FROM,
    TRANSITIONS,
    ApproverFunction,
    Incident,
    Role,
    Severity,
    Status,
)

CHANGE_STATUS = "change_status"
REOPEN = "reopen"
CHANGE_SEVERITY = "change_severity"
EDIT_DETAILS = "edit_details"
MANAGE_CELL = "manage_cell"
HAND_OVER = "hand_over"
WRITE_TIMELINE = "write_timeline"
# The promotion freeze: set it (while the incident is not closed) or lift it (whenever it
# holds). One of the two at most is open at a time.
FREEZE_PROMOTION = "freeze_promotion"
LIFT_PROMOTION_FREEZE = "lift_promotion_freeze"

INCIDENT_ACTIONS = (
    CHANGE_STATUS,
    REOPEN,
    CHANGE_SEVERITY,
    EDIT_DETAILS,
    MANAGE_CELL,
    HAND_OVER,
    WRITE_TIMELINE,
    FREEZE_PROMOTION,
    LIFT_PROMOTION_FREEZE,
)
# The actions the lead (or a superuser stepping in) holds.
LEAD_ACTIONS = (
    CHANGE_STATUS,
    REOPEN,
    CHANGE_SEVERITY,
    EDIT_DETAILS,
    MANAGE_CELL,
    HAND_OVER,
    FREEZE_PROMOTION,
    LIFT_PROMOTION_FREEZE,
)
# The controls the room's header holds (it refreshes itself for whoever has one).
HEADER_ACTIONS = (
    CHANGE_STATUS,
    CHANGE_SEVERITY,
    EDIT_DETAILS,
    FREEZE_PROMOTION,
    LIFT_PROMOTION_FREEZE,
)

# An incident declared at this severity or above starts with the promotion freeze on
# (high and critical: severity runs 1..4, higher is worse). Every declare path (the page,
# the API, from a listening signal) goes through `actions.incident_declare`, which asks
# `freeze_by_default`.
FREEZE_FROM_SEVERITY = Severity.HIGH


def freeze_by_default(severity: int) -> bool:
    """Whether an incident declared at this severity starts with the promotion freeze on."""
    return int(severity) >= FREEZE_FROM_SEVERITY


def _refusals() -> dict[str, str]:
    return {
        CHANGE_STATUS: _("Only the lead can change the status."),
        REOPEN: _("Only the lead can change the status."),
        CHANGE_SEVERITY: _("Only the lead can change the severity."),
        EDIT_DETAILS: _("Only the lead can edit the incident."),
        MANAGE_CELL: _("Only the lead can manage the cell."),
        HAND_OVER: _("Only the lead can hand over leadership."),
        FREEZE_PROMOTION: _("Only the lead can set or lift the promotion freeze."),
        LIFT_PROMOTION_FREEZE: _("Only the lead can set or lift the promotion freeze."),
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
        names -= _closed_freeze_actions(incident)
    if permissions.can_write_timeline(user, incident):
        names.add(WRITE_TIMELINE)
    return [name for name in INCIDENT_ACTIONS if name in names]


def _closed_freeze_actions(incident: Incident) -> set[str]:
    """The freeze actions the incident's state closes: setting while one holds or once the
    incident is closed; lifting while none holds."""
    if incident.promotion_frozen_at is not None:
        return {FREEZE_PROMOTION}
    if incident.status == Status.CLOSED:
        return {FREEZE_PROMOTION, LIFT_PROMOTION_FREEZE}
    return {LIFT_PROMOTION_FREEZE}


def require_freeze_change(user, incident: Incident, frozen: bool) -> bool:
    """Check setting (`frozen`) or lifting the promotion freeze: False when it is already in
    that state (a double click, nothing to do); raises NotAllowed for anyone but the lead,
    TransitionNotAllowed for a freeze set on a closed incident."""
    require(user, incident, FREEZE_PROMOTION if frozen else LIFT_PROMOTION_FREEZE)
    if frozen == (incident.promotion_frozen_at is not None):
        return False
    if frozen and incident.status == Status.CLOSED:
        raise TransitionNotAllowed(_("A closed incident cannot set a promotion freeze."))
    return True


def require(user, incident: Incident, action: str) -> None:
    """Raise the action's NotAllowed unless `action` is open to this user."""
    if action == WRITE_TIMELINE:
        allowed = permissions.can_write_timeline(user, incident)
    else:
        allowed = permissions.can_lead(user, incident)
    if not allowed:
        raise NotAllowed(_refusals()[action])


def requirement(action: str):
    """`require` for one action, as a check `(user, incident) -> None` (raising NotAllowed):
    what a page of that action asks (shortcuts.incident_or_404's `require`)."""
    return lambda user, incident: require(user, incident, action)


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
    refusal = extensions.transition_refusal(incident, status)  # the apps above (crisis page)
    if refusal:
        raise TransitionNotAllowed(refusal)
    return True


# Moves the room confirms on the server, naming what is still open (views.change_status).
ENDING = (Status.RESOLVED, Status.CLOSED)


def transition_controls(user, incident: Incident) -> list[dict]:
    """The room's status buttons: each allowed target, whether it reopens the incident,
    and whether the browser asks first (reopening; resolving and closing are asked by the
    server, which names what is still open)."""
    return [
        {
            "status": status,
            "reopen": _is_reopening(incident, status),
            "confirm": incident.status in ENDING and status not in ENDING,
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
