"""Double clicks through the actions: approving, submitting or publishing twice is
recorded once."""

import pytest

from incidents.errors import Conflict
from incidents.models import EntryKind
from statements import actions
from statements.models import Review
from tests.helpers import POST_URL, fresh
from tests.statements.conftest import approvals, timeline

# --- Double clicks ------------------------------------------------------------------------


def test_approving_twice_counts_once(in_review, approver, incident):
    actions.statement_approve(statement=in_review, actor=approver, revision=1)
    actions.statement_approve(statement=in_review, actor=approver, revision=1)
    assert Review.objects.filter(statement=in_review).count() == 1
    assert len(timeline(incident, EntryKind.STATEMENT_APPROVED)) == 1


def test_approving_twice_while_others_are_awaited_counts_once(ordered_in_review, legal, incident):
    actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    again = actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    assert again.status == "in_review"
    assert approvals(ordered_in_review) == [(1, legal.pk, "legal")]
    assert len(timeline(incident, EntryKind.STATEMENT_APPROVED)) == 1


def test_submitting_twice_records_one_submission(draft, drafter, incident):
    first = actions.statement_submit(statement=draft, actor=drafter)
    second = actions.statement_submit(statement=draft, actor=drafter)
    assert first.status == second.status == "in_review"
    assert fresh(draft).submitted_at == first.submitted_at
    assert len(timeline(incident, EntryKind.STATEMENT_SUBMITTED)) == 1


def test_publishing_twice_records_one_publication(approved, spokesperson, incident):
    first = actions.statement_publish(statement=approved, actor=spokesperson, url=POST_URL)
    actions.statement_publish(statement=approved, actor=spokesperson, url=POST_URL)  # no-op
    with pytest.raises(Conflict, match="already published by spokesperson"):
        actions.statement_publish(
            statement=approved, actor=spokesperson, url="https://x.com/brand/status/999"
        )
    statement = fresh(approved)
    assert (statement.published_at, statement.published_url) == (first.published_at, POST_URL)
    assert len(timeline(incident, EntryKind.STATEMENT_PUBLISHED)) == 1
