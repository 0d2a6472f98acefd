"""Every write of the playbooks app, by job: the incident side (`incident`), task reminders
(`reminders`) and the playbook library (`library`). Callers import from here."""

from .cell import MAX_STAFFED, STAFF_ROLES, cell_staff
from .incident import (
    CONTACT_MARKS,
    CONTACTS_CHANGED,
    DUE_SOON,
    RUNNING_STATUSES,
    TASKS_CHANGED,
    complete_tasks_on,
    contact_mark,
    incident_declare_from_playbook,
    playbook_apply,
    task_assign,
    task_complete,
    task_url,
)
from .library import playbooks_import, playbooks_mark_reviewed
from .reminders import reminder_text, tasks_send_reminders

__all__ = [
    "CONTACTS_CHANGED",
    "CONTACT_MARKS",
    "DUE_SOON",
    "MAX_STAFFED",
    "RUNNING_STATUSES",
    "STAFF_ROLES",
    "TASKS_CHANGED",
    "cell_staff",
    "complete_tasks_on",
    "contact_mark",
    "incident_declare_from_playbook",
    "playbook_apply",
    "playbooks_import",
    "playbooks_mark_reviewed",
    "reminder_text",
    "task_assign",
    "task_complete",
    "task_url",
    "tasks_send_reminders",
]
