"""Reviewing a statement through the actions: four-eyes and who reviews, requested
changes, edits voiding approvals, stale revisions, ordered and "any" policies."""

import hashlib

import pytest

from incidents.errors import InvalidInput, NotAllowed, StaleRevision, TransitionNotAllowed
from incidents.models import EntryKind, TimelineEntry
from statements import actions, selectors
from statements.models import Review, Revision
from tests.helpers import POST_URL, fresh
from tests.statements.conftest import approvals, last_entry, revisions, timeline

# --- Four-eyes and who reviews ------------------------------------------------------------


def test_the_author_cannot_approve_their_own_statement(
    make_statement, approver, second_approver, incident
):
    statement = make_statement(author=approver, state="in_review")
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=statement, actor=approver, revision=1)
    with pytest.raises(NotAllowed):
        actions.statement_request_changes(statement=statement, actor=approver, comment="Hmm")
    assert fresh(statement).status == "in_review"
    assert not Review.objects.exists()
    assert timeline(incident, EntryKind.STATEMENT_APPROVED) == []


def test_whoever_wrote_the_current_revision_cannot_approve_it(in_review, approver, second_approver):
    edited = actions.statement_edit(
        statement=in_review, actor=approver, text="Tighter wording.", base_revision=1
    )
    assert edited.revision == 2 and edited.revised_by == approver
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=edited, actor=approver, revision=2)
    assert not Review.objects.exists()
    # Someone who wrote none of it can.
    done = actions.statement_approve(statement=edited, actor=second_approver, revision=2)
    assert done.status == "approved"
    assert approvals(done) == [(2, second_approver.pk, "other")]


@pytest.mark.parametrize("persona", ["drafter", "spokesperson", "lead", "observer", "outsider"])
def test_only_approvers_review(in_review, persona, request, incident):
    user = request.getfixturevalue(persona)
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=in_review, actor=user, revision=1)
    with pytest.raises(NotAllowed):
        actions.statement_request_changes(statement=in_review, actor=user, comment="No.")
    assert fresh(in_review).status == "in_review"
    assert not Review.objects.exists()


@pytest.mark.parametrize("comment", ["", "   \n", None])
def test_requesting_changes_needs_a_comment(in_review, approver, comment):
    with pytest.raises(InvalidInput):
        actions.statement_request_changes(statement=in_review, actor=approver, comment=comment)
    assert fresh(in_review).status == "in_review"
    assert not Review.objects.exists()


def test_requested_changes_are_recorded_then_addressed_and_resubmitted(
    in_review, approver, drafter, incident
):
    statement = actions.statement_request_changes(
        statement=in_review, actor=approver, comment="  Drop the word 'regrettable'.  "
    )
    assert fresh(statement).status == "changes_requested"
    review = Review.objects.get(statement=statement)
    assert (review.revision, review.reviewer, review.decision, review.comment) == (
        1,
        approver,
        "changes_requested",
        "Drop the word 'regrettable'.",
    )
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_CHANGES_REQUESTED
    assert entry.text == "Drop the word 'regrettable'." and entry.actor == approver
    with pytest.raises(TransitionNotAllowed):
        actions.statement_approve(statement=statement, actor=approver, revision=1)

    statement = actions.statement_edit(
        statement=statement, actor=drafter, text="We are sorry.", base_revision=1
    )
    assert (statement.revision, statement.status) == (2, "changes_requested")
    statement = actions.statement_submit(statement=statement, actor=drafter)
    assert fresh(statement).status == "in_review"
    assert actions.statement_approve(statement=statement, actor=approver, revision=2).status == (
        "approved"
    )


# --- Editing after submission voids approvals --------------------------------------------


def test_an_edit_after_legal_approved_voids_the_legal_approval(
    ordered_in_review, legal, communications, drafter, lead, incident
):
    statement = actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    assert statement.status == "in_review"
    progress = selectors.statement_visible_to(lead, statement.pk).progress
    assert [r.function for r in progress.missing] == ["communications"]

    statement = actions.statement_edit(
        statement=statement, actor=drafter, text="A different text.", base_revision=1
    )
    statement = fresh(statement)
    assert (statement.revision, statement.status) == (2, "in_review")
    seen = selectors.statement_visible_to(lead, statement.pk)
    assert seen.approvals == [] and not seen.progress.complete
    assert [r.function for r in seen.progress.missing] == ["legal", "communications"]
    assert seen.progress.open_step == 1
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_REVISED
    assert entry.data["approvals_voided"] is True and entry.data["revision"] == 2
    # The voided approval stays as history, and communications still has to wait.
    assert approvals(statement) == [(1, legal.pk, "legal")]
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=statement, actor=communications, revision=2)
    with pytest.raises(StaleRevision):
        actions.statement_approve(statement=statement, actor=communications, revision=1)


