"""Who may do what to a statement through the API: the roles (403) and everyone outside
the cell (404, nothing written)."""

import pytest
from rest_framework.test import APIClient

from incidents import actions as incident_actions
from incidents.models import Incident
from statements import actions
from statements.models import Statement
from tests.helpers import STATEMENT_TEXT, assert_error, dt, fresh, snapshot
from tests.statements.conftest import statement_url, statements_url

# The stock approval policies: a transactional test may have flushed them (see conftest).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("policies")]


# --- Roles: 403 -----------------------------------------------------------------------------


def test_observer_cannot_draft(api, incident, observer):
    response = api.as_user(observer).post(
        statements_url(incident),
        {"kind": "holding", "channel": "x", "language": "en", "text": STATEMENT_TEXT},
        format="json",
    )
    assert "not observers" in assert_error(response, 403)
    assert not Statement.objects.exists()


def test_observer_cannot_edit_submit_or_withdraw(make_statement, api, incident, drafter, observer):
    statement = make_statement()
    before = snapshot(statement)
    client = api.as_user(observer)

    assert_error(
        client.patch(statement_url(statement), {"text": "Mine", "revision": 1}, format="json"),
        403,
    )
    assert_error(client.post(statement_url(statement, "submit/")), 403)
    assert_error(client.post(statement_url(statement, "withdraw/"), {}, format="json"), 403)
    assert snapshot(statement) == before


