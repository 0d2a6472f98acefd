"""The checklist follows the crisis page: "Put the crisis page live" ticks itself when the
lead switches it live, and the "regular update" cadence when an update is published, on the
page as on a network (an individual reply does not keep the public informed)."""

import pytest

from incidents.crisiscenter import actions
from incidents.models import EntryKind, TimelineEntry
from incidents.playbooks import actions as playbook_actions
from incidents.playbooks.models import PlaybookStep, Task, TaskStatus

pytestmark = pytest.mark.django_db

LIVE, UPDATE = "Put the crisis page live", "Regular update"


@pytest.fixture
def followed(dark_page, playbook, incident, lead):
    PlaybookStep.objects.create(
        playbook=playbook,
        order=1,
        title=LIVE,
        role="lead",
        due_minutes=30,
        completes_on="crisis_page_live",
    )
    PlaybookStep.objects.create(
        playbook=playbook,
        order=2,
        title=UPDATE,
        role="drafter",
        due_minutes=180,
        repeat_minutes=180,
        completes_on="update_published",
    )
    playbook_actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)
    return dark_page


def tasks(incident, title):
    return list(Task.objects.filter(incident=incident, title=title).order_by("occurrence"))


def test_going_live_completes_its_step(followed, approve_texts, lead, incident, browser_client):
    approve_texts(followed)
    assert [t.status for t in tasks(incident, LIVE)] == [TaskStatus.OPEN]
    actions.page_switch(page=followed, actor=lead, action="go_live")
    [task] = tasks(incident, LIVE)
    assert task.status == TaskStatus.DONE and task.completed_by == lead
    entry = TimelineEntry.objects.get(incident=incident, kind=EntryKind.TASK_COMPLETED)
    assert entry.data["trigger"]["event"] == "crisis_page_live"
    timeline = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/timeline/").text
    assert "Completed by: crisis page put live by" in timeline


def test_an_update_on_the_page_completes_the_cadence_and_schedules_the_next(
    followed, approve_texts, lead, incident, publish_update, make_statement
):
    approve_texts(followed)
    actions.page_switch(page=followed, actor=lead, action="go_live")
    make_statement(state="published", kind="reply", channel="x", reply_to_account="@jdoe")
    make_statement(state="published", kind="apology", channel="x")
    assert [t.status for t in tasks(incident, UPDATE)] == [TaskStatus.OPEN]
    publish_update("Every batch was tested again: no defect found. Next update at 18:00.")
    first, following = tasks(incident, UPDATE)
    assert first.status == TaskStatus.DONE and following.status == TaskStatus.OPEN
    assert following.occurrence == 2 and following.completes_on == "update_published"
