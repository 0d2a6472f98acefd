"""Reminders: once per task and threshold, to the people responsible, through notify() (the
bell; e-mail and chat go through the outbox as each person's settings say); a second run (a
restarted worker, a doubled beat) sends nothing more, and a done task none at all."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crisiscell.typography import french_spacing
from incidents import actions as incident_actions
from incidents.notifications.models import Notification
from incidents.playbooks import actions
from incidents.playbooks.models import Task, TaskReminder

pytestmark = pytest.mark.django_db


def about(task):
    """The reminders about this task (they link to it in the room)."""
    return Notification.objects.filter(
        url__endswith=f"#task-{task.pk}", kind__in=["due_soon", "overdue"]
    )


def task(incident, title):
    return Task.objects.get(incident=incident, title=title, status="open")


def test_due_soon_once_then_overdue_once(followed, lead):
    first = task(followed, "Acknowledge internally and assess")  # lead, due +15 min
    lead.email = "lead@example.com"
    lead.save()
    before = first.due_at - timedelta(minutes=4)
    assert actions.tasks_send_reminders(now=before) == 1
    assert actions.tasks_send_reminders(now=before) == 0  # run twice: one notification
    assert actions.tasks_send_reminders(now=before + timedelta(seconds=30)) == 0
    notes = about(first).filter(user=lead)
    assert [(n.kind, n.subject, n.url) for n in notes] == [
        ("due_soon", first.title, f"/incidents/{followed.pk}/#task-{first.pk}")
    ]
    after = first.due_at + timedelta(minutes=1)
    actions.tasks_send_reminders(now=after)
    actions.tasks_send_reminders(now=after)
    assert sorted(about(first).values_list("kind", flat=True)) == [
        "due_soon",
        "overdue",
    ]


def test_reminders_go_through_notify_with_their_text(followed, lead, monkeypatch):
    """No e-mail of their own: the reminder's line is notify()'s body, for the outbox."""
    from incidents.playbooks.actions import reminders

    calls = []
    monkeypatch.setattr(reminders, "notify", lambda **kwargs: calls.append(kwargs))
    first = task(followed, "Acknowledge internally and assess")
    actions.tasks_send_reminders(now=first.due_at + timedelta(minutes=1))
    [call] = [c for c in calls if c["subject"] == first.title]
    assert call["kind"] == "overdue" and list(call["users"]) == [lead]
    assert call["body"] == f"Overdue: “{first.title}” — {followed.title}"
    assert not hasattr(reminders, "send_mass_mail")


def test_each_reader_gets_the_reminder_in_their_language(followed, lead):
    """A bilingual task title ("fr / en", as playbooks write them) is read in each person's
    half, and the reminder's line in their language, whoever runs the sweep."""
    from incidents.notifications import actions as notifications
    from incidents.outbox.models import OutboundMessage

    lead.email = "lead@example.com"
    lead.save()
    notifications.preferences_update(actor=lead, language="fr")
    first = task(followed, "Acknowledge internally and assess")
    Task.objects.filter(pk=first.pk).update(title="Accuser réception et évaluer / Acknowledge")
    actions.tasks_send_reminders(now=first.due_at + timedelta(minutes=1))
    [note] = about(first).filter(user=lead)
    assert note.subject == "Accuser réception et évaluer"
    [mail] = OutboundMessage.objects.filter(recipient="lead@example.com", key__contains="email")
    line = french_spacing("En retard : « Accuser réception et évaluer » — ") + followed.title
    assert line in mail.body


def test_nothing_before_the_five_minutes(followed):
    first = task(followed, "Acknowledge internally and assess")
    assert actions.tasks_send_reminders(now=first.due_at - timedelta(minutes=6)) == 0
    assert not TaskReminder.objects.exists()


def test_recipients_are_the_assignee_or_everyone_with_the_role(followed, lead, drafter, make_user):
    second_drafter = make_user("drafter2")
    incident_actions.member_add(incident=followed, actor=lead, user=second_drafter, role="drafter")
    draft = task(followed, "Draft the holding statement")
    actions.tasks_send_reminders(now=draft.due_at - timedelta(minutes=1))
    assert set(about(draft).values_list("user__username", flat=True)) == {
        "drafter",
        "drafter2",
    }
    publish = task(followed, "Publish the holding statement")
    actions.task_assign(task=publish, actor=lead, assignee=drafter)
    actions.tasks_send_reminders(now=publish.due_at + timedelta(minutes=1))
    assert list(about(publish).values_list("user__username", flat=True)) == ["drafter"]


def test_done_tasks_and_closed_incidents_are_quiet(followed, lead, drafter):
    first = task(followed, "Acknowledge internally and assess")
    actions.task_complete(task=first, actor=lead)
    assert actions.tasks_send_reminders(now=first.due_at + timedelta(minutes=1)) == 0
    incident_actions.incident_transition(incident=followed, actor=lead, status="closed")
    assert actions.tasks_send_reminders(now=timezone.now() + timedelta(days=1)) == 0


def test_the_update_cadence_reminds_each_occurrence(followed, drafter):
    update = task(followed, "Post an update")
    actions.tasks_send_reminders(now=update.due_at + timedelta(minutes=1))
    actions.task_complete(task=update, actor=drafter)
    following = Task.objects.get(incident=followed, occurrence=2)
    assert actions.tasks_send_reminders(now=following.due_at - timedelta(minutes=2)) >= 1
    assert about(following).filter(kind="due_soon").exists()
    assert actions.tasks_send_reminders(now=following.due_at - timedelta(minutes=2)) == 0


def test_the_beat_task_runs_the_same(followed):
    from incidents.playbooks.tasks import send_task_reminders

    assert send_task_reminders() == 0  # nothing due yet at declaration time


def test_the_bell(followed, lead, browser_client):
    first = task(followed, "Acknowledge internally and assess")
    actions.tasks_send_reminders(now=first.due_at + timedelta(minutes=1))
    client = browser_client.as_user(lead)
    page = client.get("/notifications/").content.decode()
    assert "Acknowledge internally and assess" in page and "Overdue" in page
    assert 'class="bell-count">1<' in client.get("/").content.decode()
    client.post("/notifications/read/")
    assert "bell-count" not in client.get("/notifications/bell/").content.decode()


def test_queries_do_not_grow_with_the_number_of_tasks(followed, declare, lead, playbook):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    later = timezone.now() + timedelta(days=1)
    for _ in range(3):
        actions.playbook_apply(incident=declare(), actor=lead, playbook=playbook)
    Notification.objects.all().delete()
    TaskReminder.objects.all().delete()
    with CaptureQueriesContext(connection) as four_incidents:
        sent = actions.tasks_send_reminders(now=later)
    assert sent == 16
    # Reads (tasks, their reminders, the cells) are three queries whatever the number of
    # tasks; each reminder then costs at most its savepoint, release, row and notifications,
    # and the notifications' two reads (the people's preferences, the chat addresses).
    assert len(four_incidents) <= 3 + 6 * sent
