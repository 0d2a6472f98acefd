"""The playbooks' incident side: declare from a playbook, apply one, assign and complete
tasks, mark contacts briefed or thanked. Same path as the rest: lock the incident, check,
write, record on the timeline, publish after commit."""

import logging
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import permissions
from incidents.actions import incident_declare, lock_incident, timeline_record
from incidents.errors import Conflict, InvalidInput, require
from incidents.models import EntryKind, Incident, Status, TimelineEntry
from incidents.notifications.actions import notify, per_reader
from incidents.notifications.choices import NotificationKind
from incidents.people import display_name
from incidents.text import own_language
from statements import actions as statement_actions
from statements.choices import StatementKind

from .. import rules
from ..models import (
    COPIED_CONTACT_FIELDS,
    AppliedPlaybook,
    CompletesOn,
    IncidentContact,
    IncidentTemplate,
    Playbook,
    Task,
    TaskStatus,
)

logger = logging.getLogger(__name__)
TASKS_CHANGED = "tasks-changed"
CONTACTS_CHANGED = "contacts-changed"
DUE_SOON = timedelta(minutes=5)
# Incidents whose tasks still run: a resolved or closed incident sends no reminders.
RUNNING_STATUSES = (Status.DETECTED, Status.ACTIVE, Status.MONITORING)


def incident_declare_from_playbook(*, actor, playbook: Playbook | None, **fields) -> Incident:
    """Declare an incident and, when one is chosen, apply its playbook, in one transaction."""
    with transaction.atomic():
        incident = incident_declare(actor=actor, **fields)
        if playbook is not None:
            playbook_apply(incident=incident, actor=actor, playbook=playbook)
    return incident


@transaction.atomic
def playbook_apply(*, incident: Incident, actor, playbook: Playbook) -> AppliedPlaybook:
    """Copy the playbook into the incident: steps become tasks due from the declaration
    time, templates, contacts and handling advice are copied, the approval policy for the incident's
    severity is chosen. Later edits of the playbook change nothing here."""
    incident = lock_incident(incident)
    require(permissions.can_lead(actor, incident), _("Only the lead can apply a playbook."))
    if AppliedPlaybook.objects.filter(incident=incident).exists():
        raise Conflict(_("This incident already follows a playbook."))
    playbook = (
        Playbook.objects.prefetch_related(
            "steps", "templates", "contacts", "advice", "policies__policy"
        )
        .filter(pk=playbook.pk, is_active=True)
        .first()
    )
    if playbook is None:
        raise InvalidInput(_("This playbook is not available (inactive or deleted)."))
    if not playbook.suits(incident.category, incident.severity):
        raise InvalidInput(
            _("“%(name)s” is not meant for this category or severity.") % {"name": playbook.name}
        )
    policy = next(
        (p.policy for p in playbook.policies.all() if p.severity == incident.severity), None
    )
    now = timezone.now()
    applied = AppliedPlaybook.objects.create(
        incident=incident,
        playbook=playbook,
        name=playbook.name,
        version=playbook.version,
        brand=playbook.brand,
        applied_at=now,
        applied_by=actor,
        advice={row.author_type: row.texts() for row in playbook.advice.all() if row.texts()},
    )
    if policy is not None:
        statement_actions.incident_policy_set(incident=incident, actor=actor, policy=policy)
    tasks = Task.objects.bulk_create(
        Task(
            incident=incident,
            order=step.order,
            title=step.title,
            guidance=step.guidance,
            role=step.role,
            # Targets count from the declaration, even when the playbook comes later.
            due_at=incident.declared_at + timedelta(minutes=step.due_minutes),
            repeat_minutes=step.repeat_minutes,
            completes_on=step.completes_on,
        )
        for step in playbook.steps.all()
    )
    IncidentTemplate.objects.bulk_create(
        IncidentTemplate(
            incident=incident,
            order=template.order,
            name=template.name,
            kind=template.kind,
            channel=template.channel,
            language=template.language,
            author_type=template.author_type,
            text=template.text,
        )
        for template in playbook.templates.all()
    )
    IncidentContact.objects.bulk_create(
        IncidentContact(
            incident=incident,
            order=contact.order,
            **{field: getattr(contact, field) for field in COPIED_CONTACT_FIELDS},
        )
        for contact in playbook.contacts.all()
    )
    timeline_record(
        incident,
        kind=EntryKind.PLAYBOOK_APPLIED,
        actor=actor,
        data={
            "playbook": playbook.pk,
            "name": playbook.name,
            "version": playbook.version,
            "tasks": len(tasks),
            "policy": policy.name if policy else None,
        },
    )
    _complete_already_fulfilled(incident, tasks)
    return applied


