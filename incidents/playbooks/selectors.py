"""Reads of the playbooks' incident side, each in a constant number of queries."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from incidents.models import Role

from .models import (
    AppliedPlaybook,
    IncidentContact,
    IncidentTemplate,
    Playbook,
    Task,
    TaskStatus,
)

ROLE_ORDER = [Role.LEAD, Role.DRAFTER, Role.APPROVER, Role.SPOKESPERSON]


def playbooks_for(category: str | None = None, severity: int | None = None) -> list[Playbook]:
    """Active playbooks, those suiting the category and severity when given."""
    playbooks = Playbook.objects.filter(is_active=True).order_by("name")
    return [
        p
        for p in playbooks
        if category is None or severity is None or p.suits(category, int(severity))
    ]


def applied_playbook(incident) -> AppliedPlaybook | None:
    return AppliedPlaybook.objects.filter(incident=incident).first()


def tasks_of(incident) -> QuerySet[Task]:
    return Task.objects.filter(incident=incident).select_related("assignee", "completed_by")


def task_board(incident) -> dict:
    """Open tasks grouped by role (in the cell's order), and the done ones, newest first."""
    tasks = list(tasks_of(incident).order_by("due_at", "order", "id"))
    open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
    columns = [
        (role, Role(role).label, [t for t in open_tasks if t.role == role]) for role in ROLE_ORDER
    ]
    done = sorted(
        (t for t in tasks if t.status == TaskStatus.DONE),
        key=lambda t: t.completed_at,
        reverse=True,
    )
    return {
        "columns": [c for c in columns if c[2]],
        "open_count": len(open_tasks),
        "done": done,
    }


def templates_of(incident) -> QuerySet[IncidentTemplate]:
    return IncidentTemplate.objects.filter(incident=incident).order_by("order", "id")


def contacts_of(incident) -> QuerySet[IncidentContact]:
    return IncidentContact.objects.filter(incident=incident).order_by("kind", "order", "id")


def next_update_at(incident):
    """When the next scheduled update is due: the earliest open repeating task."""
    task = (
        Task.objects.filter(incident=incident, status=TaskStatus.OPEN, repeat_minutes__isnull=False)
        .order_by("due_at")
        .first()
    )
    return task.due_at if task else None


def default_next_update():
    """With no update scheduled, a template promises one within the hour, at a round time."""
    soon = (timezone.now() + timedelta(hours=1)).replace(second=0, microsecond=0)
    return soon + timedelta(minutes=-soon.minute % 15)


def draft_from_template(incident, template_id) -> dict | None:
    """A template of the incident rendered for a new draft: kind, channel, language and
    text, or None when the incident has no such template."""
    from .templating import render_template, values_for

    template = templates_of(incident).filter(pk=template_id).first()
    if template is None:
        return None
    applied = applied_playbook(incident)
    values = values_for(
        incident,
        brand=applied.brand if applied else "",
        language=template.language,
        next_update_at=next_update_at(incident) or default_next_update(),
    )
    return {
        "kind": template.kind,
        "channel": template.channel,
        "language": template.language,
        "text": render_template(template.text, values),
    }
