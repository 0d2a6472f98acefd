"""A statement's states through the API: refused transitions and stale revisions (409),
approvals tied to one revision, requested changes, and the ordered policy."""

import pytest

from incidents.models import EntryKind, Incident, TimelineEntry
from statements import actions
from statements.models import Review, Revision
from tests.helpers import STATEMENT_TEXT, assert_error, fresh, snapshot
from tests.statements.conftest import statement_url

# The stock approval policies: a transactional test may have flushed them (see conftest).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("policies")]


# --- Transitions: 409 -----------------------------------------------------------------------


def test_publish_before_approval_is_409(
    make_statement, api, incident, drafter, approver, spokesperson
):
    statement = make_statement()
    client = api.as_user(spokesperson)
    before = snapshot(statement)
    assert_error(
        client.post(statement_url(statement, "publish/"), {"url": "https://x.com/b/1"}), 409
    )
    assert snapshot(statement) == before

    actions.statement_submit(statement=statement, actor=drafter)
    before = snapshot(statement)
    assert_error(
        client.post(statement_url(statement, "publish/"), {"url": "https://x.com/b/1"}), 409
    )
    assert snapshot(statement) == before
    assert Incident.objects.get(pk=incident.pk).first_response_at is None


def test_approving_a_draft_is_409(make_statement, api, incident, drafter, approver):
    statement = make_statement()
    before = snapshot(statement)
    response = api.as_user(approver).post(
        statement_url(statement, "approve/"), {"revision": 1}, format="json"
    )
    assert_error(response, 409)
    assert snapshot(statement) == before


def test_approving_an_older_revision_is_409_with_the_current_text(
    make_statement, api, incident, drafter, approver
):
    statement = make_statement(state="in_review")
    actions.statement_edit(statement=statement, actor=drafter, text="New text", base_revision=1)
    before = snapshot(statement)

    response = api.as_user(approver).post(
        statement_url(statement, "approve/"), {"revision": 1}, format="json"
    )
    assert_error(response, 409)
    assert response.json()["current_revision"] == 2
    assert response.json()["current_text"] == "New text"
    assert snapshot(statement) == before


def test_submitting_an_approved_statement_is_409(make_statement, api, incident, drafter, approver):
    statement = make_statement(state="approved")
    before = snapshot(statement)
    assert_error(api.as_user(drafter).post(statement_url(statement, "submit/")), 409)
    assert snapshot(statement) == before


def test_published_statement_is_final(
    make_statement, api, incident, lead, drafter, approver, spokesperson
):
    statement = make_statement(state="approved")
    actions.statement_publish(statement=statement, actor=spokesperson, url="https://x.com/b/1")
    before = snapshot(statement)

    assert_error(
        api.as_user(drafter).patch(
            statement_url(statement), {"text": "Changed", "revision": 1}, format="json"
        ),
        409,
    )
    assert_error(api.as_user(lead).post(statement_url(statement, "withdraw/")), 409)
    assert_error(api.as_user(drafter).post(statement_url(statement, "submit/")), 409)
    assert snapshot(statement) == before


def test_withdrawn_statement_cannot_be_submitted_or_edited(make_statement, api, incident, drafter):
    statement = make_statement()
    actions.statement_withdraw(statement=statement, actor=drafter)
    before = snapshot(statement)
    client = api.as_user(drafter)
    assert_error(client.post(statement_url(statement, "submit/")), 409)
    assert_error(
        client.patch(statement_url(statement), {"text": "Again", "revision": 1}, format="json"),
        409,
    )
    assert snapshot(statement) == before


