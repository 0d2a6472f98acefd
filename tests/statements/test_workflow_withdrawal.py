"""Withdrawing a statement through the actions: by its author or the lead, once, and
nothing moves a withdrawn statement again."""

import pytest

from incidents import actions as incident_actions
from incidents.errors import NotAllowed, TransitionNotAllowed
from incidents.models import EntryKind
from statements import actions
from statements.models import Review
from tests.helpers import POST_URL, fresh
from tests.statements.conftest import last_entry, revisions, timeline

# --- Withdrawal ---------------------------------------------------------------------------


def test_the_author_withdraws_their_statement(in_review, drafter, incident):
    statement = actions.statement_withdraw(
        statement=in_review, actor=drafter, reason=" Overtaken by events "
    )
    statement = fresh(statement)
    assert statement.status == "withdrawn" and statement.withdrawn_at is not None
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_WITHDRAWN and entry.actor == drafter
    assert entry.text == "Overtaken by events" and entry.data["old_status"] == "in_review"
    # Revisions and reviews are kept.
    assert len(revisions(statement)) == 1


def test_the_lead_withdraws_someone_elses_statement(approved, lead):
    actions.statement_withdraw(statement=approved, actor=lead)
    assert fresh(approved).status == "withdrawn"
    assert Review.objects.filter(statement=approved).count() == 1


@pytest.mark.parametrize("persona", ["approver", "spokesperson", "observer", "outsider", "staff"])
def test_only_the_author_or_the_lead_withdraws(draft, persona, request, incident):
    with pytest.raises(NotAllowed):
        actions.statement_withdraw(statement=draft, actor=request.getfixturevalue(persona))
    assert fresh(draft).status == "draft"
    assert timeline(incident, EntryKind.STATEMENT_WITHDRAWN) == []


def test_another_drafter_cannot_withdraw_the_authors_statement(draft, incident, lead, make_user):
    colleague = make_user("drafter2")
    incident_actions.member_add(incident=incident, actor=lead, user=colleague, role="drafter")
    with pytest.raises(NotAllowed):
        actions.statement_withdraw(statement=draft, actor=colleague)
    assert fresh(draft).status == "draft"


def test_withdrawing_twice_records_one_withdrawal(draft, drafter, incident):
    actions.statement_withdraw(statement=draft, actor=drafter)
    actions.statement_withdraw(statement=draft, actor=drafter)
    assert len(timeline(incident, EntryKind.STATEMENT_WITHDRAWN)) == 1


def test_a_withdrawn_statement_cannot_be_submitted(draft, drafter, incident):
    withdrawn = actions.statement_withdraw(statement=draft, actor=drafter)
    # Refused as a state transition (409), like editing or publishing it: the drafter is
    # allowed to submit statements, this one is simply over.
    with pytest.raises(TransitionNotAllowed):
        actions.statement_submit(statement=withdrawn, actor=drafter)
    assert fresh(draft).status == "withdrawn"
    assert timeline(incident, EntryKind.STATEMENT_SUBMITTED) == []


def test_a_withdrawn_statement_cannot_be_edited_approved_or_published(
    in_review, drafter, approver, spokesperson
):
    withdrawn = actions.statement_withdraw(statement=in_review, actor=drafter)
    with pytest.raises(TransitionNotAllowed):
        actions.statement_edit(statement=withdrawn, actor=drafter, text="Back.", base_revision=1)
    with pytest.raises(TransitionNotAllowed):
        actions.statement_approve(statement=withdrawn, actor=approver, revision=1)
    with pytest.raises(TransitionNotAllowed):
        actions.statement_publish(statement=withdrawn, actor=spokesperson, url=POST_URL)
    assert fresh(in_review).status == "withdrawn"
    assert not Review.objects.exists()
