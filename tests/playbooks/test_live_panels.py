"""The checklist's live events name the panels they change (incidents/panels.py)."""

import json
from datetime import timedelta

import pytest

from incidents.playbooks import actions
from incidents.playbooks.models import Task

pytestmark = pytest.mark.django_db


def published(listener):
    return [json.loads(message["text"]) for message in listener()]


def test_applying_a_playbook_refreshes_the_tasks_and_the_contacts(
    incident, lead, playbook, listener, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)
    (payload,) = published(listener)
    assert payload["event"] == "timeline.playbook_applied"
    assert payload["panels"] == ["tasks", "contacts"]


def test_a_completed_task_refreshes_the_tasks(
    followed, drafter, listener, django_capture_on_commit_callbacks
):
    task = Task.objects.get(incident=followed, title="Draft the holding statement")
    with django_capture_on_commit_callbacks(execute=True):
        actions.task_complete(task=task, actor=drafter, note="Done")
    (payload,) = published(listener)
    assert payload["event"] == "timeline.task_completed"
    assert payload["panels"] == ["tasks"]


def test_a_reminder_signals_the_tasks_panel(followed, listener):
    task = Task.objects.get(incident=followed, title="Acknowledge internally and assess")
    assert actions.tasks_send_reminders(now=task.due_at - timedelta(minutes=1)) == 1
    (signal,) = published(listener)
    assert signal == {
        "event": "signal",
        "signal": "tasks-changed",
        "incident_id": followed.pk,
        "panels": ["tasks"],
        "task": task.pk,
    }
