"""Regressions for holes found in review: each test names the way around a rule it closes."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from incidents.errors import NotAllowed, StaleRevision
from incidents.models import AppendOnlyError
from incidents.notifications.models import Notification
from statements import actions
from statements.models import ApprovalRequirement, Review, Revision, Statement
from tests.helpers import assert_error


def test_an_approver_who_wrote_an_earlier_revision_cannot_approve(in_review, drafter, approver):
    # The approver rewrites the text, the drafter touches it up: the approver co-wrote it.
    statement = actions.statement_edit(
        statement=in_review, actor=approver, text="Entirely my words.", base_revision=1
    )
    statement = actions.statement_edit(
        statement=statement, actor=drafter, text="Entirely my words!", base_revision=2
    )
    with pytest.raises(NotAllowed, match="four-eyes"):
        actions.statement_approve(statement=statement, actor=approver, revision=3)
    assert Statement.objects.get(pk=statement.pk).status == "in_review"


def test_publishing_a_revision_other_than_the_one_copied_is_refused(
    approved, drafter, approver, second_approver, spokesperson
):
    statement = actions.statement_edit(
        statement=approved, actor=drafter, text="A better text.", base_revision=1
    )
    actions.statement_approve(statement=statement, actor=approver, revision=2)
    with pytest.raises(StaleRevision) as refused:
        actions.statement_publish(
            statement=statement, actor=spokesperson, url="https://x.com/b/1", revision=1
        )
    assert refused.value.extra["current_text"] == "A better text."
    assert Statement.objects.get(pk=statement.pk).status == "approved"


def test_a_publication_cannot_be_dated_before_the_approval(approved, spokesperson, incident):
    Statement.objects.filter(pk=approved.pk).update(approved_at=timezone.now())
    with pytest.raises(Exception, match="before the statement was approved"):
        actions.statement_publish(
            statement=approved,
            actor=spokesperson,
            url="https://x.com/b/1",
            published_at=timezone.now() - timedelta(days=1),
        )
    incident.refresh_from_db()
    assert incident.first_response_at is None


def test_a_policy_tightened_after_approval_accepts_the_missing_approval(
    approved, second_approver, spokesperson
):
    ApprovalRequirement.objects.create(policy=approved.policy, step=1, function="")
    statement = actions.statement_approve(statement=approved, actor=second_approver, revision=1)
    assert statement.status == "approved"
    actions.statement_publish(statement=statement, actor=spokesperson, url="https://x.com/b/1")
    assert Statement.objects.get(pk=approved.pk).status == "published"


def test_a_member_removed_meanwhile_cannot_draft_with_a_stale_page(incident, lead, drafter):
    from incidents import actions as incident_actions
    from incidents.selectors import incident_for_room

    loaded_before = incident_for_room(drafter, incident.pk)  # the page they still have open
    incident_actions.member_remove(incident=incident, actor=lead, user=drafter)
    with pytest.raises(NotAllowed):
        actions.statement_create(
            incident=loaded_before,
            actor=drafter,
            kind="holding",
            channel="x",
            language="en",
            text="Too late.",
        )


def test_revisions_and_reviews_cannot_be_rewritten_or_deleted(approved):
    for model in (Revision, Review):
        rows = model.objects.filter(statement=approved)
        with pytest.raises(AppendOnlyError):
            rows.update(created_at=timezone.now())
        with pytest.raises(AppendOnlyError):
            rows.delete()
        row = rows.first()
        with pytest.raises(AppendOnlyError):
            row.save()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger on PostgreSQL only")
@pytest.mark.parametrize("table", ["statements_revision", "statements_review"])
def test_the_database_refuses_to_rewrite_revisions_and_reviews(approved, table):
    from django.db import DatabaseError

    with (
        pytest.raises(DatabaseError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET created_at = now()")  # noqa: S608


def test_a_multi_line_title_still_makes_one_line_notification_subjects(
    make_statement, drafter, approver
):
    statement = make_statement(title="Line one\nLine two")
    assert statement.title == "Line one Line two"
    actions.statement_submit(statement=statement, actor=drafter)
    [notification] = Notification.objects.filter(user=approver, kind="review_requested")
    assert "\n" not in notification.subject and "Line one Line two" in notification.subject


def test_api_rejects_a_correction_of_another_incidents_statement(
    api, incident, declare, lead, drafter, make_statement
):
    other = declare(title="Another incident")
    foreign = make_statement(incident=other, author=lead, text="Hi.")
    response = api.as_user(drafter).post(
        f"/api/incidents/{incident.pk}/statements/",
        {
            "kind": "correction",
            "channel": "x",
            "language": "en",
            "text": "Fix.",
            "corrects": foreign.pk,
        },
        format="json",
    )
    assert "corrects" in assert_error(response, 400)
