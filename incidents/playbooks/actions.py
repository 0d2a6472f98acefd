"""Every write of the playbooks' incident side: apply a playbook, assign and complete
tasks, mark contacts briefed or thanked, send reminders. Same path as the rest: lock the
incident, check, write, record on the timeline, publish after commit."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_permission_codename
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents import events, permissions
from incidents.actions import incident_declare, lock_incident, timeline_record
from incidents.errors import Conflict, InvalidInput, require
from incidents.models import EntryKind, Incident, Membership, Status
from incidents.notifications.actions import announce_to, notify
from incidents.notifications.choices import NotificationKind
from incidents.people import display_name
from statements import actions as statement_actions

from . import portable, rules
from .models import (
    COPIED_CONTACT_FIELDS,
    AppliedPlaybook,
    Contact,
    IncidentContact,
    IncidentTemplate,
    Playbook,
    PlaybookPolicy,
    PlaybookStep,
    ReminderKind,
    StatementTemplate,
    Task,
    TaskReminder,
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
    time, templates and contacts are copied, the approval policy for the incident's
    severity is chosen. Later edits of the playbook change nothing here."""
    incident = lock_incident(incident)
    require(permissions.can_lead(actor, incident), _("Only the lead can apply a playbook."))
    if AppliedPlaybook.objects.filter(incident=incident).exists():
        raise Conflict(_("This incident already follows a playbook."))
    playbook = (
        Playbook.objects.prefetch_related("steps", "templates", "contacts", "policies__policy")
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
    return applied


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
    return task


@transaction.atomic
def task_complete(*, task: Task, actor, note: str = "") -> Task:
    """Mark a task done. A repeating task (e.g. an update every 3 hours) schedules its next
    occurrence from now, as long as the incident is still running."""
    incident, task = _lock_task(task)
    rules.check_complete(actor, task, incident)
    note = (note or "").strip()
    if len(note) > 5000:
        raise InvalidInput(_("The note is limited to 5,000 characters."))
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
            assignee=task.assignee,
        )
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
        ),
    )
    return task


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


# --- Reminders (Celery beat, every minute) --------------------------------------------------


def _role_holders(tasks) -> dict[tuple[int, str], list]:
    """Active members by (incident, role) for these tasks' incidents, in one query."""
    holders: dict[tuple[int, str], list] = {}
    members = Membership.objects.active().filter(
        incident_id__in={task.incident_id for task in tasks}
    )
    for member in members.select_related("user"):
        holders.setdefault((member.incident_id, member.role), []).append(member.user)
    return holders


def reminder_text(task: Task, kind: str) -> str:
    what = {"task": task.title, "incident": task.incident.title}
    if kind == ReminderKind.OVERDUE:
        return _("Overdue: “%(task)s” — %(incident)s") % what
    return _("Due in 5 minutes: “%(task)s” — %(incident)s") % what


def tasks_send_reminders(*, now=None) -> int:
    """Notify the people responsible for tasks coming due (5 minutes before) and overdue,
    once per task and threshold. Idempotent: the TaskReminder row and the notifications are
    written in one transaction, and its unique constraint refuses a second reminder."""
    now = now or timezone.now()
    due = (
        Task.objects.filter(
            status=TaskStatus.OPEN,
            due_at__lte=now + DUE_SOON,
            incident__status__in=RUNNING_STATUSES,
        )
        .exclude(reminders__kind=ReminderKind.OVERDUE)
        .select_related("incident", "assignee")
        .prefetch_related("reminders")
    )
    due = list(due)
    holders = _role_holders(due)
    sent = 0
    mails = []
    notified: set[int] = set()
    for task in due:
        kind = ReminderKind.OVERDUE if now >= task.due_at else ReminderKind.DUE_SOON
        if any(r.kind == kind for r in task.reminders.all()):
            continue
        # The assignee, else every active member holding the task's role.
        recipients = (
            [task.assignee] if task.assignee_id else holders.get((task.incident_id, task.role), [])
        )
        text = reminder_text(task, kind)  # for the emails; the bell renders in the viewer's
        try:
            with transaction.atomic():
                TaskReminder.objects.create(task=task, kind=kind, sent_at=now)
                notify(
                    users=recipients,
                    kind=NotificationKind(kind),
                    subject=task.title,
                    url=reverse("incident-room", args=[task.incident_id]) + f"#task-{task.pk}",
                    incident=task.incident,
                    now=now,
                    announce=False,
                )
        except IntegrityError:
            continue  # another run sent it first
        sent += 1
        link = f"{settings.SITE_URL}/incidents/{task.incident_id}/"
        mails.extend(
            (f"[Crisis Cell] {text}", f"{text}\n\n{link}\n", settings.DEFAULT_FROM_EMAIL, [u.email])
            for u in recipients
            if u.email
        )
        notified.update(user.pk for user in recipients)
        events.publish_signal(task.incident_id, TASKS_CHANGED, task=task.pk)
    announce_to(notified)
    if mails:
        try:
            send_mass_mail(mails, fail_silently=False)
        except Exception:
            # The in-app notifications are written; a mail outage must not resend them.
            logger.exception("Could not email %s task reminder(s)", len(mails))
    return sent