def _complete_already_fulfilled(incident: Incident, tasks: list[Task]) -> None:
    """A step whose event happened before the playbook came completes at once: the
    promotion freeze set at the declaration (high severity) ticks "pause scheduled posts",
    naming the freeze's entry as its trigger. No query unless such a step exists."""
    waiting = [t for t in tasks if t.completes_on == CompletesOn.PROMOTION_FROZEN]
    if not waiting or incident.promotion_frozen_at is None:
        return
    entry = (
        TimelineEntry.objects.filter(incident=incident, kind=EntryKind.PROMOTION_FREEZE_SET)
        .select_related("actor")
        .order_by("-seq")
        .first()
    )
    if entry is not None:
        _complete_by(entry, incident, waiting)


def _lock_task(task: Task) -> tuple[Incident, Task]:
    incident = lock_incident(task.incident)
    task = Task.objects.select_for_update().get(pk=task.pk)
    task.incident = incident
    return incident, task


def _task_data(task: Task, **extra) -> dict:
    return {"task": task.pk, "title": task.title, "role": task.role, **extra}


@transaction.atomic
def task_assign(*, task: Task, actor, assignee) -> Task:
    """The lead assigns anyone of the cell who can act; others may take a task themselves.
    `assignee=None` clears the assignment."""
    incident, task = _lock_task(task)
    if not rules.check_assign(actor, task, incident, assignee):
        return task
    task.assignee = assignee
    task.save(update_fields=["assignee"])
    timeline_record(
        incident,
        kind=EntryKind.TASK_ASSIGNED,
        actor=actor,
        data=_task_data(
            task,
            assignee=assignee.pk if assignee else None,
            assignee_name=display_name(assignee) if assignee else "",
        ),
    )
    if assignee is not None and assignee != actor:  # taking a task yourself needs no notice
        notify(
            users=[assignee],
            kind=NotificationKind.TASK_ASSIGNED,
            subject=per_reader(own_language, task.title),
            url=task_url(task),
            incident=incident,
            actor=actor,
        )
    return task


def task_url(task: Task) -> str:
    """The task on the incident room's board (a path; e-mails prefix the site's address)."""
    return reverse("incident-room", args=[task.incident_id]) + f"#task-{task.pk}"


@transaction.atomic
def task_complete(*, task: Task, actor, note: str = "") -> Task:
    """Mark a task done. A repeating task (e.g. an update every 3 hours) schedules its next
    occurrence from now, as long as the incident is still running."""
    incident, task = _lock_task(task)
    rules.check_complete(actor, task, incident)
    note = (note or "").strip()
    if len(note) > 5000:
        raise InvalidInput(_("The note is limited to 5,000 characters."))
    _complete(incident, task, actor=actor, note=note)
    return task


def _complete(incident: Incident, task: Task, *, actor, note: str = "", trigger=None) -> None:
    """Write the completion (the caller holds the incident lock): the task, its next
    occurrence if it repeats, the timeline entry. `trigger` says which event completed it
    when the cell did not tick it by hand."""
    now = timezone.now()
    task.status, task.completed_at, task.completed_by, task.note = TaskStatus.DONE, now, actor, note
    task.save(update_fields=["status", "completed_at", "completed_by", "note"])
    following = None
    if task.repeat_minutes and incident.status in RUNNING_STATUSES:
        following = Task.objects.create(
            incident=incident,
            order=task.order,
            title=task.title,
            guidance=task.guidance,
            role=task.role,
            due_at=now + timedelta(minutes=task.repeat_minutes),
            repeat_minutes=task.repeat_minutes,
            occurrence=task.occurrence + 1,
            completes_on=task.completes_on,
            assignee=task.assignee,
        )
    extra = {"trigger": trigger} if trigger else {}
    timeline_record(
        incident,
        kind=EntryKind.TASK_COMPLETED,
        actor=actor,
        text=note,
        data=_task_data(
            task,
            due_at=task.due_at.isoformat(),
            late=now > task.due_at,
            next_due_at=following.due_at.isoformat() if following else None,
            **extra,
        ),
    )


