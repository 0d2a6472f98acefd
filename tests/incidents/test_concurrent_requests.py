"""Twenty members writing to the same incident at the same moment, through the API and
real connections: PostgreSQL's row locks, SQLite's write lock in the embedded mode (BEGIN
IMMEDIATE, WAL, busy timeout). Nobody gets a 5xx, the timeline stays gap-free."""

import pytest
from django.utils import timezone

from incidents import actions
from incidents.models import EntryKind, TimelineEntry
from incidents.playbooks.models import Task
from tests.helpers import assert_chain_intact, run_concurrently, token_client

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


@pytest.fixture
def writers(incident, lead, make_user):
    users = [make_user(f"writer{n}") for n in range(THREADS)]
    for user in users:
        actions.member_add(incident=incident, actor=lead, user=user, role="drafter")
    return users


def requests_at_once(calls):
    responses, _, unexpected = run_concurrently(calls)
    assert unexpected == []
    assert len(responses) == len(calls)
    assert [r.status_code for r in responses if r.status_code >= 500] == []
    return responses


def test_twenty_timeline_entries_at_once(incident, writers):
    url = f"/api/incidents/{incident.pk}/timeline/"
    before = TimelineEntry.objects.filter(incident=incident).count()

    responses = requests_at_once(
        [
            lambda user=user, n=n: token_client(user).post(
                url, {"kind": "note", "text": f"Seen by {n}"}, format="json"
            )
            for n, user in enumerate(writers)
        ]
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["seq"] for r in responses}) == THREADS
    notes = TimelineEntry.objects.filter(incident=incident, kind=EntryKind.NOTE)
    assert notes.count() == THREADS
    assert TimelineEntry.objects.filter(incident=incident).count() == before + THREADS
    assert_chain_intact(incident)


def test_twenty_members_completing_the_same_task_at_once(incident, writers):
    task = Task.objects.create(
        incident=incident, title="Brief the CEO", role="lead", due_at=timezone.now()
    )
    url = f"/api/tasks/{task.pk}/complete/"

    responses = requests_at_once(
        [lambda user=user: token_client(user).post(url, {}, format="json") for user in writers]
    )

    assert sorted(r.status_code for r in responses) == [200] + [409] * (THREADS - 1)
    task.refresh_from_db()
    assert task.status == "done"
    completed = TimelineEntry.objects.filter(incident=incident, kind=EntryKind.TASK_COMPLETED)
    assert completed.count() == 1
    assert completed.get().actor_id == task.completed_by_id
    assert_chain_intact(incident)


def test_writers_keep_going_while_others_read(incident, writers, lead):
    """WAL: readers of the timeline do not hold up the writers, nor the reverse."""
    url = f"/api/incidents/{incident.pk}/timeline/"
    writes = [
        lambda user=user: token_client(user).post(url, {"kind": "note", "text": "x"}, format="json")
        for user in writers[: THREADS // 2]
    ]
    reads = [lambda: token_client(lead).get(url) for _ in range(THREADS // 2)]

    responses = requests_at_once(writes + reads)

    assert sorted(r.status_code for r in responses) == [200] * (THREADS // 2) + [201] * (
        THREADS // 2
    )
    assert_chain_intact(incident)