# --- The playbook library (editor side): import files, mark reviewed ------------------------
# `actor` is the staff user doing it, or None for the system: a management command or the
# demo data, run by whoever has shell access. The admin's history (LogEntry) records who did
# what when there is a user; every call is also logged (logger "incidents.playbooks.actions").


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


def _who(actor) -> str:
    return f"{actor.get_username()} (id {actor.pk})" if actor is not None else "the system"


def _history(actor, playbooks, flag, message) -> None:
    """The admin's history of these playbooks, as the admin writes it for its own saves."""
    if actor is not None and playbooks:
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=playbooks,
            action_flag=flag,
            change_message=message,
            single_object=len(playbooks) == 1,
        )


@transaction.atomic
def playbooks_import(
    *, actor, data, replace: bool = False, source: str = ""
) -> list[portable.Imported]:
    """Import one playbook (a dict) or several (a list) read from a playbook file, all or
    nothing. `source` names the file for the log.

    Everything is checked first (portable.parse_playbooks: PlaybookFileError lists every
    problem). A name that already exists raises PlaybookExists, unless `replace`: then that
    playbook keeps its id (incidents that applied it still point to it) and gets the file's
    contents, with a version above its current one (the file's version when higher, else the
    current one + 1) so two different contents never share a version number. A file
    identical to the playbook as it stands changes nothing.
    """
    if actor is not None:
        require(
            can_import_playbooks(actor, replace=replace),
            _("Only staff allowed to change playbooks can replace them.")
            if replace and can_import_playbooks(actor)
            else _("Only staff allowed to add playbooks can import them."),
        )
    parsed, policies = portable.parse_playbooks(data)
    names = [p.playbook.name for p in parsed]
    existing = {
        playbook.name: playbook
        for playbook in Playbook.objects.select_for_update().filter(name__in=names)
    }
    if existing and not replace:
        raise portable.PlaybookExists(sorted(existing))
    try:
        results = [_import_one(p, existing.get(p.playbook.name), policies) for p in parsed]
    except IntegrityError:
        # Someone created the same name between our check and our insert.
        raise portable.PlaybookExists(names) from None
    by_outcome = {
        outcome: [r.playbook for r in results if r.outcome == outcome]
        for outcome in (portable.Outcome.CREATED, portable.Outcome.REPLACED)
    }
    _history(actor, by_outcome[portable.Outcome.CREATED], ADDITION, "Imported from a JSON file.")
    _history(
        actor,
        by_outcome[portable.Outcome.REPLACED],
        CHANGE,
        "Replaced by the contents of a JSON file.",
    )
    for result in results:
        logger.info(
            "Playbook import%s by %s: %s “%s” (id %s, version %s)",
            f" of {source}" if source else "",
            _who(actor),
            result.outcome,
            result.playbook.name,
            result.playbook.pk,
            result.playbook.version,
        )
    return results


def _import_one(parsed: portable.Parsed, existing: Playbook | None, policies: dict):
    playbook = parsed.playbook
    outcome = portable.Outcome.CREATED
    if existing is not None:
        if portable.export_playbook(existing) == parsed.normalized:
            return portable.Imported(existing, portable.Outcome.UNCHANGED)
        playbook.pk = existing.pk
        playbook.version = max(playbook.version, existing.version + 1)
        for model in (PlaybookStep, StatementTemplate, PlaybookPolicy, Contact):
            model.objects.filter(playbook=existing).delete()
        outcome = portable.Outcome.REPLACED
    playbook.save(force_update=existing is not None)
    for key, (model, _fields, _sort) in portable.SECTIONS.items():
        for row in parsed.rows[key]:
            row.playbook = playbook
        model.objects.bulk_create(parsed.rows[key])
    PlaybookPolicy.objects.bulk_create(
        PlaybookPolicy(playbook=playbook, severity=severity, policy=policies[name])
        for severity, name in parsed.policies
    )
    return portable.Imported(playbook, outcome)


@transaction.atomic
def playbooks_mark_reviewed(*, actor, playbooks, new_version: bool = False) -> list[Playbook]:
    """Record that these playbooks were reviewed today, optionally as a new version (+1).

    The playbook keeps the day (`last_reviewed_on`); who did it is kept in the admin's
    history and the log, as the model has no field for the reviewer.
    """
    require(
        can_review_playbooks(actor),
        _("Only staff allowed to change playbooks can mark them as reviewed."),
    )
    ids = sorted({playbook.pk for playbook in playbooks})
    locked = list(Playbook.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    changes = {"last_reviewed_on": timezone.localdate(), "updated_at": timezone.now()}
    changed_fields = ["last_reviewed_on"]
    if new_version:
        changes["version"] = F("version") + 1
        changed_fields.append("version")
    Playbook.objects.filter(pk__in=[p.pk for p in locked]).update(**changes)
    reviewed = list(Playbook.objects.filter(pk__in=[p.pk for p in locked]).order_by("name"))
    with translation.override(None):  # as the admin stores change messages
        names = [str(Playbook._meta.get_field(name).verbose_name) for name in changed_fields]
    _history(actor, reviewed, CHANGE, [{"changed": {"fields": names}}])
    for playbook in reviewed:
        logger.info(
            "Playbook “%s” (id %s) marked as reviewed on %s by %s%s",
            playbook.name,
            playbook.pk,
            playbook.last_reviewed_on,
            _who(actor),
            f", now version {playbook.version}" if new_version else "",
        )
    return reviewed