def test_editing_an_approved_statement_sends_it_back_to_review(
    approved, drafter, spokesperson, incident
):
    statement = actions.statement_edit(
        statement=approved, actor=drafter, text="Last-minute change.", base_revision=1
    )
    statement = fresh(statement)
    assert (statement.status, statement.revision, statement.approved_at) == ("in_review", 2, None)
    entry = last_entry(incident)
    assert entry.data["old_status"] == "approved" and entry.data["approvals_voided"] is True
    with pytest.raises(TransitionNotAllowed):
        actions.statement_publish(statement=statement, actor=spokesperson, url=POST_URL)
    assert fresh(statement).status == "in_review"
    assert timeline(incident, EntryKind.STATEMENT_PUBLISHED) == []


def test_a_draft_edit_is_a_new_revision_without_voided_approvals(draft, lead, incident):
    statement = actions.statement_edit(
        statement=draft, actor=lead, text="Second wording.", base_revision=1
    )
    assert revisions(statement) == [
        (1, draft.text, draft.author_id),
        (2, "Second wording.", lead.pk),
    ]
    new = Revision.objects.get(statement=statement, number=2)
    assert new.content_hash == hashlib.sha256(b"Second wording.").hexdigest()
    assert fresh(statement).status == "draft"
    assert last_entry(incident).data["approvals_voided"] is False


def test_saving_the_same_text_creates_no_revision(draft, drafter, incident):
    before = TimelineEntry.objects.filter(incident=incident).count()
    statement = actions.statement_edit(
        statement=draft, actor=drafter, text=f"  {draft.text}\n", base_revision=1
    )
    assert statement.revision == 1 and len(revisions(statement)) == 1
    assert TimelineEntry.objects.filter(incident=incident).count() == before


def test_observers_cannot_edit(draft, observer):
    with pytest.raises(NotAllowed):
        actions.statement_edit(statement=draft, actor=observer, text="Mine now.", base_revision=1)
    assert len(revisions(draft)) == 1


# --- Stale revisions ----------------------------------------------------------------------


def test_a_stale_edit_is_refused_with_the_other_editors_text(draft, drafter, lead):
    both_read = fresh(draft)  # both editors opened revision 1
    actions.statement_edit(
        statement=both_read, actor=drafter, text="Drafter's version.", base_revision=1
    )
    with pytest.raises(StaleRevision) as caught:
        actions.statement_edit(
            statement=both_read, actor=lead, text="Lead's version.", base_revision=1
        )
    assert caught.value.extra["current_revision"] == 2
    assert caught.value.extra["current_text"] == "Drafter's version."
    statement = fresh(draft)
    assert (statement.revision, statement.text, statement.revised_by) == (
        2,
        "Drafter's version.",
        drafter,
    )
    assert revisions(statement) == [
        (1, draft.text, drafter.pk),
        (2, "Drafter's version.", drafter.pk),
    ]


def test_approving_an_old_revision_is_stale(in_review, drafter, approver, incident):
    actions.statement_edit(statement=in_review, actor=drafter, text="Newer.", base_revision=1)
    with pytest.raises(StaleRevision) as caught:
        actions.statement_approve(statement=in_review, actor=approver, revision=1)
    assert caught.value.extra["current_revision"] == 2
    assert caught.value.extra["current_text"] == "Newer."
    assert not Review.objects.exists()
    assert fresh(in_review).status == "in_review"
    assert timeline(incident, EntryKind.STATEMENT_APPROVED) == []


# --- Ordered and "any" policies -----------------------------------------------------------


def test_communications_cannot_approve_before_legal(ordered_in_review, communications, incident):
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=ordered_in_review, actor=communications, revision=1)
    assert not Review.objects.exists()
    assert fresh(ordered_in_review).status == "in_review"
    assert timeline(incident, EntryKind.STATEMENT_APPROVED) == []


