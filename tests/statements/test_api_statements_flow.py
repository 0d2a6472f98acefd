"""The statements API from draft to publication: the happy path (token, session and
forced authentication), reading a statement and the list, the approvals inbox, the
first response, the schema, and the list's query count."""

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from incidents import actions as incident_actions
from incidents.models import EntryKind, Incident, TimelineEntry
from statements import actions
from statements.models import text_hash
from tests.helpers import STATEMENT_TEXT, dt, fresh
from tests.statements.conftest import bulk_statements, statement_url, statements_url

# The stock approval policies: a transactional test may have flushed them (see conftest).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("policies")]

PASSWORD = "pw-for-tests"  # what the conftest `make_user` factory sets

STATEMENT_FIELDS = {
    "template",
    "preapproval",
    "approval_stall",
    "unfilled_blanks",
    "approval_deadline",
    "escalated_at",
    "edit_voids_approval",
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


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


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
    assert [s["id"] for s in listed.json()["results"]] == [statement_id]

    edited = writer.patch(
        statement_url(statement_id), {"text": STATEMENT_TEXT, "revision": 1}, format="json"
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["revision"] == 2
    assert edited.json()["text"] == STATEMENT_TEXT
    assert edited.json()["length"] == len(STATEMENT_TEXT)

    revisions = writer.get(statement_url(statement_id, "revisions/"))
    assert revisions.status_code == 200
    assert [(r["number"], r["text"]) for r in revisions.json()] == [
        (1, "We are aware of the post."),
        (2, STATEMENT_TEXT),
    ]
    assert revisions.json()[1]["content_hash"] == text_hash(STATEMENT_TEXT)
    assert revisions.json()[1]["author"]["username"] == "drafter"

    sent = writer.post(statement_url(statement_id, "submit/"))
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "in_review"
    dt(sent.json()["submitted_at"])

    inbox = reviewer.get("/api/approvals/")
    assert inbox.status_code == 200
    assert [s["id"] for s in inbox.json()["results"]] == [statement_id]

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
    assert reviewer.get("/api/approvals/").json()["results"] == []

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


def test_statement_detail_shows_the_current_revision_and_length(
    make_statement, incident, drafter, observer
):
    statement = make_statement(text="Short")
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


def test_list_is_newest_first_and_visible_to_observers(
    make_statement, api, incident, drafter, observer
):
    first = make_statement(text="First")
    second = make_statement(text="Second")

    response = api.as_user(observer).get(statements_url(incident))

    assert response.status_code == 200
    assert [s["id"] for s in response.json()["results"]] == [second.pk, first.pk]


# --- The inbox ------------------------------------------------------------------------------


def test_approvals_inbox_lists_only_what_waits_for_me(
    make_statement, api, declare, incident, lead, drafter, approver, second_approver, make_user
):
    waiting = make_statement(text="Waiting", state="in_review")
    make_statement(text="Still a draft")
    make_statement(text="Already approved", state="approved", reviewer=second_approver)
    mine = make_statement(author=approver, text="I wrote it", state="in_review")
    elsewhere = declare(title="Other incident")
    incident_actions.member_add(incident=elsewhere, actor=lead, user=drafter, role="drafter")
    incident_actions.member_add(
        incident=elsewhere,
        actor=lead,
        user=make_user("approver3"),
        role="approver",
        function="other",
    )
    make_statement(incident=elsewhere, text="Not my cell", state="in_review")

    response = api.as_user(approver).get("/api/approvals/")
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["results"]] == [waiting.pk]
    assert set(response.json()["results"][0]) == STATEMENT_FIELDS

    # The second approver sees both in-review statements of the cell, mine included.
    ids = [s["id"] for s in api.as_user(second_approver).get("/api/approvals/").json()["results"]]
    assert ids == [waiting.pk, mine.pk]
    assert api.as_user(drafter).get("/api/approvals/").json()["results"] == []


# --- First response -------------------------------------------------------------------------


def test_only_the_first_public_statement_sets_first_response(
    make_statement, api, incident, drafter, approver, spokesperson
):
    briefing = make_statement(
        text="Internal only", kind="briefing", channel="email", state="approved"
    )
    client = api.as_user(spokesperson)
    response = client.post(statement_url(briefing, "publish/"), {"url": ""}, format="json")
    assert response.status_code == 200, response.content
    assert Incident.objects.get(pk=incident.pk).first_response_at is None

    first = make_statement(text="First", channel="press_release", state="approved")
    # The earliest accepted time: the minute of the approval (the form gives minutes).
    earlier = fresh(first).approved_at.replace(second=0, microsecond=0)
    response = client.post(
        statement_url(first, "publish/"),
        {"url": "", "published_at": earlier.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert dt(response.json()["published_at"]) == earlier

    second = make_statement(text="Second", state="approved")
    client.post(statement_url(second, "publish/"), {"url": "https://x.com/b/2"}, format="json")
    assert fresh(second).status == "published"
    assert Incident.objects.get(pk=incident.pk).first_response_at == earlier
    shown = api.as_user(drafter).get(f"/api/incidents/{incident.pk}/").json()
    assert dt(shown["first_response_at"]) == earlier


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


def test_statement_list_queries_do_not_grow(
    make_statement, api, incident, drafter, approver, spokesperson
):
    def make(count):
        for i in range(count):
            make_statement(text=f"Statement {i}", state="published", url=f"https://x.com/b/{i}")

    client = api.as_user(drafter)
    make(2)
    client.get(statements_url(incident))
    with CaptureQueriesContext(connection) as small:
        assert client.get(statements_url(incident)).status_code == 200
    make(18)
    with CaptureQueriesContext(connection) as big:
        response = client.get(statements_url(incident))
    assert len(response.json()["results"]) == 20
    assert len(big) <= len(small), [q["sql"] for q in big.captured_queries]


# --- Pages ----------------------------------------------------------------------------------


def test_the_statements_list_is_paged_newest_first_and_follows_next(
    api, incident, drafter, default_policy, monkeypatch
):
    from statements.api.views import StatementPagination

    made = bulk_statements(incident, drafter, default_policy, StatementPagination.page_size + 5)
    client = api.as_user(drafter)

    first = client.get(statements_url(incident)).json()
    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == StatementPagination.page_size
    assert first["results"][0]["id"] == made[-1].pk  # newest first
    second = client.get(first["next"]).json()
    assert second["next"] is None
    ids = [s["id"] for s in first["results"] + second["results"]]
    assert sorted(ids) == sorted(s.pk for s in made)  # each once, none left out

    monkeypatch.setattr(StatementPagination, "max_page_size", 20)
    capped = client.get(statements_url(incident), {"page_size": 10_000}).json()
    assert len(capped["results"]) == 20 and capped["next"]
    small = client.get(statements_url(incident), {"page_size": 7}).json()
    assert len(small["results"]) == 7 and small["next"]


def test_a_page_of_statements_costs_the_same_queries_whatever_the_incident_holds(
    api, incident, drafter, default_policy
):
    client = api.as_user(drafter)
    bulk_statements(incident, drafter, default_policy, 3)
    client.get(statements_url(incident))  # warm up
    with CaptureQueriesContext(connection) as few:
        client.get(statements_url(incident))
    bulk_statements(incident, drafter, default_policy, 250)
    with CaptureQueriesContext(connection) as many:
        response = client.get(statements_url(incident))
    assert len(response.json()["results"]) == 50
    assert len(many) <= len(few), [q["sql"] for q in many.captured_queries]


def test_the_approvals_inbox_is_paged(api, incident, drafter, approver, default_policy):
    from statements.models import Statement, StatementStatus

    rows = bulk_statements(incident, drafter, default_policy, 7)
    Statement.objects.filter(pk__in=[s.pk for s in rows]).update(
        status=StatementStatus.IN_REVIEW, submitted_at=rows[0].created_at
    )
    client = api.as_user(approver)
    first = client.get("/api/approvals/", {"page_size": 5}).json()
    assert first["count"] == 7 and len(first["results"]) == 5
    rest = client.get(first["next"]).json()
    assert len(rest["results"]) == 2 and rest["next"] is None
