"""Task reminders, sent by Celery beat every minute: once per task and threshold, through
`notify` (the bell, and e-mail or chat as each person's notification settings say)."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events
from incidents.models import Membership
from incidents.notifications.actions import announce_to, notify, per_reader
from incidents.notifications.choices import NotificationKind
from incidents.text import own_language

from ..models import (
    ReminderKind,
    Task,
    TaskReminder,
    TaskStatus,
)
from .incident import DUE_SOON, RUNNING_STATUSES, TASKS_CHANGED, task_url

logger = logging.getLogger(__name__)


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
    """One line saying what is due, in the active language (the message's body)."""
    what = {"task": own_language(task.title), "incident": task.incident.title}
    if kind == ReminderKind.OVERDUE:
        return _("Overdue: “%(task)s” — %(incident)s") % what
    return _("Due in 5 minutes: “%(task)s” — %(incident)s") % what


def tasks_send_reminders(*, now=None) -> int:
    """Notify the people responsible for open tasks coming due (5 minutes before) and
    overdue, once per task and threshold; a done task (ticked, or completed by the event it
    waited for) is never reminded. Idempotent: the TaskReminder row and the notifications
    are written in one transaction, and its unique constraint refuses a second reminder.
    Returns how many reminders were sent (one per task and threshold)."""
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
    notified: set[int] = set()
    for task in due:
        kind = ReminderKind.OVERDUE if now >= task.due_at else ReminderKind.DUE_SOON
        if any(r.kind == kind for r in task.reminders.all()):
            continue
        # The assignee, else every active member holding the task's role.
        recipients = (
            [task.assignee] if task.assignee_id else holders.get((task.incident_id, task.role), [])
        )
        try:
            with transaction.atomic():
                TaskReminder.objects.create(task=task, kind=kind, sent_at=now)
                notify(
                    users=recipients,
                    kind=NotificationKind(kind),
                    subject=per_reader(own_language, task.title),
                    url=task_url(task),
                    incident=task.incident,
                    now=now,
                    announce=False,
                    body=per_reader(reminder_text, task, kind),
                )
        except IntegrityError:
            continue  # another run sent it first
        sent += 1
        notified.update(user.pk for user in recipients)
        events.publish_signal(task.incident_id, TASKS_CHANGED, task=task.pk)
    announce_to(notified)
    return sent
