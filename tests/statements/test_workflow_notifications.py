"""Emails to reviewers: who is told a statement awaits them, and the task queued only
after the commit of an accepted submission."""

from types import SimpleNamespace

import pytest
from django.conf import settings

from incidents.errors import InvalidInput
from statements import actions, tasks
from tests.statements.conftest import long_text

# --- Notifications to reviewers -----------------------------------------------------------


def recipients(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])


def test_awaited_approvers_are_emailed_but_not_the_author(
    make_statement, approver, second_approver, drafter, incident, mailoutbox
):
    with_email(approver, drafter)
    statement = make_statement(
        author=approver, text="Approver-written holding statement.", state="in_review"
    )
    assert tasks.notify_reviewers(statement.pk) == 1
    assert recipients(mailoutbox) == ["approver2@example.org"]
    message = mailoutbox[0]
    assert incident.title in message.subject
    assert "Approver-written holding statement." in message.body
    assert f"{settings.SITE_URL}/statements/{statement.pk}/" in message.body


def test_an_approver_who_already_signed_is_not_emailed_again(
    make_statement, drafter, approver, second_approver, make_policy, mailoutbox
):
    with_email(approver)
    two = make_policy("Two approvers", [(1, ""), (1, "")])
    statement = make_statement(approval_policy=two, state="in_review")
    actions.statement_approve(statement=statement, actor=approver, revision=1)
    assert tasks.notify_reviewers(statement.pk) == 1
    assert recipients(mailoutbox) == ["approver2@example.org"]


def test_step_two_approvers_are_emailed_only_once_step_one_is_met(
    ordered_in_review, legal, legal2, communications, approver, mailoutbox
):
    with_email(approver)
    tasks.notify_reviewers(ordered_in_review.pk)
    assert recipients(mailoutbox) == ["legal2@example.org", "legal@example.org"]
    mailoutbox.clear()
    actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    tasks.notify_reviewers(ordered_in_review.pk)
    assert recipients(mailoutbox) == ["communications@example.org"]


def test_nobody_is_emailed_about_a_statement_not_in_review(approved, draft, mailoutbox):
    assert tasks.notify_reviewers(approved.pk) == 0
    assert tasks.notify_reviewers(draft.pk) == 0
    assert mailoutbox == []


def test_submitting_queues_the_notification_after_commit(
    draft, drafter, approver, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    with_email(approver)
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    queued = []
    if not eager:  # a real broker: record the queuing instead of sending it to Redis
        fake = SimpleNamespace(notify_reviewers=SimpleNamespace(delay=queued.append))
        monkeypatch.setattr(actions, "tasks", fake)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        actions.statement_submit(statement=draft, actor=drafter)
        assert mailoutbox == [] and queued == []  # nothing before the commit
    assert callbacks  # the live event and the notification
    if eager:
        assert recipients(mailoutbox) == ["approver@example.org"]
        assert draft.text in mailoutbox[0].body
    else:
        assert queued == [draft.pk]


def test_a_rejected_submission_queues_no_notification(
    make_statement, drafter, django_capture_on_commit_callbacks
):
    statement = make_statement(channel="x", text=long_text())
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(InvalidInput):
        actions.statement_submit(statement=statement, actor=drafter)
    assert callbacks == []
