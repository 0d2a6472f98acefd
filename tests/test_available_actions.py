"""Every persona in every state: the page offers exactly the actions the rule allows, the
API's `available_actions` says the same, and the API accepts exactly those.

For each (persona, state) one fresh incident is built through the actions. Each action is
then tried through the API inside a savepoint that is rolled back, so every request meets
the same state. An action not offered must be refused (4xx) or be a no-op that changes
nothing (a double click, e.g. submitting a statement already in review)."""

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from incidents import actions as incident_actions
from incidents.models import Incident, Membership, Status, TimelineEntry
from incidents.playbooks import actions as playbook_actions
from incidents.playbooks.models import Playbook, PlaybookStep, Task, TaskStatus
from incidents.playbooks.rules import TASK_ACTIONS
from incidents.rules import INCIDENT_ACTIONS
from statements.models import Statement
from statements.rules import STATEMENT_ACTIONS
from tests.helpers import STATEMENT_TEXT, ensure_policy, snapshot

POST_URL = "https://x.com/acme/status/1"
MARKER = re.compile(r'data-action="([a-z_]+)"')


def markers(html: str) -> set[str]:
    return set(MARKER.findall(html))


def accepted(response) -> bool:
    assert response.status_code < 500, response.content
    return 200 <= response.status_code < 300


# --- Statements -----------------------------------------------------------------------------

STATEMENT_PERSONAS = [
    "lead",
    "drafter",  # the author
    "legal",  # an approver whose function the policy asks for
    "approver",  # an approver without it (a generalist)
    "legal2",  # a second approver with the function
    "spokesperson",
    "observer",
    "staff",
    "outsider",
]
STATEMENT_STATES = [
    "draft",
    "in_review",
    "changes_requested",
    "approved",
    "published",
    "withdrawn",
]


@pytest.fixture
def statement_cell(incident, lead, make_user):
    """The persona incident plus two legal approvers; its statements need legal's sign-off."""
    people = {}
    for name in ("legal", "legal2"):
        people[name] = make_user(name)
        incident_actions.member_add(
            incident=incident, actor=lead, user=people[name], role="approver", function="legal"
        )
    return people


def statement_in(make_statement, state, *, legal) -> Statement:
    """A statement of the persona incident in `state`; legal's sign-off approves it."""
    policy = ensure_policy("Legal only", [(1, "legal")])
    return make_statement(state=state, reviewer=legal, approval_policy=policy, url=POST_URL)


def statement_request(client, statement, action):
    url = f"/api/statements/{statement.pk}/"
    revision = statement.revision
    if action == "edit":
        return client.patch(
            url, {"text": STATEMENT_TEXT + " Update.", "revision": revision}, format="json"
        )
    if action == "correct":
        return client.post(
            f"/api/incidents/{statement.incident_id}/statements/",
            {
                "kind": "correction",
                "channel": "x",
                "language": "en",
                "text": "A correction.",
                "corrects": statement.pk,
            },
            format="json",
        )
    data = {
        "submit": {},
        "approve": {"revision": revision},
        "request_changes": {"comment": "Legal has a late concern."},
        "publish": {"url": POST_URL, "revision": revision},
        "withdraw": {"reason": "Overtaken by events."},
    }[action]
    return client.post(f"{url}{action.replace('_', '-')}/", data, format="json")


def statement_state(statement):
    """Everything an accepted action changes (a correction adds a statement)."""
    return snapshot(statement), Statement.objects.filter(incident=statement.incident_id).count()


@pytest.mark.parametrize("persona", STATEMENT_PERSONAS)
@pytest.mark.parametrize("state", STATEMENT_STATES)
def test_statement_page_api_and_actions_agree(
    request, state, persona, api, browser_client, incident, statement_cell, make_statement
):
    statement = statement_in(make_statement, state, legal=statement_cell["legal"])
    assert statement.status == state
    user = statement_cell.get(persona) or request.getfixturevalue(persona)

    page = browser_client.as_user(user).get(f"/statements/{statement.pk}/")
    detail = api.as_user(user).get(f"/api/statements/{statement.pk}/")
    if persona == "outsider":
        assert page.status_code == detail.status_code == 404
        offered = set()
    else:
        assert page.status_code == detail.status_code == 200
        offered = markers(page.text)
        assert set(detail.json()["available_actions"]) == offered
    assert offered <= set(STATEMENT_ACTIONS)

    for action in STATEMENT_ACTIONS:
        with transaction.atomic():
            before = statement_state(statement)
            response = statement_request(api.as_user(user), statement, action)
            changed = statement_state(statement) != before
            transaction.set_rollback(True)
        if action in offered:
            assert accepted(response) and changed, (action, response.content)
        else:
            assert not changed, (action, response.status_code)
            if accepted(response):  # only a repeat of what is done already
                assert action in ("submit", "approve", "request_changes", "publish", "withdraw")


