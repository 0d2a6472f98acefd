"""The statements API: drafting, revisions, four-eyes review, publication, and its errors."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from incidents import actions as incident_actions
from incidents.models import EntryKind, Incident, TimelineEntry
from statements import actions
from statements.models import Review, Revision, Statement, text_hash
from tests.helpers import assert_error, dt, fresh, snapshot

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"  # what the conftest `make_user` factory sets
HOLDING = "We are aware of the post and are looking into it. More information soon."

STATEMENT_FIELDS = {
    "id",
    "incident",
    "kind",
    "channel",
    "language",
    "title",
    "reply_to_account",
    "reply_to_url",
    "corrects",
    "status",
    "status_label",
    "revision",
    "text",
    "length",
    "limit",
    "author",
    "revised_by",
    "policy",
    "approvals",
    "awaiting",
    "reviews",
    "available_actions",
    "created_at",
    "submitted_at",
    "approved_at",
    "published_at",
    "published_url",
    "published_by",
    "withdrawn_at",
}


# --- Helpers --------------------------------------------------------------------------------


def statements_url(incident):
    return f"/api/incidents/{incident.pk}/statements/"


def statement_url(statement, suffix=""):
    pk = statement if isinstance(statement, int) else statement.pk
    return f"/api/statements/{pk}/{suffix}"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def draft(incident, actor, text=HOLDING, **fields):
    values = {"kind": "holding", "channel": "x", "language": "en", **fields}
    return actions.statement_create(incident=incident, actor=actor, text=text, **values)


def submitted(incident, actor, text=HOLDING, **fields):
    statement = draft(incident, actor, text, **fields)
    return actions.statement_submit(statement=statement, actor=actor)


def approved(incident, author, reviewer, text=HOLDING, **fields):
    statement = submitted(incident, author, text, **fields)
    return actions.statement_approve(
        statement=statement, actor=reviewer, revision=statement.revision
    )


@pytest.fixture(autouse=True)
def _policies(policies):
    """The stock approval policies (see conftest: a transactional test may have flushed them)."""
    return policies


# --- The happy path -------------------------------------------------------------------------


def test_full_flow_drafter_approver_spokesperson(incident, drafter, approver, spokesperson):
    cache.clear()  # the token endpoint is throttled through the cache
    # The drafter works with a token, the approver with a session, the spokesperson forced.
    token = APIClient().post(
        "/api/auth/token/", {"username": "drafter", "password": PASSWORD}, format="json"
    )
    assert token.status_code == 200, token.content
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    reviewer = APIClient()
    # The sign-in lockout (django-axes) judges each attempt by its request.
    assert reviewer.login(request=HttpRequest(), username="approver", password=PASSWORD)
    publisher = client_for(spokesperson)

    created = writer.post(
        statements_url(incident),
        {
            "kind": "holding",
            "channel": "x",
            "language": "en",
            "title": "Holding X",
            "text": "We are aware of the post.",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == STATEMENT_FIELDS
    statement_id = body["id"]
    assert body["incident"] == incident.pk
    assert body["status"] == "draft"
    assert body["status_label"] == "Draft"
    assert body["revision"] == 1
    assert body["text"] == "We are aware of the post."
    assert body["length"] == len("We are aware of the post.")
    assert body["limit"] == 280
    assert body["author"]["username"] == "drafter"
    assert body["revised_by"]["username"] == "drafter"
    assert body["policy"] == "One approver"
    assert body["approvals"] == []
    assert body["awaiting"] == ["1. any approver"]
    assert body["reviews"] == []
    assert body["submitted_at"] is None and body["published_at"] is None
    dt(body["created_at"])

    listed = writer.get(statements_url(incident))
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()] == [statement_id]

    edited = writer.patch(
        statement_url(statement_id), {"text": HOLDING, "revision": 1}, format="json"
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["revision"] == 2
    assert edited.json()["text"] == HOLDING
    assert edited.json()["length"] == len(HOLDING)

    revisions = writer.get(statement_url(statement_id, "revisions/"))
    assert revisions.status_code == 200
    assert [(r["number"], r["text"]) for r in revisions.json()] == [
        (1, "We are aware of the post."),
        (2, HOLDING),
    ]
    assert revisions.json()[1]["content_hash"] == text_hash(HOLDING)
    assert revisions.json()[1]["author"]["username"] == "drafter"

    sent = writer.post(statement_url(statement_id, "submit/"))
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "in_review"
    dt(sent.json()["submitted_at"])

    inbox = reviewer.get("/api/approvals/")
    assert inbox.status_code == 200
    assert [s["id"] for s in inbox.json()] == [statement_id]

    signed = reviewer.post(
        statement_url(statement_id, "approve/"),
        {"revision": 2, "comment": "Fine by legal."},
        format="json",
    )
    assert signed.status_code == 200, signed.content
    body = signed.json()
    assert body["status"] == "approved"
    assert body["awaiting"] == []
    assert [
        (a["revision"], a["reviewer"]["username"], a["comment"]) for a in body["approvals"]
    ] == [(2, "approver", "Fine by legal.")]
    assert [r["decision"] for r in body["reviews"]] == ["approved"]
    dt(body["approved_at"])
    assert reviewer.get("/api/approvals/").json() == []

    published = publisher.post(
        statement_url(statement_id, "publish/"),
        {"url": "https://x.com/brand/status/1"},
        format="json",
    )
    assert published.status_code == 200, published.content
    body = published.json()
    assert body["status"] == "published"
    assert body["published_url"] == "https://x.com/brand/status/1"
    assert body["published_by"]["username"] == "spokesperson"
    published_at = dt(body["published_at"])

    incident.refresh_from_db()
    assert incident.first_response_at == published_at
    shown = writer.get(f"/api/incidents/{incident.pk}/")
    assert shown.status_code == 200
    assert dt(shown.json()["first_response_at"]) == published_at

    kinds = list(
        TimelineEntry.objects.filter(incident=incident, kind__startswith="statement_")
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        EntryKind.STATEMENT_DRAFTED,
        EntryKind.STATEMENT_REVISED,
        EntryKind.STATEMENT_SUBMITTED,
        EntryKind.STATEMENT_APPROVED,
        EntryKind.STATEMENT_PUBLISHED,
    ]


def test_statement_detail_shows_the_current_revision_and_length(incident, drafter, observer):
    statement = draft(incident, drafter, "Short")
    actions.statement_edit(statement=statement, actor=drafter, text="Longer text", base_revision=1)

    response = client_for(observer).get(statement_url(statement))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == STATEMENT_FIELDS
    assert body["revision"] == 2
    assert body["text"] == "Longer text"
    assert body["length"] == 11
    assert body["limit"] == 280


def test_channel_without_limit_reports_null_limit(api, incident, drafter):
    response = api.as_user(drafter).post(
        statements_url(incident),
        {"kind": "holding", "channel": "press_release", "language": "fr", "text": "x" * 5000},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["limit"] is None
    assert response.json()["length"] == 5000


def test_list_is_newest_first_and_visible_to_observers(api, incident, drafter, observer):
    first = draft(incident, drafter, "First")
    second = draft(incident, drafter, "Second")

    response = api.as_user(observer).get(statements_url(incident))

    assert response.status_code == 200
    assert [s["id"] for s in response.json()] == [second.pk, first.pk]


# --- Roles: 403 -----------------------------------------------------------------------------


def test_observer_cannot_draft(api, incident, observer):
    response = api.as_user(observer).post(
        statements_url(incident),
        {"kind": "holding", "channel": "x", "language": "en", "text": HOLDING},
        format="json",
    )
    assert "Observer" in assert_error(response, 403)
    assert not Statement.objects.exists()


def test_observer_cannot_edit_submit_or_withdraw(api, incident, drafter, observer):
    statement = draft(incident, drafter)
    before = snapshot(statement)
    client = api.as_user(observer)

    assert_error(
        client.patch(statement_url(statement), {"text": "Mine", "revision": 1}, format="json"),
        403,
    )
    assert_error(client.post(statement_url(statement, "submit/")), 403)
    assert_error(client.post(statement_url(statement, "withdraw/"), {}, format="json"), 403)
    assert snapshot(statement) == before


def test_author_cannot_approve_own_statement(api, incident, approver, second_approver):
    statement = submitted(incident, approver)  # approvers may draft too
    before = snapshot(statement)

    detail = assert_error(
        api.as_user(approver).post(
            statement_url(statement, "approve/"), {"revision": 1}, format="json"
        ),
        403,
    )
    assert "four-eyes" in detail
    assert snapshot(statement) == before
    assert api.as_user(approver).get("/api/approvals/").json() == []

    # Someone else's eyes are what the rule asks for.
    response = api.as_user(second_approver).post(
        statement_url(statement, "approve/"), {"revision": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"


def test_approver_who_revised_the_text_cannot_approve_it(
    api, incident, drafter, approver, second_approver
):
    statement = submitted(incident, drafter)
    actions.statement_edit(
        statement=statement, actor=approver, text=HOLDING + " Edited.", base_revision=1
    )

    response = api.as_user(approver).post(
        statement_url(statement, "approve/"), {"revision": 2}, format="json"
    )
    assert_error(response, 403)
    assert fresh(statement).status == "in_review"
    assert api.as_user(second_approver).get("/api/approvals/").json()[0]["id"] == statement.pk


def test_author_cannot_request_changes_on_own_statement(api, incident, approver):
    statement = submitted(incident, approver)
    before = snapshot(statement)
    response = api.as_user(approver).post(
        statement_url(statement, "request-changes/"), {"comment": "Hmm"}, format="json"
    )
    assert_error(response, 403)
    assert snapshot(statement) == before


@pytest.mark.parametrize("who", ["drafter", "spokesperson", "lead", "observer"])
def test_only_approvers_review(request, api, incident, drafter, approver, who):
    statement = submitted(incident, approver)
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
def test_only_the_spokesperson_publishes(request, api, incident, drafter, approver, who):
    statement = approved(incident, drafter, approver)
    before = snapshot(statement)
    response = api.as_user(request.getfixturevalue(who)).post(
        statement_url(statement, "publish/"), {"url": "https://x.com/b/1"}, format="json"
    )
    assert "spokesperson" in assert_error(response, 403)
    assert snapshot(statement) == before
    assert Incident.objects.get(pk=incident.pk).first_response_at is None


def test_lead_publishes_when_the_policy_allows_it(api, incident, lead, drafter, approver):
    statement = approved(incident, drafter, approver)
    statement.policy.allow_lead_publish = True
    statement.policy.save()

    response = api.as_user(lead).post(
        statement_url(statement, "publish/"), {"url": "https://x.com/b/1"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"


def test_withdraw_is_for_the_author_or_the_lead(api, incident, lead, drafter, approver):
    mine = draft(incident, drafter)
    other = draft(incident, drafter)

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


def test_staff_outside_the_cell_reads_but_cannot_draft(api, incident, drafter, staff):
    statement = draft(incident, drafter)
    client = api.as_user(staff)

    assert client.get(statement_url(statement)).status_code == 200
    response = client.post(
        statements_url(incident),
        {"kind": "holding", "channel": "x", "language": "en", "text": HOLDING},
        format="json",
    )
    assert_error(response, 403)


# --- Transitions: 409 -----------------------------------------------------------------------


def test_publish_before_approval_is_409(api, incident, drafter, approver, spokesperson):
    statement = draft(incident, drafter)
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


def test_approving_a_draft_is_409(api, incident, drafter, approver):
    statement = draft(incident, drafter)
    before = snapshot(statement)
    response = api.as_user(approver).post(
        statement_url(statement, "approve/"), {"revision": 1}, format="json"
    )
    assert_error(response, 409)
    assert snapshot(statement) == before


def test_approving_an_older_revision_is_409_with_the_current_text(api, incident, drafter, approver):
    statement = submitted(incident, drafter)
    actions.statement_edit(statement=statement, actor=drafter, text="New text", base_revision=1)
    before = snapshot(statement)

    response = api.as_user(approver).post(
        statement_url(statement, "approve/"), {"revision": 1}, format="json"
    )
    assert_error(response, 409)
    assert response.json()["current_revision"] == 2
    assert response.json()["current_text"] == "New text"
    assert snapshot(statement) == before


def test_submitting_an_approved_statement_is_409(api, incident, drafter, approver):
    statement = approved(incident, drafter, approver)
    before = snapshot(statement)
    assert_error(api.as_user(drafter).post(statement_url(statement, "submit/")), 409)
    assert snapshot(statement) == before


def test_published_statement_is_final(api, incident, lead, drafter, approver, spokesperson):
    statement = approved(incident, drafter, approver)
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


def test_withdrawn_statement_cannot_be_submitted_or_edited(api, incident, drafter):
    statement = draft(incident, drafter)
    actions.statement_withdraw(statement=statement, actor=drafter)
    before = snapshot(statement)
    client = api.as_user(drafter)
    assert_error(client.post(statement_url(statement, "submit/")), 409)
    assert_error(
        client.patch(statement_url(statement), {"text": "Again", "revision": 1}, format="json"),
        409,
    )
    assert snapshot(statement) == before


def test_stale_edit_is_409_with_the_other_persons_text(api, incident, drafter, approver):
    statement = draft(incident, drafter, "Original")
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


def test_edit_with_the_same_text_creates_no_revision(api, incident, drafter):
    statement = draft(incident, drafter)
    response = api.as_user(drafter).patch(
        statement_url(statement), {"text": HOLDING, "revision": 1}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["revision"] == 1
    assert Revision.objects.filter(statement=statement).count() == 1


# --- Approvals are tied to one revision -----------------------------------------------------


def test_an_edit_voids_the_approvals(api, incident, drafter, approver, spokesperson):
    statement = approved(incident, drafter, approver)
    assert fresh(statement).status == "approved"

    response = api.as_user(drafter).patch(
        statement_url(statement), {"text": HOLDING + " Updated.", "revision": 1}, format="json"
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

    assert [s["id"] for s in api.as_user(approver).get("/api/approvals/").json()] == [statement.pk]
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


def test_approving_twice_counts_once(api, incident, drafter, approver):
    statement = submitted(incident, drafter)
    client = api.as_user(approver)
    for _ in range(2):
        response = client.post(statement_url(statement, "approve/"), {"revision": 1})
        assert response.status_code == 200, response.content
    assert Review.objects.filter(statement=statement).count() == 1
    assert len(response.json()["approvals"]) == 1


def test_request_changes_then_resubmit(api, incident, drafter, approver):
    statement = submitted(incident, drafter)

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
    assert api.as_user(approver).get("/api/approvals/").json() == []

    client = api.as_user(drafter)
    response = client.patch(
        statement_url(statement), {"text": HOLDING + " Next update at 6 pm.", "revision": 1}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "changes_requested"
    response = client.post(statement_url(statement, "submit/"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_review"
    assert response.json()["revision"] == 2


def test_ordered_policy_waits_for_legal_then_communications(
    api, incident, drafter, legal, communications, ordered_policy
):
    comms = communications
    statement = draft(incident, drafter, approval_policy=ordered_policy)
    actions.statement_submit(statement=statement, actor=drafter)

    assert api.as_user(comms).get("/api/approvals/").json() == []
    assert_error(
        api.as_user(comms).post(statement_url(statement, "approve/"), {"revision": 1}), 403
    )
    assert [s["id"] for s in api.as_user(legal).get("/api/approvals/").json()] == [statement.pk]

    response = api.as_user(legal).post(statement_url(statement, "approve/"), {"revision": 1})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_review"
    assert response.json()["awaiting"] == ["2. Communications"]
    assert [s["id"] for s in api.as_user(comms).get("/api/approvals/").json()] == [statement.pk]

    response = api.as_user(comms).post(statement_url(statement, "approve/"), {"revision": 1})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"


# --- The inbox ------------------------------------------------------------------------------


def test_approvals_inbox_lists_only_what_waits_for_me(
    api, declare, incident, lead, drafter, approver, second_approver
):
    waiting = submitted(incident, drafter, "Waiting")
    draft(incident, drafter, "Still a draft")
    approved(incident, drafter, second_approver, "Already approved")
    mine = submitted(incident, approver, "I wrote it")
    elsewhere = declare(title="Other incident")
    incident_actions.member_add(incident=elsewhere, actor=lead, user=drafter, role="drafter")
    submitted(elsewhere, drafter, "Not my cell")

    response = api.as_user(approver).get("/api/approvals/")
    assert response.status_code == 200
    assert [s["id"] for s in response.json()] == [waiting.pk]
    assert set(response.json()[0]) == STATEMENT_FIELDS

    # The second approver sees both in-review statements of the cell, mine included.
    ids = [s["id"] for s in api.as_user(second_approver).get("/api/approvals/").json()]
    assert ids == [waiting.pk, mine.pk]
    assert api.as_user(drafter).get("/api/approvals/").json() == []


# --- First response -------------------------------------------------------------------------


def test_only_the_first_public_statement_sets_first_response(
    api, incident, drafter, approver, spokesperson
):
    briefing = approved(
        incident, drafter, approver, "Internal only", kind="briefing", channel="email"
    )
    client = api.as_user(spokesperson)
    response = client.post(statement_url(briefing, "publish/"), {"url": ""}, format="json")
    assert response.status_code == 200, response.content
    assert Incident.objects.get(pk=incident.pk).first_response_at is None

    first = approved(incident, drafter, approver, "First", channel="press_release")
    earlier = incident.detected_at  # the earliest accepted time
    response = client.post(
        statement_url(first, "publish/"),
        {"url": "", "published_at": earlier.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert dt(response.json()["published_at"]) == earlier

    second = approved(incident, drafter, approver, "Second")
    client.post(statement_url(second, "publish/"), {"url": "https://x.com/b/2"}, format="json")
    assert fresh(second).status == "published"
    assert Incident.objects.get(pk=incident.pk).first_response_at == earlier
    shown = api.as_user(drafter).get(f"/api/incidents/{incident.pk}/").json()
    assert dt(shown["first_response_at"]) == earlier


# --- Bad input: 400 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n  "}, "text"),
        ({"text": "x" * 50_001}, "text"),
        ({"channel": "myspace"}, "channel"),
        ({"kind": "rumour"}, "kind"),
        ({"language": "xx"}, "language"),
        ({"reply_to_url": "not a url"}, "reply_to_url"),
    ],
    ids=["empty", "blank", "too-long", "channel", "kind", "language", "reply-url"],
)
def test_create_rejects_bad_input(api, incident, drafter, payload, field):
    data = {"kind": "holding", "channel": "x", "language": "en", "text": HOLDING, **payload}
    response = api.as_user(drafter).post(statements_url(incident), data, format="json")
    detail = assert_error(response, 400)
    assert field in detail
    assert field in response.json()["errors"]
    assert not Statement.objects.exists()


def test_reply_names_what_it_answers(api, incident, drafter):
    client = api.as_user(drafter)
    data = {"kind": "reply", "channel": "x", "language": "en", "text": "Sorry about that."}
    detail = assert_error(client.post(statements_url(incident), data, format="json"), 400)
    assert "reply" in detail
    assert not Statement.objects.exists()

    response = client.post(
        statements_url(incident),
        {**data, "reply_to_account": "@jdoe", "reply_to_url": "https://x.com/jdoe/status/9"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["reply_to_account"] == "@jdoe"


def test_correction_needs_a_published_statement(api, incident, drafter, approver, spokesperson):
    client = api.as_user(drafter)
    data = {"kind": "correction", "channel": "x", "language": "en", "text": "Correction."}
    assert_error(client.post(statements_url(incident), data, format="json"), 400)

    unpublished = draft(incident, drafter)
    assert_error(
        client.post(statements_url(incident), {**data, "corrects": unpublished.pk}, format="json"),
        400,
    )

    published = approved(incident, drafter, approver)
    actions.statement_publish(statement=published, actor=spokesperson, url="https://x.com/b/1")
    response = client.post(
        statements_url(incident), {**data, "corrects": published.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["corrects"] == published.pk


def test_edit_rejects_empty_text(api, incident, drafter):
    statement = draft(incident, drafter)
    before = snapshot(statement)
    client = api.as_user(drafter)
    assert "text" in assert_error(
        client.patch(statement_url(statement), {"text": "", "revision": 1}, format="json"), 400
    )
    assert "revision" in assert_error(
        client.patch(statement_url(statement), {"text": "New"}, format="json"), 400
    )
    assert snapshot(statement) == before


def test_submit_over_the_x_limit_suggests_a_thread(api, incident, drafter):
    sentence = "We are aware of the post published this morning and we are looking into it. "
    text = (sentence * 6).strip()
    statement = draft(incident, drafter, text)
    before = snapshot(statement)

    response = api.as_user(drafter).post(statement_url(statement, "submit/"))

    detail = assert_error(response, 400)
    assert f"{len(text) - 280} characters over the 280-character limit" in detail
    assert "thread" in detail
    thread = response.json()["suggested_thread"]
    assert len(thread) >= 2
    assert all(len(post) <= 280 for post in thread)
    assert thread[0].endswith(f"(1/{len(thread)})")
    assert snapshot(statement) == before


def test_submit_over_a_non_threadable_limit_has_no_thread(api, incident, drafter):
    statement = draft(incident, drafter, "x" * 2_201, channel="instagram")
    response = api.as_user(drafter).post(statement_url(statement, "submit/"))
    assert "1 characters over the 2200-character limit" in assert_error(response, 400)
    assert "suggested_thread" not in response.json()
    assert fresh(statement).status == "draft"


def test_exactly_at_the_limit_can_be_submitted(api, incident, drafter):
    statement = draft(incident, drafter, "x" * 280)
    response = api.as_user(drafter).post(statement_url(statement, "submit/"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_review"


@pytest.mark.parametrize(
    "payload",
    [
        {"url": "not a url"},
        {"url": "ftp://x.com/b/1"},
        {"url": ""},  # X is a social channel: the post's address is required
        {"url": "https://x.com/b/1", "published_at": "yesterday"},
    ],
    ids=["garbage", "ftp", "missing", "bad-date"],
)
def test_publish_rejects_bad_input(api, incident, drafter, approver, spokesperson, payload):
    statement = approved(incident, drafter, approver)
    before = snapshot(statement)
    response = api.as_user(spokesperson).post(
        statement_url(statement, "publish/"), payload, format="json"
    )
    assert_error(response, 400)
    assert snapshot(statement) == before


def test_publish_time_must_be_plausible(api, incident, drafter, approver, spokesperson):
    statement = approved(incident, drafter, approver)
    before = snapshot(statement)
    client = api.as_user(spokesperson)
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert "future" in assert_error(
        client.post(
            statement_url(statement, "publish/"),
            {"url": "https://x.com/b/1", "published_at": future},
            format="json",
        ),
        400,
    )
    past = (incident.detected_at - timedelta(hours=1)).isoformat()
    assert "before the statement was approved" in assert_error(
        client.post(
            statement_url(statement, "publish/"),
            {"url": "https://x.com/b/1", "published_at": past},
            format="json",
        ),
        400,
    )
    assert snapshot(statement) == before


def test_request_changes_needs_a_comment(api, incident, drafter, approver):
    statement = submitted(incident, drafter)
    before = snapshot(statement)
    client = api.as_user(approver)
    assert "comment" in assert_error(
        client.post(statement_url(statement, "request-changes/"), {}, format="json"), 400
    )
    assert_error(
        client.post(statement_url(statement, "request-changes/"), {"comment": ""}, format="json"),
        400,
    )
    assert snapshot(statement) == before


def test_approve_needs_the_revision_read(api, incident, drafter, approver):
    statement = submitted(incident, drafter)
    before = snapshot(statement)
    response = api.as_user(approver).post(statement_url(statement, "approve/"), {}, format="json")
    assert "revision" in assert_error(response, 400)
    assert snapshot(statement) == before


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
    api, incident, drafter, approver, outsider, method, suffix, data, status
):
    statement = draft(incident, drafter)
    if status != "draft":
        statement = actions.statement_submit(statement=statement, actor=drafter)
    if status == "approved":
        statement = actions.statement_approve(statement=statement, actor=approver, revision=1)
    before = snapshot(statement)
    url = (
        statements_url(incident) if suffix == "incident-list" else statement_url(statement, suffix)
    )

    response = getattr(api.as_user(outsider), method)(url, data, format="json")

    assert_error(response, 404)
    assert snapshot(statement) == before
    assert Statement.objects.count() == 1


def test_outsider_inbox_is_empty_and_unknown_statement_is_404(api, incident, drafter, outsider):
    submitted(incident, drafter)
    client = api.as_user(outsider)
    assert client.get("/api/approvals/").json() == []
    assert_error(client.get(statement_url(999_999)), 404)


def test_anonymous_callers_are_refused(incident, drafter):
    statement = draft(incident, drafter)
    client = APIClient()
    for url in (statements_url(incident), statement_url(statement), "/api/approvals/"):
        assert client.get(url).status_code in (401, 403)


def test_a_member_who_left_loses_access(api, incident, lead, drafter):
    statement = draft(incident, drafter)
    incident_actions.member_remove(incident=incident, actor=lead, user=drafter)
    assert_error(api.as_user(drafter).get(statement_url(statement)), 404)


# --- Schema ---------------------------------------------------------------------------------


def test_schema_documents_the_statement_endpoints(db):
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content
    paths = json.loads(response.content)["paths"]
    expected = {
        "/api/incidents/{id}/statements/": {"get", "post"},
        "/api/statements/{id}/": {"get", "patch"},
        "/api/statements/{id}/revisions/": {"get"},
        "/api/statements/{id}/submit/": {"post"},
        "/api/statements/{id}/approve/": {"post"},
        "/api/statements/{id}/request-changes/": {"post"},
        "/api/statements/{id}/publish/": {"post"},
        "/api/statements/{id}/withdraw/": {"post"},
        "/api/approvals/": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, sorted(paths)
        assert methods <= set(paths[path]), (path, sorted(paths[path]))
    assert "put" not in paths["/api/statements/{id}/"]
    assert "delete" not in paths["/api/statements/{id}/"]


# --- Query counts ---------------------------------------------------------------------------


def test_statement_list_queries_do_not_grow(api, incident, drafter, approver, spokesperson):
    def make(count):
        for i in range(count):
            statement = approved(incident, drafter, approver, f"Statement {i}")
            actions.statement_publish(
                statement=statement, actor=spokesperson, url=f"https://x.com/b/{i}"
            )

    client = api.as_user(drafter)
    make(2)
    client.get(statements_url(incident))
    with CaptureQueriesContext(connection) as small:
        assert client.get(statements_url(incident)).status_code == 200
    make(18)
    with CaptureQueriesContext(connection) as big:
        response = client.get(statements_url(incident))
    assert len(response.json()) == 20
    assert len(big) <= len(small), [q["sql"] for q in big.captured_queries]
