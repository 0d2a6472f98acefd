"""The plan follows the work: a task that declares what completes it (`completes_on`) is
done when that event happens, with a timeline entry naming the event; a done task sends no
reminder. And assigning a task to someone tells them."""

from datetime import timedelta

import pytest

from incidents import extensions
from incidents.models import EntryKind, TimelineEntry
from incidents.notifications.models import Notification
from incidents.playbooks import actions
from incidents.playbooks.models import CompletesOn, PlaybookStep, Task, TaskReminder, TaskStatus

pytestmark = pytest.mark.django_db

PUBLISH = "Publish the holding statement"
UPDATE = "Post an update"


@pytest.fixture
def cell(incident, lead, spokesperson):
    spokesperson.first_name, spokesperson.last_name = "Léa", "Martin"
    spokesperson.save()
    return incident


@pytest.fixture
def plan(cell, lead, playbook):
    """The persona incident following the playbook whose publishing step completes itself
    on the first holding statement, and whose update step on any statement."""
    PlaybookStep.objects.filter(playbook=playbook, title=PUBLISH).update(
        completes_on=CompletesOn.HOLDING_PUBLISHED
    )
    PlaybookStep.objects.filter(playbook=playbook, title=UPDATE).update(
        completes_on=CompletesOn.STATEMENT_PUBLISHED
    )
    actions.playbook_apply(incident=cell, actor=lead, playbook=playbook)
    return cell


def open_task(incident, title):
    return Task.objects.get(incident=incident, title=title, status=TaskStatus.OPEN)


def test_the_step_declares_it_and_the_task_copy_keeps_it(plan):
    assert open_task(plan, PUBLISH).completes_on == "holding_published"
    assert open_task(plan, "Draft the holding statement").completes_on == ""


def test_publishing_the_holding_statement_completes_its_task(plan, make_statement, spokesperson):
    task = open_task(plan, PUBLISH)
    statement = make_statement(state="published", kind="holding", channel="x")

    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_by == spokesperson
    published = TimelineEntry.objects.get(incident=plan, kind=EntryKind.STATEMENT_PUBLISHED)
    completions = TimelineEntry.objects.filter(
        incident=plan, kind=EntryKind.TASK_COMPLETED, data__task=task.pk
    )
    [entry] = completions
    assert entry.seq > published.seq and entry.actor == spokesperson
    assert entry.data["trigger"] == {
        "event": "statement_published",
        "seq": published.seq,
        "kind": "holding",
        "channel": "x",
        "by": "Léa Martin",
    }
    assert entry.data["late"] is False
    assert statement.status == "published"


def test_the_timeline_names_the_event(plan, make_statement, browser_client, lead):
    make_statement(state="published")
    page = browser_client.as_user(lead).get(f"/incidents/{plan.pk}/timeline/").content.decode()
    assert "Completed by: holding statement published on X / Twitter by Léa Martin" in page


def test_no_overdue_reminder_once_completed(plan, make_statement):
    task = open_task(plan, PUBLISH)
    make_statement(state="published")
    sent = actions.tasks_send_reminders(now=task.due_at + timedelta(minutes=1))
    assert not TaskReminder.objects.filter(task=task).exists()
    assert not Notification.objects.filter(url__endswith=f"#task-{task.pk}").exists()
    assert sent == TaskReminder.objects.count()  # the other tasks' reminders only


def test_a_publication_that_does_not_match_leaves_the_task_open(plan, make_statement):
    make_statement(state="published", kind="apology", channel="instagram")
    assert open_task(plan, PUBLISH).status == TaskStatus.OPEN
    assert not TimelineEntry.objects.filter(
        incident=plan, kind=EntryKind.TASK_COMPLETED, data__title=PUBLISH
    ).exists()


def test_other_steps_of_the_cell_are_untouched(plan, make_statement):
    make_statement(state="approved")  # approved, not published: nothing happens yet
    assert open_task(plan, PUBLISH)
    make_statement(state="published", channel="facebook")
    assert Task.objects.filter(incident=plan, status=TaskStatus.DONE).count() == 2
    assert open_task(plan, "Draft the holding statement")