def test_the_drifted_case_a_second_approver_may_stop_an_approved_statement(
    api, incident, statement_cell, drafter, spokesperson, browser_client, make_statement
):
    statement = statement_in(make_statement, "approved", legal=statement_cell["legal"])
    legal2 = statement_cell["legal2"]
    page = browser_client.as_user(legal2).get(f"/statements/{statement.pk}/")
    assert "request_changes" in markers(page.text)
    response = statement_request(api.as_user(legal2), statement, "request_changes")
    assert response.status_code == 200
    assert response.json()["status"] == "changes_requested"
    # The spokesperson can no longer publish it.
    assert (
        "publish"
        not in api.as_user(spokesperson)
        .get(f"/api/statements/{statement.pk}/")
        .json()["available_actions"]
    )


def test_statement_lists_cost_the_same_queries_with_available_actions(
    api, incident, drafter, approver, django_assert_max_num_queries, make_statement
):
    def add(count):
        for n in range(count):
            make_statement(state="in_review" if n % 2 else "draft")

    client = api.as_user(approver)
    urls = (f"/api/incidents/{incident.pk}/statements/", "/api/approvals/")
    add(2)
    client.get(urls[0])  # warm up
    small = {}
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        small[url] = len(ctx.captured_queries)

    add(10)
    for url in urls:
        with django_assert_max_num_queries(small[url]):
            body = client.get(url).json()["results"]
        assert len(body) == (12 if url == urls[0] else 6)
        in_review = [s for s in body if s["status"] == "in_review"]
        assert in_review and all("approve" in s["available_actions"] for s in in_review)


# --- Incidents ------------------------------------------------------------------------------

INCIDENT_PERSONAS = [
    "lead",
    "drafter",
    "approver",
    "spokesperson",
    "observer",
    "staff",
    "outsider",
    "superuser",
]
PATHS = {
    Status.DETECTED: [],
    Status.ACTIVE: [Status.ACTIVE],
    Status.MONITORING: [Status.ACTIVE, Status.MONITORING],
    Status.RESOLVED: [Status.ACTIVE, Status.RESOLVED],
    Status.CLOSED: [Status.ACTIVE, Status.RESOLVED, Status.CLOSED],
}


def incident_state(incident_id):
    incident = Incident.objects.get(pk=incident_id)
    return (
        incident.status,
        incident.severity,
        incident.title,
        TimelineEntry.objects.filter(incident_id=incident_id).count(),
        Membership.objects.filter(incident_id=incident_id).count(),
    )


@pytest.mark.parametrize("persona", INCIDENT_PERSONAS)
@pytest.mark.parametrize("state", list(PATHS))
def test_incident_room_api_and_actions_agree(
    request, state, persona, api, browser_client, incident, lead, make_user
):
    for status in PATHS[state]:
        incident_actions.incident_transition(incident=incident, actor=lead, status=status)
    if persona == "superuser":
        user = make_user("root", is_staff=True, is_superuser=True)
    else:
        user = request.getfixturevalue(persona)
    newcomer = make_user("newcomer")

    page = browser_client.as_user(user).get(f"/incidents/{incident.pk}/")
    detail = api.as_user(user).get(f"/api/incidents/{incident.pk}/")
    if persona == "outsider":
        assert page.status_code == detail.status_code == 404
        offered, transitions = set(), set()
    else:
        assert page.status_code == detail.status_code == 200
        offered = markers(page.text)
        transitions = set(re.findall(r'data-transition="([a-z]+)"', page.text))
        body = detail.json()
        assert set(body["available_actions"]) == offered
        assert set(body["available_transitions"]) == transitions
    assert offered <= set(INCIDENT_ACTIONS)
    reopening = state in (Status.RESOLVED, Status.CLOSED)
    assert ("reopen" in offered) == (reopening and "change_status" in offered)

    requests = {
        f"status:{target}": ("post", "transition/", {"status": target}) for target in Status.values
    }
    requests.update(
        {
            "change_severity": ("patch", "", {"severity": 4}),
            "edit_details": ("patch", "", {"title": "A new title"}),
            "write_timeline": ("post", "timeline/", {"kind": "note", "text": "Seen on X."}),
            "manage_cell": (
                "post",
                "members/",
                {"user": newcomer.pk, "role": "drafter"},
            ),
        }
    )
    client = api.as_user(user)
    for name, (method, suffix, data) in requests.items():
        with transaction.atomic():
            before = incident_state(incident.pk)
            response = getattr(client, method)(
                f"/api/incidents/{incident.pk}/{suffix}", data, format="json"
            )
            changed = incident_state(incident.pk) != before
            transaction.set_rollback(True)
        expected = (
            name.removeprefix("status:") in transitions
            if name.startswith("status:")
            else name in offered
        )
        if expected:
            assert accepted(response) and changed, (name, response.content)
        else:
            assert not changed, (name, response.status_code)
            if accepted(response):  # asking for the current status is a no-op
                assert name == f"status:{state}", name


