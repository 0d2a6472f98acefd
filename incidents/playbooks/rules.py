"""What a user may do with a task now: the one rule behind the task actions' guards, the
room's task board and the task API's `available_actions`. Built on
`incidents.permissions`; uses the incident's prefetched cell when it is there."""

from django.contrib.auth import get_permission_codename
from django.utils.translation import gettext as _

from incidents import permissions
from incidents import rules as incident_rules
from incidents.errors import InvalidInput, TransitionNotAllowed, require

from .models import Playbook, Task, TaskStatus

COMPLETE = "complete"
ASSIGN = "assign"  # give the task to anyone of the cell who can act, or unassign it
TAKE = "take"  # assign the task to yourself
RELEASE = "release"  # give back a task assigned to you
TASK_ACTIONS = (COMPLETE, ASSIGN, TAKE, RELEASE)


def available_actions(user, task: Task, *, incident=None) -> list[str]:
    """The actions, in TASK_ACTIONS order, this user may take on the task now. Pass the
    incident with its prefetched cell (e.g. the room's) to spare a query per task."""
    incident = incident or task.incident
    if task.status != TaskStatus.OPEN or not permissions.can_write_timeline(user, incident):
        return []
    names = [COMPLETE]
    if permissions.can_lead(user, incident):
        names.append(ASSIGN)
    names.append(RELEASE if task.assignee_id == user.pk else TAKE)
    return names


def check_complete(user, task: Task, incident) -> None:
    require(permissions.can_write_timeline(user, incident), _("Observers cannot complete tasks."))
    if task.status != TaskStatus.OPEN:
        raise TransitionNotAllowed(_("This task is done already."))


def check_assign(user, task: Task, incident, assignee) -> bool:
    """Assigning yourself is `take`, unassigning yourself `release`, anything else about
    others is the lead's `assign`. False when the task already has this assignee (no-op);
    raises the refusal otherwise."""
    require(
        permissions.can_write_timeline(user, incident),
        _("Observers cannot take or assign tasks."),
    )
    if assignee is not None:
        if assignee != user:
            require(permissions.can_lead(user, incident), _("Only the lead assigns others."))
        if not permissions.can_write_timeline(assignee, incident):
            raise InvalidInput(_("Tasks go to members of the cell who can act (not observers)."))
    elif task.assignee_id not in (None, user.pk):
        require(permissions.can_lead(user, incident), _("Only the lead unassigns others."))
    if task.status != TaskStatus.OPEN:
        raise TransitionNotAllowed(_("This task is done already."))
    return task.assignee_id != (assignee.pk if assignee else None)


# --- The committee roster: staffing the cell from it ---------------------------------------

STAFF_CELL = "staff_cell"  # add several people of the roster to the cell at once
ROSTER_ACTIONS = (STAFF_CELL,)


def roster_actions(user, incident) -> list[str]:
    """What this user may do with the incident's roster now (the roster page's controls
    and the roster API's `available_actions`): staffing is managing the cell, the lead's."""
    allowed = incident_rules.MANAGE_CELL in incident_rules.available_actions(user, incident)
    return [STAFF_CELL] if allowed else []


def check_staff(user, incident) -> None:
    """Raise the core's refusal unless the user may manage the cell (on the locked row)."""
    incident_rules.require(user, incident, incident_rules.MANAGE_CELL)


# --- The playbook library: who may import files and mark playbooks reviewed ---------------


def _playbook_permission(action: str) -> str:
    opts = Playbook._meta
    return f"{opts.app_label}.{get_permission_codename(action, opts)}"


def _is_playbook_editor(user, *actions: str) -> bool:
    return bool(
        user is not None
        and user.is_active
        and user.is_staff
        and all(user.has_perm(_playbook_permission(action)) for action in actions)
    )


def can_import_playbooks(user, *, replace: bool = False) -> bool:
    """Active staff allowed to add playbooks; replacing existing ones also takes the right
    to change them. The admin's import page asks here too."""
    return _is_playbook_editor(user, "add", *(["change"] if replace else []))


def can_review_playbooks(user) -> bool:
    """Active staff allowed to change playbooks (the admin's "mark reviewed" actions)."""
    return _is_playbook_editor(user, "change")
