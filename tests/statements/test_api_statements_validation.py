"""What the statements API refuses as bad input (400): fields, replies and corrections,
channel limits (with the suggested thread), publication details, review comments."""

from datetime import timedelta

import pytest
from django.utils import timezone

from statements.models import Statement
from tests.helpers import STATEMENT_TEXT, assert_error, fresh, snapshot
from tests.statements.conftest import statement_url, statements_url

# The stock approval policies: a transactional test may have flushed them (see conftest).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("policies")]


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
    data = {"kind": "holding", "channel": "x", "language": "en", "text": STATEMENT_TEXT, **payload}
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


def test_correction_needs_a_published_statement(
    make_statement, api, incident, drafter, approver, spokesperson
):
    client = api.as_user(drafter)
    data = {"kind": "correction", "channel": "x", "language": "en", "text": "Correction."}
    assert_error(client.post(statements_url(incident), data, format="json"), 400)

    unpublished = make_statement()
    assert_error(
        client.post(statements_url(incident), {**data, "corrects": unpublished.pk}, format="json"),
        400,
    )

    published = make_statement(state="published", url="https://x.com/b/1")
    response = client.post(
        statements_url(incident), {**data, "corrects": published.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["corrects"] == published.pk


def test_edit_rejects_empty_text(make_statement, api, incident, drafter):
    statement = make_statement()
    before = snapshot(statement)
    client = api.as_user(drafter)
    assert "text" in assert_error(
        client.patch(statement_url(statement), {"text": "", "revision": 1}, format="json"), 400
    )
    assert "revision" in assert_error(
        client.patch(statement_url(statement), {"text": "New"}, format="json"), 400
    )
    assert snapshot(statement) == before


def test_submit_over_the_x_limit_suggests_a_thread(make_statement, api, incident, drafter):
    sentence = "We are aware of the post published this morning and we are looking into it. "
    text = (sentence * 6).strip()
    statement = make_statement(text=text)
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


def test_submit_over_a_non_threadable_limit_has_no_thread(make_statement, api, incident, drafter):
    statement = make_statement(text="x" * 2_201, channel="instagram")
    response = api.as_user(drafter).post(statement_url(statement, "submit/"))
    assert "1 characters over the 2200-character limit" in assert_error(response, 400)
    assert "suggested_thread" not in response.json()
    assert fresh(statement).status == "draft"


def test_exactly_at_the_limit_can_be_submitted(make_statement, api, incident, drafter):
    statement = make_statement(text="x" * 280)
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
def test_publish_rejects_bad_input(
    make_statement, api, incident, drafter, approver, spokesperson, payload
):
    statement = make_statement(state="approved")
    before = snapshot(statement)
    response = api.as_user(spokesperson).post(
        statement_url(statement, "publish/"), payload, format="json"
    )
    assert_error(response, 400)
    assert snapshot(statement) == before


def test_publish_time_must_be_plausible(
    make_statement, api, incident, drafter, approver, spokesperson
):
    statement = make_statement(state="approved")
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


def test_request_changes_needs_a_comment(make_statement, api, incident, drafter, approver):
    statement = make_statement(state="in_review")
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


def test_approve_needs_the_revision_read(make_statement, api, incident, drafter, approver):
    statement = make_statement(state="in_review")
    before = snapshot(statement)
    response = api.as_user(approver).post(statement_url(statement, "approve/"), {}, format="json")
    assert "revision" in assert_error(response, 400)
    assert snapshot(statement) == before
