"""Approval deadlines: a policy step that waits past its deadline is escalated once (per
statement, revision and step) to the roster's backups for the awaited function and to the
lead, with a timeline entry; the statement page shows the countdown and the escalation."""

import html
from datetime import timedelta

import pytest
from django.conf import settings

from crisiscell.typography import french_spacing
from incidents.models import EntryKind, TimelineEntry
from incidents.notifications.models import Notification
from statements import actions, tasks
from statements.models import ApprovalRequirement, Escalation, Review
from tests.statements.conftest import statement_url

MINUTE = timedelta(minutes=1)


@pytest.fixture
def legal_first(make_policy):
    """Legal within 10 minutes, then communications within 5."""
    policy = make_policy("Legal 10 min, then comms 5 min", [(1, "legal"), (2, "communications")])
    ApprovalRequirement.objects.filter(policy=policy, step=1).update(deadline_minutes=10)
    ApprovalRequirement.objects.filter(policy=policy, step=2).update(deadline_minutes=5)
    return policy


@pytest.fixture
def submitted(make_statement, legal_first, legal, communications):
    return make_statement(approval_policy=legal_first, state="in_review", title="Holding")


def escalations(user, statement=None):
    qs = Notification.objects.filter(user=user, kind="escalated")
    if statement is not None:
        qs = qs.filter(url=f"/statements/{statement.pk}/")
    return list(qs)


def entries(incident):
    return list(TimelineEntry.objects.filter(incident=incident, kind=EntryKind.STATEMENT_ESCALATED))


def test_the_stock_policies_give_their_first_step_ten_minutes(db):
    first_steps = ApprovalRequirement.objects.filter(
        policy__name__in=["One approver", "Legal, then communications", "Communications only"]
    ).order_by("policy__name", "step")
    assert {(r.policy.name, r.step, r.deadline_minutes) for r in first_steps} == {
        ("Communications only", 1, 10),
        ("Legal, then communications", 1, 10),
        ("Legal, then communications", 2, None),
        ("One approver", 1, 10),
    }


def test_nothing_is_escalated_before_the_deadline(submitted):
    due = submitted.submitted_at + 10 * MINUTE
    assert actions.approvals_escalate_late(now=due - MINUTE) == 0
    assert not Escalation.objects.exists()


def test_a_late_step_alerts_the_backup_and_the_lead_once(
    submitted, roster, lead, legal, communications, incident
):
    late = submitted.submitted_at + 11 * MINUTE
    assert actions.approvals_escalate_late(now=late) == 1
    assert actions.approvals_escalate_late(now=late + MINUTE) == 0  # idempotent

    escalation = Escalation.objects.get()
    assert (escalation.revision, escalation.step, escalation.functions) == (1, 1, ["legal"])
    assert escalation.alerted == [
        {
            "name": "Me Claire Vasseur",
            "email": "claire.vasseur@example.com",
            "user": roster.claire.pk,
        }
    ]
    assert escalation.deadline_at == submitted.submitted_at + 10 * MINUTE
    [for_backup] = escalations(roster.claire, submitted)
    assert for_backup.subject == "Approval by Legal is late on “Holding”: you are the backup"
    [for_lead] = escalations(lead, submitted)
    assert for_lead.subject == (
        "Approval by Legal is late on “Holding” (11 min, deadline 10 min); backup Me Claire "
        "Vasseur has been alerted"
    )
    # Nobody else: not the awaited approver, not step 2, not the author.
    assert Notification.objects.filter(kind="escalated").count() == 2
    [entry] = entries(incident)
    assert entry.actor is None
    assert entry.text == (
        "Approval by Legal is late on “Holding” (waiting for 11 min, deadline 10 min). Backup "
        "Me Claire Vasseur (claire.vasseur@example.com) has been alerted. Add Me Claire "
        "Vasseur (claire.vasseur@example.com) to the cell as approver for Legal so they can "
        "sign."
    )
    assert entry.data["statement"] == submitted.pk and entry.data["functions"] == ["legal"]
    assert entry.data["alerted"] == [roster.claire.pk]


def test_a_backup_without_an_account_is_named_to_the_lead(
    make_statement, make_policy, roster, lead, communications
):
    policy = make_policy("Comms 10 min", [(1, "communications")])
    ApprovalRequirement.objects.filter(policy=policy).update(deadline_minutes=10)
    statement = make_statement(approval_policy=policy, state="in_review", title="Holding")
    actions.approvals_escalate_late(now=statement.submitted_at + 10 * MINUTE)
    [for_lead] = escalations(lead)
    assert for_lead.subject == (
        "Approval by Communications is late on “Holding” (10 min, deadline 10 min); call Nadia "
        "Roy (nadia.roy@example.com) (no account here)"
    )
    assert Escalation.objects.get().alerted == []  # nobody could be alerted
    [entry] = entries(statement.incident)
    assert "Nadia Roy (nadia.roy@example.com) (backup) has no account here: call them." in (
        entry.text
    )


def test_without_a_roster_the_lead_is_told_there_is_no_backup(submitted, lead, incident):
    actions.approvals_escalate_late(now=submitted.submitted_at + 10 * MINUTE)
    assert len(escalations(lead)) == 1
    [entry] = entries(incident)
    assert entry.text.endswith("The playbook roster names no backup for Legal.")


