"""The room's task board and contacts, applying a playbook, and the notification bell.
Thin: read through selectors, write through actions (htmx answers as the room's forms)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from incidents import permissions
from incidents.shortcuts import incident_or_404, perform, refused
from incidents.text import parse_id
from statements import selectors as statement_selectors

from . import actions, rules, selectors
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