def test_a_generalist_approver_cannot_sign_for_legal(ordered_in_review, approver):
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=ordered_in_review, actor=approver, revision=1)
    assert not Review.objects.exists()


def test_legal_then_communications_approves_the_statement(
    ordered_in_review, legal, legal2, communications, incident
):
    statement = actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    assert fresh(statement).status == "in_review" and fresh(statement).approved_at is None
    # Step 1 is met: a second legal approval is not what the statement waits for.
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=statement, actor=legal2, revision=1)
    statement = actions.statement_approve(statement=statement, actor=communications, revision=1)
    statement = fresh(statement)
    assert statement.status == "approved" and statement.approved_at is not None
    assert approvals(statement) == [
        (1, legal.pk, "legal"),
        (1, communications.pk, "communications"),
    ]
    entries = timeline(incident, EntryKind.STATEMENT_APPROVED)
    assert [(e.actor, e.data["function"], e.data["fully_approved"]) for e in entries] == [
        (legal, "legal", False),
        (communications, "communications", True),
    ]


def test_in_any_mode_one_met_requirement_is_enough(
    make_statement, drafter, make_policy, legal, communications, incident
):
    either = make_policy(
        "Legal or communications", [(1, "legal"), (1, "communications")], mode="any"
    )
    statement = make_statement(approval_policy=either, state="in_review")
    statement = actions.statement_approve(statement=statement, actor=communications, revision=1)
    assert fresh(statement).status == "approved"
    assert last_entry(incident).data["fully_approved"] is True
    # Nothing more is awaited: a later approval changes nothing.
    actions.statement_approve(statement=statement, actor=legal, revision=1)
    assert approvals(statement) == [(1, communications.pk, "communications")]


def test_in_all_mode_two_generalists_are_two_different_people(
    make_statement, drafter, make_policy, approver, second_approver
):
    two = make_policy("Two approvers", [(1, ""), (1, "")])
    statement = make_statement(approval_policy=two, state="in_review")
    statement = actions.statement_approve(statement=statement, actor=approver, revision=1)
    assert fresh(statement).status == "in_review"
    statement = actions.statement_approve(statement=statement, actor=approver, revision=1)
    assert fresh(statement).status == "in_review"
    statement = actions.statement_approve(statement=statement, actor=second_approver, revision=1)
    assert fresh(statement).status == "approved"


def test_legal_signing_first_does_not_block_the_other_approver(
    make_statement, drafter, make_policy, legal, approver, incident
):
    # "Legal and any other approver", the "any approver" line entered first in the admin.
    # Legal signs first, then a generalist: both requirements are met by two people.
    policy = make_policy("Any approver and legal", [(1, ""), (1, "legal")])
    statement = make_statement(approval_policy=policy, state="in_review")
    actions.statement_approve(statement=statement, actor=legal, revision=1)
    actions.statement_approve(statement=statement, actor=approver, revision=1)
    assert fresh(statement).status == "approved"
    assert sorted(approvals(statement)) == sorted(
        [(1, legal.pk, "legal"), (1, approver.pk, "other")]
    )


def test_approved_words_sent_back_must_be_edited_before_going_round_again(
    approved, approver, drafter, communications, browser_client, api
):
    """The approval of a revision stays (one per person and revision): the same words
    submitted again would wait for nobody, and the other approvers' pages broke on it."""
    statement = actions.statement_request_changes(
        statement=approved, actor=approver, comment="Legal wants a look."
    )
    with pytest.raises(TransitionNotAllowed, match="edit it before submitting"):
        actions.statement_submit(statement=statement, actor=drafter)
    response = api.as_user(drafter).post(f"/api/statements/{statement.pk}/submit/")
    assert response.status_code == 409
    listed = api.as_user(drafter).get(f"/api/statements/{statement.pk}/").json()
    assert "submit" not in listed["available_actions"]
    for person in (communications, approver):
        page = browser_client.as_user(person).get(f"/statements/{statement.pk}/")
        assert page.status_code == 200
    statement = actions.statement_edit(
        statement=fresh(statement), actor=drafter, text="We are sorry.", base_revision=1
    )
    statement = actions.statement_submit(statement=statement, actor=drafter)
    assert fresh(statement).status == "in_review"