def test_stale_edit_is_409_with_the_other_persons_text(
    make_statement, api, incident, drafter, approver
):
    statement = make_statement(text="Original")
    actions.statement_edit(
        statement=statement, actor=approver, text="Approver's version", base_revision=1
    )
    before = snapshot(statement)

    response = api.as_user(drafter).patch(
        statement_url(statement), {"text": "Drafter's version", "revision": 1}, format="json"
    )
    detail = assert_error(response, 409)
    assert "revision 2" in detail
    body = response.json()
    assert body["current_revision"] == 2
    assert body["current_text"] == "Approver's version"
    assert snapshot(statement) == before

    # Based on the current revision, the same edit goes through.
    response = api.as_user(drafter).patch(
        statement_url(statement), {"text": "Drafter's version", "revision": 2}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["revision"] == 3


def test_edit_with_the_same_text_creates_no_revision(make_statement, api, incident, drafter):
    statement = make_statement()
    response = api.as_user(drafter).patch(
        statement_url(statement), {"text": STATEMENT_TEXT, "revision": 1}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["revision"] == 1
    assert Revision.objects.filter(statement=statement).count() == 1


# --- Approvals are tied to one revision -----------------------------------------------------


def test_an_edit_voids_the_approvals(
    make_statement, api, incident, drafter, approver, spokesperson
):
    statement = make_statement(state="approved")
    assert fresh(statement).status == "approved"

    response = api.as_user(drafter).patch(
        statement_url(statement),
        {"text": STATEMENT_TEXT + " Updated.", "revision": 1},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["revision"] == 2
    assert body["status"] == "in_review"
    assert body["approved_at"] is None
    assert body["approvals"] == []
    assert body["awaiting"] == ["1. any approver"]
    # The earlier approval stays in the record, tied to the revision it signed.
    assert [(r["revision"], r["decision"]) for r in body["reviews"]] == [(1, "approved")]

    assert [s["id"] for s in api.as_user(approver).get("/api/approvals/").json()["results"]] == [
        statement.pk
    ]
    assert_error(
        api.as_user(spokesperson).post(
            statement_url(statement, "publish/"), {"url": "https://x.com/b/1"}
        ),
        409,
    )
    voided = TimelineEntry.objects.filter(incident=incident, kind=EntryKind.STATEMENT_REVISED).get()
    assert voided.data["approvals_voided"] is True

    response = api.as_user(approver).post(
        statement_url(statement, "approve/"), {"revision": 2}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert [a["revision"] for a in response.json()["approvals"]] == [2]


def test_approving_twice_counts_once(make_statement, api, incident, drafter, approver):
    statement = make_statement(state="in_review")
    client = api.as_user(approver)
    for _ in range(2):
        response = client.post(statement_url(statement, "approve/"), {"revision": 1})
        assert response.status_code == 200, response.content
    assert Review.objects.filter(statement=statement).count() == 1
    assert len(response.json()["approvals"]) == 1


def test_request_changes_then_resubmit(make_statement, api, incident, drafter, approver):
    statement = make_statement(state="in_review")

    response = api.as_user(approver).post(
        statement_url(statement, "request-changes/"),
        {"comment": "Say when we will update."},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "changes_requested"
    assert [(r["decision"], r["comment"]) for r in body["reviews"]] == [
        ("changes_requested", "Say when we will update.")
    ]
    assert api.as_user(approver).get("/api/approvals/").json()["results"] == []

    client = api.as_user(drafter)
    response = client.patch(
        statement_url(statement), {"text": STATEMENT_TEXT + " Next update at 6 pm.", "revision": 1}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "changes_requested"
    response = client.post(statement_url(statement, "submit/"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_review"
    assert response.json()["revision"] == 2


def test_ordered_policy_waits_for_legal_then_communications(
    make_statement, api, incident, drafter, legal, communications, ordered_policy
):
    comms = communications
    statement = make_statement(approval_policy=ordered_policy)
    actions.statement_submit(statement=statement, actor=drafter)

    assert api.as_user(comms).get("/api/approvals/").json()["results"] == []
    assert_error(
        api.as_user(comms).post(statement_url(statement, "approve/"), {"revision": 1}), 403
    )
    assert [s["id"] for s in api.as_user(legal).get("/api/approvals/").json()["results"]] == [
        statement.pk
    ]

    response = api.as_user(legal).post(statement_url(statement, "approve/"), {"revision": 1})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_review"
    assert response.json()["awaiting"] == ["2. Communications"]
    assert [s["id"] for s in api.as_user(comms).get("/api/approvals/").json()["results"]] == [
        statement.pk
    ]

    response = api.as_user(comms).post(statement_url(statement, "approve/"), {"revision": 1})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
