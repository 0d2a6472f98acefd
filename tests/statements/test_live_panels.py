"""The statements workflow's live events name the panels they change (incidents/panels.py)."""

import json

import pytest

from statements import actions

pytestmark = pytest.mark.django_db


def published(listener):
    return [json.loads(message["text"]) for message in listener()]


def test_an_approval_refreshes_the_statements_the_inboxes_and_its_page(
    in_review, approver, listener, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.statement_approve(statement=in_review, actor=approver, revision=1)
    (payload,) = published(listener)
    assert payload["event"] == "timeline.statement_approved"
    assert payload["panels"] == [
        "statements",
        "approvals",
        "statement",
        "reply-queue",
        "crisis-page",
    ]


def test_a_publication_also_refreshes_the_header_and_the_dashboards(
    approved, spokesperson, listener, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.statement_publish(
            statement=approved, actor=spokesperson, url="https://x.com/brand/status/1"
        )
    (payload,) = published(listener)
    assert payload["event"] == "timeline.statement_published"
    assert payload["panels"] == [
        "statements",
        "approvals",
        "statement",
        "reply-queue",
        "crisis-page",
        "header",
        "incidents",
    ]
