"""The room's task board and contacts, applying a playbook, and the notification bell.
Thin: read through selectors, write through actions (htmx answers as the room's forms)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import permissions
from incidents.errors import DomainError
from incidents.models import ApproverFunction, Role
from incidents.shortcuts import incident_or_404, perform, refused
from incidents.text import parse_id
from statements import selectors as statement_selectors

from . import actions, rules, selectors
from .actions import RUNNING_STATUSES
from .forms import ApplyPlaybookForm
from .models import IncidentContact, Task

User = get_user_model()


def contacts_context(request, incident) -> dict:
    return {
        "incident": incident,
        "can_act_on_tasks": permissions.can_write_timeline(request.user, incident),
        "contacts": list(selectors.contacts_of(incident)),
    }


def board_context(request, incident) -> dict:
    """The checklist and the contacts, as the room shows them."""
    applied = selectors.applied_playbook(incident)
    board = selectors.task_board(incident)
    for _role, _label, tasks in board["columns"]:
        for task in tasks:  # the board offers exactly these controls per task
            task.available_actions = rules.available_actions(request.user, task, incident=incident)
    context = {
        **contacts_context(request, incident),
        "applied_playbook": applied,
        "approval_policy": statement_selectors.incident_policy(incident) if applied else None,
        "board": board,
        "now": timezone.now(),
        # Resolved or closed: due times stay, without a countdown or "overdue" (reminders
        # stop too: actions.reminders), a closed incident's board kept counting down.
        "tasks_running": incident.status in RUNNING_STATUSES,
        "assignable": [
            m for m in incident.active_memberships if m.role in permissions.WRITER_ROLES
        ],
    }
    if applied is None and permissions.can_lead(request.user, incident):
        context["apply_form"] = ApplyPlaybookForm()
        context["suitable_playbooks"] = selectors.playbooks_for(
            incident.category, incident.severity
        )
    return context


@login_required
@require_GET
def tasks_panel(request, pk):
    incident = incident_or_404(request, pk)
    return render(request, "incidents/playbooks/_tasks.html", board_context(request, incident))


@login_required
@require_GET
def contacts_panel(request, pk):
    incident = incident_or_404(request, pk)
    return render(
        request, "incidents/playbooks/_contacts.html", contacts_context(request, incident)
    )


@login_required
@require_POST
def apply(request, pk):
    incident = incident_or_404(request, pk)
    form = ApplyPlaybookForm(request.POST)
    if not form.is_valid():
        return refused(request, incident, _("Choose a playbook."))
    return perform(
        request,
        incident,
        _("Playbook applied: its tasks are on the board."),
        actions.playbook_apply,
        say=True,  # its tasks appear in their panel, far from the form
        incident=incident,
        playbook=form.cleaned_data["playbook"],
    )


def _task(request, pk, task_id) -> tuple:
    incident = incident_or_404(request, pk)
    task = Task.objects.filter(pk=task_id, incident=incident).first()
    if task is None:
        raise Http404(_("No such task in this incident."))
    return incident, task


@login_required
@require_POST
def complete(request, pk, task_id):
    incident, task = _task(request, pk, task_id)
    # The action checks the note (a too-long one is refused, never dropped).
    note = request.POST.get("note", "")
    return perform(request, incident, _("Task done."), actions.task_complete, task=task, note=note)


@login_required
@require_POST
def assign(request, pk, task_id):
    incident, task = _task(request, pk, task_id)
    raw = request.POST.get("assignee", "")
    assignee = None
    if raw:
        user_id = parse_id(raw)
        if user_id is None:
            return refused(request, incident, _("Choose a member."))
        assignee = User.objects.filter(pk=user_id).first()
        if assignee is None:
            return refused(request, incident, _("Choose a member."))
    return perform(
        request, incident, _("Task assigned."), actions.task_assign, task=task, assignee=assignee
    )


@login_required
@require_POST
def mark_contact(request, pk, contact_id):
    incident = incident_or_404(request, pk)
    contact = IncidentContact.objects.filter(pk=contact_id, incident=incident).first()
    if contact is None:
        raise Http404(_("No such contact in this incident."))
    return perform(
        request,
        incident,
        _("Contact updated."),
        actions.contact_mark,
        contact=contact,
        what=request.POST.get("what", ""),
        done=request.POST.get("done") == "true",
    )


# --- Staffing the cell from the committee roster -------------------------------------------


def _default_role(contact) -> str:
    """The role the page proposes: the roster's, but a roster lead joins as an observer
    (the lead is handed over once they are in the cell, never added)."""
    return contact.role if contact.role in actions.STAFF_ROLES else Role.OBSERVER


def _submitted(post) -> list[dict]:
    """The ticked people of the roster form: [{"contact", "role", "function"}]."""
    people = []
    for raw in post.getlist("pick"):
        contact_id = parse_id(raw)
        people.append(
            {
                "contact": contact_id if contact_id is not None else raw,
                "role": post.get(f"role-{raw}", ""),
                "function": post.get(f"function-{raw}", ""),
            }
        )
    return people


@login_required
@require_http_methods(["GET", "POST"])
def roster(request, pk):
    """The committee roster of the incident: everyone may read it; the lead ticks people
    and adds them all to the cell in one submit (all or none)."""
    incident = incident_or_404(request, pk)
    available = rules.roster_actions(request.user, incident)
    submitted, errors, problems = None, {}, []
    if request.method == "POST":
        submitted = _submitted(request.POST)
        try:
            added = actions.cell_staff(incident=incident, actor=request.user, people=submitted)
        except DomainError as exc:
            problems = [line.removeprefix("- ") for line in exc.message.splitlines()]
            errors = {e["contact"]: e["detail"] for e in exc.extra.get("problems", [])}
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d person added to the cell.",
                    "%(count)d people added to the cell.",
                    len(added),
                )
                % {"count": len(added)},
            )
            return redirect("incident-room", pk=incident.pk)
    chosen = {p["contact"]: p for p in submitted or []}
    rows = []
    for row in selectors.roster_rows(incident):
        mine = chosen.get(row.contact.pk)
        rows.append(
            {
                "row": row,
                # Pre-ticked: whoever the roster gives a role to join with (a roster lead
                # not in the cell is left to the lead's choice).
                "checked": mine is not None
                if submitted is not None
                else row.selectable and row.contact.role in actions.STAFF_ROLES,
                "role": mine["role"] if mine else _default_role(row.contact),
                "function": mine["function"] if mine else row.contact.function,
                "error": errors.get(row.contact.pk, ""),
            }
        )
    return render(
        request,
        "incidents/playbooks/roster.html",
        {
            "incident": incident,
            "rows": rows,
            "available_actions": available,
            "problems": problems,
            "roles": [(r, Role(r).label) for r in actions.STAFF_ROLES],
            "functions": ApproverFunction.choices,
            "selectable": any(r["row"].selectable for r in rows),
        },
        status=422 if problems else 200,
    )