# --- Tasks ----------------------------------------------------------------------------------


@pytest.fixture
def followed(incident, lead):
    """The persona incident following a two-step playbook (its tasks are on the board)."""
    playbook = Playbook.objects.create(
        name="Walk", categories=["public_statement"], min_severity=1, max_severity=4
    )
    for order, role in enumerate(["lead", "drafter"]):
        PlaybookStep.objects.create(
            playbook=playbook, order=order, title=f"Step {order}", role=role, due_minutes=15
        )
    playbook_actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)
    return incident


TASK_PERSONAS = ["lead", "drafter", "spokesperson", "observer", "staff", "outsider"]
TASK_STATES = ["open", "mine", "others", "done"]  # "mine": assigned to the persona


def task_state(task_id):
    task = Task.objects.get(pk=task_id)
    return task.status, task.assignee_id, Task.objects.filter(incident_id=task.incident_id).count()


@pytest.mark.parametrize("persona", TASK_PERSONAS)
@pytest.mark.parametrize("state", TASK_STATES)
def test_task_board_api_and_actions_agree(
    request, state, persona, api, browser_client, followed, lead, drafter, spokesperson
):
    user = request.getfixturevalue(persona)
    task = Task.objects.filter(incident=followed).order_by("due_at", "id").first()
    others = drafter if user != drafter else spokesperson
    if state == "mine" and user in (lead, drafter, spokesperson):
        playbook_actions.task_assign(task=task, actor=lead, assignee=user)
    elif state in ("others", "mine"):
        playbook_actions.task_assign(task=task, actor=lead, assignee=others)
    elif state == "done":
        playbook_actions.task_complete(task=task, actor=lead)
    task.refresh_from_db()

    page = browser_client.as_user(user).get(f"/incidents/{followed.pk}/tasks/")
    listed = api.as_user(user).get(f"/api/incidents/{followed.pk}/tasks/")
    if persona == "outsider":
        assert page.status_code == listed.status_code == 404
        offered = set()
    else:
        assert page.status_code == listed.status_code == 200
        item = re.search(rf'id="task-{task.pk}"(.*?)(?=<li class="task|</ul>)', page.text, re.S)
        offered = markers(item.group(1)) if item else set()
        assert task.status == TaskStatus.DONE or item is not None
        body = next(t for t in listed.json() if t["id"] == task.pk)
        assert set(body["available_actions"]) == offered
    assert offered <= set(TASK_ACTIONS)

    someone = spokesperson if user != spokesperson else lead
    requests = [
        ("complete", "complete/", {"note": "Done."}),
        ("assign", "assign/", {"assignee": someone.pk}),
        ("take", "assign/", {"assignee": user.pk}),
        # Unassigning yourself is `release`; unassigning someone else, the lead's `assign`.
        (
            "release" if task.assignee_id in (None, user.pk) else "assign",
            "assign/",
            {"assignee": None},
        ),
    ]
    client = api.as_user(user)
    for name, suffix, data in requests:
        with transaction.atomic():
            before = task_state(task.pk)
            response = client.post(f"/api/tasks/{task.pk}/{suffix}", data, format="json")
            changed = task_state(task.pk) != before
            transaction.set_rollback(True)
        already = suffix == "assign/" and data["assignee"] == task.assignee_id
        if name in offered and not already:
            assert accepted(response) and changed, (name, data, response.content)
        else:
            assert not changed, (name, data, response.status_code)