def test_author_cannot_approve_own_statement(
    make_statement, api, incident, approver, second_approver
):
    statement = make_statement(author=approver, state="in_review")  # approvers may draft too
    before = snapshot(statement)

    detail = assert_error(
        api.as_user(approver).post(
            statement_url(statement, "approve/"), {"revision": 1}, format="json"
        ),
        403,
    )
    assert "four-eyes" in detail
    assert snapshot(statement) == before
    assert api.as_user(approver).get("/api/approvals/").json()["results"] == []

    # Someone else's eyes are what the rule asks for.
    response = api.as_user(second_approver).post(
        statement_url(statement, "approve/"), {"revision": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"


def test_approver_who_revised_the_text_cannot_approve_it(
    make_statement, api, incident, drafter, approver, second_approver
):
    statement = make_statement(state="in_review")
    actions.statement_edit(
        statement=statement, actor=approver, text=STATEMENT_TEXT + " Edited.", base_revision=1
    )

    response = api.as_user(approver).post(
        statement_url(statement, "approve/"), {"revision": 2}, format="json"
    )
    assert_error(response, 403)
    assert fresh(statement).status == "in_review"
    assert (
        api.as_user(second_approver).get("/api/approvals/").json()["results"][0]["id"]
        == statement.pk
    )


def test_author_cannot_request_changes_on_own_statement(
    make_statement, api, incident, approver, second_approver
):
    statement = make_statement(author=approver, state="in_review")
    before = snapshot(statement)
    response = api.as_user(approver).post(
        statement_url(statement, "request-changes/"), {"comment": "Hmm"}, format="json"
    )
    assert_error(response, 403)
    assert snapshot(statement) == before


@pytest.mark.parametrize("who", ["drafter", "spokesperson", "lead", "observer"])
def test_only_approvers_review(
    make_statement, request, api, incident, drafter, approver, second_approver, who
):
    statement = make_statement(author=approver, state="in_review")
    user = request.getfixturevalue(who)
    before = snapshot(statement)
    client = api.as_user(user)

    assert_error(
        client.post(statement_url(statement, "approve/"), {"revision": 1}, format="json"), 403
    )
    assert_error(
        client.post(statement_url(statement, "request-changes/"), {"comment": "No"}, format="json"),
        403,
    )
    assert snapshot(statement) == before


@pytest.mark.parametrize("who", ["drafter", "approver", "lead", "observer"])
def test_only_the_spokesperson_publishes(
    make_statement, request, api, incident, drafter, approver, who
):
    statement = make_statement(state="approved")
    before = snapshot(statement)
    response = api.as_user(request.getfixturevalue(who)).post(
        statement_url(statement, "publish/"), {"url": "https://x.com/b/1"}, format="json"
    )
    assert "spokesperson" in assert_error(response, 403)
    assert snapshot(statement) == before
    assert Incident.objects.get(pk=incident.pk).first_response_at is None


def test_lead_publishes_when_the_policy_allows_it(
    make_statement, api, incident, lead, drafter, approver
):
    statement = make_statement(state="approved")
    statement.policy.allow_lead_publish = True
    statement.policy.save()

    response = api.as_user(lead).post(
        statement_url(statement, "publish/"), {"url": "https://x.com/b/1"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"


def test_withdraw_is_for_the_author_or_the_lead(
    make_statement, api, incident, lead, drafter, approver
):
    mine = make_statement()
    other = make_statement()

    assert_error(api.as_user(approver).post(statement_url(mine, "withdraw/")), 403)
    assert fresh(mine).status == "draft"

    response = api.as_user(drafter).post(
        statement_url(mine, "withdraw/"), {"reason": "Superseded"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    dt(response.json()["withdrawn_at"])

    response = api.as_user(lead).post(statement_url(other, "withdraw/"), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"


def test_staff_outside_the_cell_reads_but_cannot_draft(
    make_statement, api, incident, drafter, staff
):
    statement = make_statement()
    client = api.as_user(staff)

    assert client.get(statement_url(statement)).status_code == 200
    response = client.post(
        statements_url(incident),
        {"kind": "holding", "channel": "x", "language": "en", "text": STATEMENT_TEXT},
        format="json",
    )
    assert_error(response, 403)


# --- Outsiders: 404 everywhere --------------------------------------------------------------


ENDPOINTS = [
    ("get", "incident-list", None),
    ("post", "incident-list", {"kind": "holding", "channel": "x", "language": "en", "text": "Hi"}),
    ("get", "", None),
    ("patch", "", {"text": "Hijacked", "revision": 1}),
    ("get", "revisions/", None),
    ("post", "submit/", None),
    ("post", "approve/", {"revision": 1}),
    ("post", "request-changes/", {"comment": "No"}),
    ("post", "publish/", {"url": "https://x.com/b/1"}),
    ("post", "withdraw/", {"reason": "No"}),
]


@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    ENDPOINTS,
    ids=[f"{m}-{s.strip('/') or 'detail'}" for m, s, _ in ENDPOINTS],
)
@pytest.mark.parametrize("status", ["draft", "in_review", "approved"])
def test_outsider_gets_404_on_every_endpoint(
    make_statement, api, incident, drafter, approver, outsider, method, suffix, data, status
):
    statement = make_statement(state=status)
    before = snapshot(statement)
    url = (
        statements_url(incident) if suffix == "incident-list" else statement_url(statement, suffix)
    )

    response = getattr(api.as_user(outsider), method)(url, data, format="json")

    assert_error(response, 404)
    assert snapshot(statement) == before
    assert Statement.objects.count() == 1


def test_outsider_inbox_is_empty_and_unknown_statement_is_404(
    make_statement, api, incident, drafter, outsider
):
    make_statement(state="in_review")
    client = api.as_user(outsider)
    assert client.get("/api/approvals/").json()["results"] == []
    assert_error(client.get(statement_url(999_999)), 404)


def test_anonymous_callers_are_refused(make_statement, incident, drafter):
    statement = make_statement()
    client = APIClient()
    for url in (statements_url(incident), statement_url(statement), "/api/approvals/"):
        assert client.get(url).status_code in (401, 403)


def test_a_member_who_left_loses_access(make_statement, api, incident, lead, drafter):
    statement = make_statement()
    incident_actions.member_remove(incident=incident, actor=lead, user=drafter)
    assert_error(api.as_user(drafter).get(statement_url(statement)), 404)
