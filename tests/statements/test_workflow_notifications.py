"""Approval requests: who is told a statement awaits them (a REVIEW_REQUESTED notification
written in the action's transaction; e-mail and chat follow from it through the outbox), and
nothing when the action is refused."""

import pytest

from incidents.errors import InvalidInput
from incidents.notifications.models import Notification
from statements import actions
from tests.statements.conftest import long_text


def asked(statement):
    """Usernames asked to approve this statement, sorted."""
    return sorted(
        Notification.objects.filter(
            kind="review_requested", url=f"/statements/{statement.pk}/"
        ).values_list("user__username", flat=True)
    )


def test_awaited_approvers_are_asked_but_not_the_author(
    make_statement, approver, second_approver, drafter, incident
):
    statement = make_statement(
        author=approver, text="Approver-written holding statement.", state="in_review"
    )
    assert asked(statement) == ["approver2"]
    notification = Notification.objects.get(kind="review_requested")
    assert notification.incident == incident
    assert "Holding statement" in notification.subject
    assert "\n" not in notification.subject


def test_an_approver_who_already_signed_is_not_asked_again(
    make_statement, drafter, approver, second_approver, make_policy
):
    two = make_policy("Two approvers", [(1, ""), (1, "")])
    statement = make_statement(approval_policy=two, state="in_review")
    assert asked(statement) == ["approver", "approver2"]
    actions.statement_approve(statement=statement, actor=approver, revision=1)
    # Same step: nobody new is awaited, nobody is asked twice.
    assert asked(statement) == ["approver", "approver2"]


def test_step_two_approvers_are_asked_only_once_step_one_is_met(
    ordered_in_review, legal, legal2, communications, approver
):
    assert asked(ordered_in_review) == ["legal", "legal2"]
    actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    assert asked(ordered_in_review) == ["communications", "legal", "legal2"]


def test_nobody_is_asked_about_a_draft(draft):
    assert asked(draft) == []


def test_an_edit_in_review_asks_the_approvers_again_for_the_new_revision(
    in_review, drafter, approver
):
    assert asked(in_review) == ["approver"]
    actions.statement_edit(statement=in_review, actor=drafter, text="Sharper.", base_revision=1)
    assert asked(in_review) == ["approver", "approver"]
    assert Notification.objects.filter(subject__contains="revision 2").count() == 1


def test_a_rejected_submission_asks_nobody(make_statement, drafter, approver):
    statement = make_statement(channel="x", text=long_text())
    with pytest.raises(InvalidInput):
        actions.statement_submit(statement=statement, actor=drafter)
    assert asked(statement) == []


def test_the_bell_is_announced_after_commit_only(
    draft, drafter, approver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.statement_submit(statement=draft, actor=drafter)
    # The live event and the approver's bell, both queued for after the commit.
    assert len(callbacks) >= 2


def test_acting_on_a_statement_settles_what_the_bell_held_about_it(
    make_statement, drafter, approver, spokesperson, incident
):
    """The bell kept "Approval needed" for texts already approved (33, 37, ...): approving,
    asking for changes or publishing marks the actor's notifications about that statement
    read, and nothing else."""

    def unread(user, statement=None):
        qs = Notification.objects.filter(user=user, read_at__isnull=True)
        if statement is not None:
            qs = qs.filter(url=f"/statements/{statement.pk}/")
        return qs.count()

    other = make_statement(state="in_review", title="Another")
    statement = make_statement(state="in_review")
    assert unread(approver, statement) == 1 and unread(approver, other) == 1
    statement = actions.statement_approve(statement=statement, actor=approver, revision=1)
    assert unread(approver, statement) == 0 and unread(approver, other) == 1
    assert unread(spokesperson, statement) == 1  # "ready to publish": theirs to settle
    actions.statement_publish(statement=statement, actor=spokesperson, url="https://x.com/b/9")
    assert unread(spokesperson, statement) == 0
    actions.statement_request_changes(statement=other, actor=approver, comment="Shorter.")
    assert unread(approver, other) == 0 and unread(approver) > 0  # the rest stays unread
    assert unread(drafter, other) == 1  # the author's "changes requested" stays