def test_any_statement_completes_a_repeating_task_and_schedules_the_next(plan, make_statement):
    update = open_task(plan, UPDATE)
    make_statement(state="published", kind="update", channel="linkedin")
    update.refresh_from_db()
    assert update.status == TaskStatus.DONE
    following = open_task(plan, UPDATE)
    assert following.occurrence == 2 and following.completes_on == "statement_published"
    assert open_task(plan, PUBLISH)  # an update is not the holding statement


def test_only_open_tasks_of_this_incident_complete(plan, declare, lead, playbook, make_statement):
    other = declare(title="Another incident")
    actions.playbook_apply(incident=other, actor=lead, playbook=playbook)
    task = open_task(plan, PUBLISH)
    actions.task_complete(task=task, actor=lead, note="Posted by hand")
    make_statement(state="published")
    assert open_task(other, PUBLISH)
    assert (
        TimelineEntry.objects.filter(
            incident=plan, kind=EntryKind.TASK_COMPLETED, data__title=PUBLISH
        ).count()
        == 1
    )


def test_entries_that_complete_nothing_cost_no_query(plan, django_assert_num_queries):
    from incidents.playbooks.actions import complete_tasks_on

    note = TimelineEntry.objects.filter(incident=plan).last()
    with django_assert_num_queries(0):
        assert complete_tasks_on(note, plan) == []


def test_the_follower_is_registered():
    from incidents.playbooks.actions import complete_tasks_on

    assert complete_tasks_on in extensions._timeline_followers


def test_a_follower_error_rolls_the_action_back(plan, make_statement, monkeypatch):
    """The follower runs inside the action's transaction: all or nothing."""

    def broken(entry, incident):
        if entry.kind == EntryKind.STATEMENT_PUBLISHED:
            raise RuntimeError("follower failed")

    monkeypatch.setattr(extensions, "_timeline_followers", [*extensions._timeline_followers])
    extensions.register_timeline_follower(broken)
    statement = make_statement(state="approved")
    from statements import actions as statement_actions

    spokesperson = statement.incident.memberships.get(role="spokesperson").user
    with pytest.raises(RuntimeError):
        statement_actions.statement_publish(
            statement=statement, actor=spokesperson, url="https://x.com/acme/status/9"
        )
    statement.refresh_from_db()
    assert statement.status == "approved"
    assert open_task(plan, PUBLISH)


# --- Task assigned ---------------------------------------------------------------------------


def test_assigning_a_task_notifies_the_assignee(plan, lead, drafter):
    task = open_task(plan, "Draft the holding statement")
    actions.task_assign(task=task, actor=lead, assignee=drafter)
    [note] = Notification.objects.filter(kind="task_assigned")
    assert (note.user, note.subject, note.incident_id) == (drafter, task.title, plan.pk)
    assert note.url == f"/incidents/{plan.pk}/#task-{task.pk}"
    actions.task_assign(task=task, actor=lead, assignee=drafter)  # no change: no new notice
    assert Notification.objects.filter(kind="task_assigned").count() == 1


def test_taking_a_task_yourself_or_unassigning_notifies_nobody(plan, lead, drafter):
    task = open_task(plan, "Draft the holding statement")
    actions.task_assign(task=task, actor=drafter, assignee=drafter)
    actions.task_assign(task=task, actor=lead, assignee=None)
    assert not Notification.objects.filter(kind="task_assigned").exists()


def test_assigning_through_the_api_notifies(plan, lead, spokesperson, api):
    task = open_task(plan, PUBLISH)
    response = api.as_user(lead).post(
        f"/api/tasks/{task.pk}/assign/", {"assignee": spokesperson.pk}, format="json"
    )
    assert response.status_code == 200
    assert Notification.objects.filter(user=spokesperson, kind="task_assigned").count() == 1
    assert response.json()["completes_on"] == "holding_published"