# --- The plan follows the work: tasks that complete themselves -----------------------------


def _events_of(entry: TimelineEntry) -> set[str]:
    """The `completes_on` values this timeline entry fulfils (none for most entries)."""
    if entry.kind == EntryKind.POSTMORTEM_SIGNED_OFF:
        return {CompletesOn.POSTMORTEM_SIGNED_OFF}
    if entry.kind == EntryKind.PROMOTION_FREEZE_SET:
        return {CompletesOn.PROMOTION_FROZEN}
    if entry.kind == EntryKind.CRISIS_PAGE_LIVE:
        return {CompletesOn.CRISIS_PAGE_LIVE}
    if entry.kind != EntryKind.STATEMENT_PUBLISHED:
        return set()
    events = {CompletesOn.STATEMENT_PUBLISHED}
    # A holding statement is public by its kind (statements' INTERNAL_KINDS is briefings),
    # whatever the channel it went out on; so is an update.
    if entry.data.get("kind") == StatementKind.HOLDING:
        events.add(CompletesOn.HOLDING_PUBLISHED)
    if entry.data.get("kind") == StatementKind.UPDATE:
        events.add(CompletesOn.UPDATE_PUBLISHED)
    return events


def complete_tasks_on(entry: TimelineEntry, incident: Incident) -> list[Task]:
    """Timeline follower (incidents.extensions): complete the incident's open tasks whose
    `completes_on` this entry fulfils, each with its own TASK_COMPLETED entry naming the
    event and its author. Runs inside the action that wrote `entry`, under its incident
    lock. Costs no query for an entry that completes nothing, one read otherwise."""
    events = _events_of(entry)
    if not events:
        return []
    tasks = list(
        Task.objects.select_for_update()
        .filter(incident=incident, status=TaskStatus.OPEN, completes_on__in=events)
        .order_by("due_at", "order", "id")
    )
    _complete_by(entry, incident, tasks)
    return tasks


def _complete_by(entry: TimelineEntry, incident: Incident, tasks: list[Task]) -> None:
    """Complete `tasks` on behalf of the event `entry` recorded, naming it as the trigger."""
    trigger = {
        "event": entry.kind,
        "seq": entry.seq,
        "kind": entry.data.get("kind", ""),
        "channel": entry.data.get("channel", ""),
        "by": display_name(entry.actor) if entry.actor else "",
    }
    for task in tasks:
        task.incident = incident
        _complete(incident, task, actor=entry.actor, trigger=trigger)


CONTACT_MARKS = {"briefed": EntryKind.CONTACT_BRIEFED, "thanked": EntryKind.CONTACT_THANKED}


@transaction.atomic
def contact_mark(*, contact: IncidentContact, actor, what: str, done: bool) -> IncidentContact:
    """Tick (or untick) that an ambassador or stakeholder was briefed or thanked."""
    if what not in CONTACT_MARKS:
        raise InvalidInput(_("Mark a contact as briefed or thanked."))
    incident = lock_incident(contact.incident)
    require(permissions.can_write_timeline(actor, incident), _("Observers cannot update contacts."))
    contact = IncidentContact.objects.select_for_update().get(pk=contact.pk)
    field = f"{what}_at"
    if bool(getattr(contact, field)) == done:
        return contact
    setattr(contact, field, timezone.now() if done else None)
    contact.save(update_fields=[field])
    timeline_record(
        incident,
        kind=CONTACT_MARKS[what],
        actor=actor,
        data={"contact": contact.pk, "name": contact.name, "handle": contact.handle, "done": done},
    )
    return contact
