"""Resolving or closing an incident in the room is asked first, naming what is still open
(statements, tasks, people waiting for an answer, the promotion freeze), and done only once
confirmed; with htmx and without JavaScript. The API moves at once (its clients decide)."""

import re

import pytest

from incidents import actions
from incidents.models import TimelineEntry
from incidents.replies import actions as reply_actions
from tests.incidents.conftest import assert_htmx_done, assert_redirected_to_room, post, room_url
from tests.playbooks.conftest import make_playbook, playbook  # noqa: F401 (fixtures)
from tests.replies.conftest import attach_mentions  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

both_ways = pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])


def status_entries(incident) -> int:
    return TimelineEntry.objects.filter(incident=incident, kind="status_changed").count()


@pytest.fixture
def active(incident, lead):
    return actions.incident_transition(incident=incident, actor=lead, status="active")


@pytest.fixture
def loose(active, lead, drafter, playbook, make_statement, attach_mentions):  # noqa: F811
    """An incident with one of each loose end."""
    from incidents.playbooks import actions as playbook_actions

    playbook_actions.playbook_apply(incident=active, actor=lead, playbook=playbook)
    make_statement(state="in_review")
    make_statement(state="approved", text="Approved, never posted.")
    actions.incident_set_promotion_freeze(incident=active, actor=lead, frozen=True)
    (mention,) = attach_mentions(active, {"text": "Refund?"})
    reply_actions.triage_set(
        incident=active,
        mention=mention,
        actor=drafter,
        author_type="unhappy_customer",
        needs_answer="yes",
    )
    return active


@both_ways
def test_resolving_names_what_is_still_open_then_moves_once_confirmed(
    browser_client, loose, lead, htmx
):
    client = browser_client.as_user(lead)
    before = status_entries(loose)
    asked = post(client, room_url(loose, "status/"), {"status": "resolved"}, htmx=htmx)
    assert asked.status_code == 200
    assert "HX-Trigger" not in asked.headers  # nothing changed: the panels stay
    page = asked.text
    assert "Move this incident to “Resolved”?" in page
    for end in (
        "1 statement still waits for approval.",
        "1 approved statement was never published.",
        "playbook tasks are overdue or due within the hour.",
        "Promotional posts are still frozen",
        "1 person still waits for an answer",
    ):
        assert end in page, end
    assert 'name="confirmed_status" value="resolved"' in page
    if not htmx:  # a page of its own, with its own form
        assert f'action="{room_url(loose, "status/")}"' in page
    loose.refresh_from_db()
    assert loose.status == "active" and status_entries(loose) == before

    done = post(client, room_url(loose, "status/"), {"confirmed_status": "resolved"}, htmx=htmx)
    if htmx:
        assert_htmx_done(done)
    else:
        assert_redirected_to_room(done, loose)
    loose.refresh_from_db()
    assert loose.status == "resolved" and status_entries(loose) == before + 1


def test_nothing_left_open_is_said_too(browser_client, active, lead):
    asked = post(browser_client.as_user(lead), room_url(active, "status/"), {"status": "resolved"})
    assert asked.status_code == 200
    assert "Nothing is left open" in asked.text
    assert "anyway" not in asked.text


def test_a_move_the_person_may_not_make_is_refused_before_anything_is_listed(
    browser_client, loose, observer, lead
):
    for user, status in ((observer, "resolved"), (lead, "closed")):  # active cannot close
        refused = post(browser_client.as_user(user), room_url(loose, "status/"), {"status": status})
        assert refused.status_code == 422
        assert "still waits" not in refused.text
    # Nor does a forged confirmation skip the rules.
    forged = post(
        browser_client.as_user(observer),
        room_url(loose, "status/"),
        {"confirmed_status": "resolved"},
    )
    assert forged.status_code == 422
    loose.refresh_from_db()
    assert loose.status == "active"


def test_the_room_asks_the_server_not_the_browser(browser_client, active, lead):
    """The Resolved button carries no browser confirmation (the server's answer names the
    loose ends); reopening still asks in the browser."""

    def button(status):
        room = browser_client.as_user(lead).get(room_url(active)).text
        return re.search(rf'<button[^>]*data-transition="{status}"[^>]*>', room).group(0)

    assert "hx-confirm" not in button("resolved")
    actions.incident_transition(incident=active, actor=lead, status="resolved")
    assert "hx-confirm" not in button("closed")
    assert 'hx-confirm="Move this incident to “Active”?"' in button("active")


def test_the_api_moves_at_once(loose, lead):
    from tests.helpers import token_client

    response = token_client(lead).post(
        f"/api/incidents/{loose.pk}/transition/", {"status": "resolved"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "resolved"


def test_tasks_for_after_the_crisis_are_no_loose_end(
    browser_client,
    active,
    lead,
    playbook,  # noqa: F811
):
    """The post-mortem task, due a week on, was counted as still to do when resolving."""
    from datetime import timedelta

    from django.utils import timezone

    from incidents.playbooks import actions as playbook_actions
    from incidents.playbooks.models import Task

    playbook_actions.playbook_apply(incident=active, actor=lead, playbook=playbook)
    Task.objects.filter(incident=active).update(due_at=timezone.now() + timedelta(days=7))
    asked = post(browser_client.as_user(lead), room_url(active, "status/"), {"status": "resolved"})
    assert "playbook task" not in asked.text