def test_the_next_step_counts_from_the_end_of_the_previous_one(
    submitted, legal, lead, roster, incident
):
    approved_at = submitted.submitted_at + 8 * MINUTE
    actions.approvals_escalate_late(now=approved_at - MINUTE)  # step 1 is not late
    actions.statement_approve(statement=submitted, actor=legal, revision=1)
    start = Review.objects.get(statement=submitted).created_at
    # Step 2 (5 minutes) is late 5 minutes after legal signed, not after the submission.
    assert actions.approvals_escalate_late(now=start + 4 * MINUTE) == 0
    assert actions.approvals_escalate_late(now=start + 5 * MINUTE) == 1
    escalation = Escalation.objects.get()
    assert (escalation.step, escalation.functions) == (2, ["communications"])
    for_lead = escalations(lead)[-1]
    assert for_lead.subject.startswith("Approval by Communications is late")
    assert for_lead.subject.endswith("call Nadia Roy (nadia.roy@example.com) (no account here)")
    entry = entries(incident)[-1]
    assert "Nadia Roy (nadia.roy@example.com) (backup) has no account here" in entry.text


def test_a_new_revision_starts_the_clock_again_and_may_escalate_again(
    submitted, drafter, lead, roster
):
    actions.approvals_escalate_late(now=submitted.submitted_at + 10 * MINUTE)
    edited = actions.statement_edit(
        statement=submitted, actor=drafter, text="Sharper words.", base_revision=1
    )
    revised_at = edited.revisions.get(number=2).created_at
    assert actions.approvals_escalate_late(now=revised_at + 9 * MINUTE) == 0
    assert actions.approvals_escalate_late(now=revised_at + 10 * MINUTE) == 1
    assert list(Escalation.objects.order_by("revision").values_list("revision", "step")) == [
        (1, 1),
        (2, 1),
    ]
    assert len(escalations(lead)) == 2


def test_an_approved_or_withdrawn_statement_is_never_escalated(submitted, legal, drafter):
    actions.statement_withdraw(statement=submitted, actor=drafter)
    assert actions.approvals_escalate_late(now=submitted.submitted_at + 60 * MINUTE) == 0


def test_a_policy_without_deadline_is_never_escalated(make_statement, make_policy):
    statement = make_statement(
        approval_policy=make_policy("No deadline", [(1, "")]), state="in_review"
    )
    assert actions.approvals_escalate_late(now=statement.submitted_at + 600 * MINUTE) == 0


def test_the_beat_task_runs_the_sweep_every_minute(monkeypatch):
    assert settings.CELERY_BEAT_SCHEDULE["approval-escalations"] == {
        "task": "statements.tasks.escalate_late_approvals",
        "schedule": 60.0,
    }
    calls = []
    monkeypatch.setattr(actions, "approvals_escalate_late", lambda: calls.append(1) or 3)
    assert tasks.escalate_late_approvals() == 3 and calls == [1]


def test_the_page_shows_the_countdown_then_the_escalation(
    submitted, legal, browser_client, api, roster
):
    page = browser_client.as_user(legal).get(f"/statements/{submitted.pk}/")
    deadline = (submitted.submitted_at + 10 * MINUTE).isoformat()
    assert f'data-deadline="{deadline}"' in page.text
    assert "Approval by Legal" in page.text
    assert "Escalated" not in page.text
    body = api.as_user(legal).get(statement_url(submitted)).json()
    assert body["approval_deadline"] is not None and body["escalated_at"] is None

    actions.approvals_escalate_late(now=submitted.submitted_at + 12 * MINUTE)
    page = browser_client.as_user(legal).get(f"/statements/{submitted.pk}/")
    text = html.unescape(page.text)
    assert "Escalated" in text and "backups alerted: Me Claire Vasseur" in text
    assert api.as_user(legal).get(statement_url(submitted)).json()["escalated_at"] is not None
    panel = browser_client.as_user(legal).get(f"/incidents/{submitted.incident_id}/statements/")
    assert "Approval escalated" in panel.text


def test_a_resolved_incident_escalates_nothing(submitted, incident, lead):
    from incidents import actions as incident_actions

    incident_actions.incident_transition(incident=incident, actor=lead, status="active")
    incident_actions.incident_transition(incident=incident, actor=lead, status="resolved")
    assert actions.approvals_escalate_late(now=submitted.submitted_at + 60 * MINUTE) == 0


def test_each_alerted_person_reads_it_in_their_language(submitted, roster, lead, incident):
    """The sweep writes in the site's language; the bell and the messages of someone who
    chose French are French (the timeline stays in the site's)."""
    from incidents.notifications import actions as notifications

    notifications.preferences_update(actor=roster.claire, language="fr")
    notifications.preferences_update(actor=lead, language="fr")

    actions.approvals_escalate_late(now=submitted.submitted_at + 11 * MINUTE)

    [for_backup] = escalations(roster.claire, submitted)
    assert for_backup.subject == french_spacing(
        "Validation par Juridique en retard sur « Holding » : vous êtes le suppléant"
    ), for_backup.subject
    [for_lead] = escalations(lead, submitted)
    assert for_lead.subject.startswith("Validation par Juridique en retard"), for_lead.subject
    assert entries(incident)[0].text.startswith("Approval by Legal is late")


def test_a_backup_who_leads_the_cell_is_not_alerted_as_one(submitted, roster, lead, incident):
    """The lead cannot sign as an approver: "backups alerted: Camille" left the statement
    blocked with nobody told to act. The lead is asked for another approver instead."""
    from dataclasses import replace

    roster.entries[1] = replace(
        roster.entries[1], backup_name="Camille Laurent", backup_email="", backup_user=lead
    )
    actions.approvals_escalate_late(now=submitted.submitted_at + 11 * MINUTE)

    assert Escalation.objects.get().alerted == []
    [for_lead] = escalations(lead, submitted)
    assert for_lead.subject.endswith("; add another approver"), for_lead.subject
    [entry] = entries(incident)
    assert entry.text.endswith(
        "Camille Laurent (backup) leads this cell and cannot sign: add another approver for Legal."
    )
    assert "has been alerted" not in entry.text
