"""No statement waits on nobody: every approval-policy shape against every shape of cell.
Submitting is refused (action, page, API: the same sentence) while a step has nobody in the
cell who may sign it; the page and the room say so before the click; a change of the cell
or of the policy that strands a statement in review tells the lead; an approver who is not
the awaited one is told exactly what is awaited, and who can give it."""

import html
import re

import pytest
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.models import Membership
from incidents.notifications.models import Notification
from statements import actions, rules, selectors
from statements.models import ApprovalRequirement
from tests.helpers import STATEMENT_TEXT
from tests.statements.conftest import statement_url

POLICIES = {
    "any_approver": ([(1, "")], "all"),
    "one_function": ([(1, "communications")], "all"),
    "two_steps": ([(1, "legal"), (2, "communications")], "all"),
    "any_mode": ([(1, "legal"), (1, "communications")], "any"),
    "all_mode": ([(1, "legal"), (1, "communications")], "all"),
}
CELLS = ("no_approver", "approver_without_function", "right_function", "only_the_author")

# What the refusal says, per policy, when the cell has no approver at all.
NOBODY = {
    "any_approver": ["No approver in this cell."],
    "one_function": ["No approver for Communications in this cell."],
    "two_steps": [
        "No approver for Legal in this cell.",
        "No approver for Communications in this cell.",
    ],
    "any_mode": ["No approver for Legal or Communications in this cell."],
    "all_mode": [
        "No approver for Legal in this cell.",
        "No approver for Communications in this cell.",
    ],
}
# ... and when the only approver for the first function is the author.
AUTHOR_ONLY = {
    "any_approver": "No approver in this cell.",
    "one_function": "No approver for Communications in this cell.",
    "two_steps": "No approver for Legal in this cell.",
    "any_mode": "No approver for Legal or Communications in this cell.",
    "all_mode": "No approver for Legal in this cell.",
}


def functions_of(shape):
    return [function for _step, function in POLICIES[shape][0]]


def build(shape, cell, *, declare, lead, make_user, make_policy):
    """An incident whose cell has the `cell` shape and a draft under the `shape` policy,
    written by `author` (a drafter, or the approver for the first function)."""
    requirements, mode = POLICIES[shape]
    policy = make_policy(f"Policy {shape}", requirements, mode=mode)
    incident = declare(title=f"{shape} / {cell}")
    functions = functions_of(shape)

    def add(username, role, function=""):
        user = make_user(f"{username}-{shape}-{cell}", first_name=username.title())
        incident_actions.member_add(
            incident=incident, actor=lead, user=user, role=role, function=function
        )
        return user

    if cell == "only_the_author":
        # "Other" is asked for by no step here: for "any approver" it is a generalist.
        author = add("author", "approver", functions[0] or "other")
        for function in functions[1:]:
            if shape != "any_mode":  # in "any" mode one other function would be enough
                add(f"approver-{function}", "approver", function)
    else:
        author = add("author", "drafter")
    if cell == "approver_without_function":
        # The actions now require an approver's function; cells staffed before keep theirs.
        Membership.objects.create(
            incident=incident,
            user=make_user(f"generalist-{shape}-{cell}"),
            role="approver",
            function="",
            added_by=lead,
            added_at=timezone.now(),
        )
    elif cell == "right_function":
        for function in dict.fromkeys(functions):
            add(f"approver-{function or 'any'}", "approver", function or "legal")
    statement = actions.statement_create(
        incident=incident,
        actor=author,
        kind="holding",
        channel="x",
        language="en",
        text=STATEMENT_TEXT,
        approval_policy=policy,
    )
    return statement, author


def expected_refusal(shape, cell):
    """The sentences the refusal must hold, or None when the cell can approve."""
    if cell == "right_function":
        return None
    if cell == "approver_without_function":
        return None if shape == "any_approver" else NOBODY[shape]
    if cell == "no_approver":
        return NOBODY[shape]
    return [AUTHOR_ONLY[shape], "wrote this text and cannot approve it (four-eyes rule)."]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("shape", list(POLICIES))
def test_submission_is_refused_exactly_when_a_step_has_nobody(
    shape, cell, declare, lead, make_user, make_policy, api, browser_client
):
    statement, author = build(
        shape, cell, declare=declare, lead=lead, make_user=make_user, make_policy=make_policy
    )
    expected = expected_refusal(shape, cell)

    page = browser_client.as_user(author).get(f"/statements/{statement.pk}/")
    detail = api.as_user(author).get(statement_url(statement)).json()
    if expected is None:
        assert rules.approval_stall(selectors.load_progress(statement)) is None
        assert detail["approval_stall"] is None
        assert 'data-action="submit"' in page.text and "data-stall" not in page.text
        submitted = actions.statement_submit(statement=statement, actor=author)
        assert submitted.status == "in_review"
        return

    # Before the click: the page has no submit button but the reason, as the API says it.
    assert 'data-action="submit"' not in page.text
    assert "submit" not in detail["available_actions"]
    warning = detail["approval_stall"]
    for sentence in expected:
        assert sentence in warning
    assert html.escape(warning, quote=False) in page.text.replace("&#x27;", "'")

    # The click: refused with the same sentence by the API (409) and the action.
    response = api.as_user(author).post(statement_url(statement, "submit/"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == warning
    assert response.json()["missing"]
    with pytest.raises(rules.NobodyToApprove) as refused:
        actions.statement_submit(statement=statement, actor=author)
    assert refused.value.message == warning
    statement.refresh_from_db()
    assert statement.status == "draft"


def test_the_refusal_names_the_rosters_people_for_the_missing_function(
    make_statement, incident, drafter, lead, make_policy, roster, api
):
    communications_only = make_policy("Comms", [(1, "communications")])
    statement = make_statement(approval_policy=communications_only)

    with pytest.raises(rules.NobodyToApprove) as refused:
        actions.statement_submit(statement=statement, actor=drafter)
    assert refused.value.message == (
        "No approver for Communications in this cell. Ask the lead to add one — from the "
        "playbook roster: David Keller (david.keller@example.com), Nadia Roy "
        "(nadia.roy@example.com)."
    )
    assert refused.value.extra["missing"] == [
        {
            "function": "communications",
            "alternatives": [],
            "short": 1,
            "suggestions": [
                {"name": "David Keller", "email": "david.keller@example.com"},
                {"name": "Nadia Roy", "email": "nadia.roy@example.com"},
            ],
        }
    ]
    # The lead is told to add one, not to ask themselves.
    for_lead = api.as_user(lead).get(statement_url(statement)).json()["approval_stall"]
    assert for_lead.startswith("No approver for Communications in this cell. Add one to the cell")


def test_a_roster_person_already_approving_is_not_suggested_again(
    make_statement, incident, drafter, lead, make_policy, roster, make_user
):
    """Two legal sign-offs, one legal approver in the cell (Me Vasseur, the backup): the
    refusal asks for one more and suggests only Sophie Martin."""
    two_legal = make_policy("Two legal", [(1, "legal"), (1, "legal")])
    incident_actions.member_add(
        incident=incident, actor=lead, user=roster.claire, role="approver", function="legal"
    )
    statement = make_statement(approval_policy=two_legal)
    with pytest.raises(rules.NobodyToApprove) as refused:
        actions.statement_submit(statement=statement, actor=drafter)
    assert refused.value.message == (
        "Not enough approvers for Legal in this cell: 1 more needed. Ask the lead to add one "
        "— from the playbook roster: Sophie Martin (sophie.martin@example.com)."
    )


def test_the_room_warns_before_the_submission(
    make_statement, incident, drafter, make_policy, browser_client
):
    statement = make_statement(approval_policy=make_policy("Legal", [(1, "legal")]))
    panel = browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/statements/")
    warning = re.search(
        r'<p class="form-error small stall-warning" data-stall>(.*?)</p>', panel.text
    )
    assert warning is not None
    assert "No approver for Legal in this cell." in html.unescape(warning.group(1))
    # A statement the cell can approve carries no warning.
    make_statement(text="Another one.")
    panel = browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/statements/")
    assert panel.text.count("data-stall") == 1
    assert statement.status == "draft"


# --- The cell or the policy changes under a statement in review ---------------------------------


def stall_notices(user):
    return list(
        Notification.objects.filter(
            user=user, kind="escalated", subject__contains="waits on nobody"
        )
    )


def test_removing_the_only_legal_approver_tells_the_lead_and_the_page_shows_it(
    ordered_in_review, lead, legal, legal2, communications, browser_client, roster
):
    incident = ordered_in_review.incident
    incident_actions.member_remove(incident=incident, actor=lead, user=legal2)
    assert stall_notices(lead) == []  # legal is still there

    incident_actions.member_remove(incident=incident, actor=lead, user=legal)
    [notice] = stall_notices(lead)
    assert notice.url == f"/statements/{ordered_in_review.pk}/"
    assert "No approver for Legal in this cell." in notice.subject
    page = browser_client.as_user(lead).get(f"/statements/{ordered_in_review.pk}/")
    text = html.unescape(page.text)
    assert "This statement waits on nobody." in text
    assert "Add one to the cell — from the playbook roster: Sophie Martin" in text

    # Adding someone back: the lead hears nothing more, the new approver is asked to approve.
    incident_actions.member_add(
        incident=incident, actor=lead, user=roster.claire, role="approver", function="legal"
    )
    assert len(stall_notices(lead)) == 1
    asked = Notification.objects.get(user=roster.claire, kind="review_requested")
    assert asked.url == f"/statements/{ordered_in_review.pk}/"
    assert Notification.objects.filter(user=roster.claire, kind="added_to_cell").exists()


def test_changing_the_role_or_function_of_the_awaited_approver_tells_the_lead(
    make_statement, make_policy, incident, lead, legal, communications
):
    statement = make_statement(
        approval_policy=make_policy("Legal only", [(1, "legal")]), state="in_review"
    )
    incident_actions.member_change_role(
        incident=incident, actor=lead, user=legal, role="approver", function="communications"
    )
    [notice] = stall_notices(lead)
    assert f"“{statement}” waits on nobody: No approver for Legal in this cell." in notice.subject


def test_a_change_that_strands_nothing_tells_nobody(in_review, incident, lead, observer, drafter):
    incident_actions.member_remove(incident=incident, actor=lead, user=observer)
    incident_actions.member_change_role(
        incident=incident, actor=lead, user=drafter, role="spokesperson"
    )
    assert not Notification.objects.filter(kind="escalated").exists()


def test_handing_over_the_lead_to_the_only_approver_tells_the_new_lead(
    in_review, incident, lead, approver
):
    incident_actions.lead_hand_over(incident=incident, actor=lead, to_user=approver)
    [notice] = stall_notices(approver)
    assert "No approver in this cell." in notice.subject


def test_tightening_a_policy_in_review_tells_the_lead(
    make_statement, make_policy, incident, lead, approver, admin_client
):
    policy = make_policy("Loose", [(1, "")])
    statement = make_statement(approval_policy=policy, state="in_review")
    before = actions.approval_policy_before_edit(policy)
    ApprovalRequirement.objects.create(policy=policy, step=2, function="executive")
    assert actions.approval_policy_edited(policy=policy, actor=None, before=before) == 1
    [notice] = stall_notices(lead)
    assert str(statement) in notice.subject
    assert "No approver for Executive management in this cell." in notice.subject
    # Saving it again changes nothing: the lead is not told twice.
    before = actions.approval_policy_before_edit(policy)
    assert actions.approval_policy_edited(policy=policy, actor=None, before=before) == 0


def test_the_admin_form_runs_the_check(
    make_statement, make_policy, incident, lead, admin_user, client
):
    policy = make_policy("Admin edited", [(1, "")])
    make_statement(approval_policy=policy, state="in_review")
    [requirement] = policy.requirements.all()
    client.force_login(admin_user)
    data = {
        "name": policy.name,
        "description": "",
        "mode": "all",
        "requirements-TOTAL_FORMS": "2",
        "requirements-INITIAL_FORMS": "1",
        "requirements-MIN_NUM_FORMS": "0",
        "requirements-MAX_NUM_FORMS": "1000",
        "requirements-0-id": str(requirement.pk),
        "requirements-0-policy": str(policy.pk),
        "requirements-0-step": "1",
        "requirements-0-function": "",
        "requirements-0-deadline_minutes": "15",
        "requirements-1-policy": str(policy.pk),
        "requirements-1-step": "1",
        "requirements-1-function": "legal",
        "requirements-1-deadline_minutes": "",
    }
    response = client.post(f"/admin/statements/approvalpolicy/{policy.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    requirement.refresh_from_db()
    assert requirement.deadline_minutes == 15
    [notice] = stall_notices(lead)
    assert "No approver for Legal in this cell." in notice.subject


# --- "Not the approval this statement waits for": exactly what it waits for -------------------


def test_a_later_step_is_told_when_its_turn_comes_and_who_signs_now(
    ordered_in_review, communications, legal, legal2
):
    with pytest.raises(rules.NotAllowed) as refused:
        actions.statement_approve(statement=ordered_in_review, actor=communications, revision=1)
    assert refused.value.message == (
        "Your approval (Communications) comes at step 2, once step 1 is complete. It waits now "
        "for Legal (step 1): legal, legal2."
    )


def test_a_function_the_policy_does_not_want_is_told_what_it_wants(
    make_statement, make_policy, incident, lead, make_user, communications
):
    executive = make_user("ceo", first_name="Claude", last_name="Bernard")
    incident_actions.member_add(
        incident=incident, actor=lead, user=executive, role="approver", function="executive"
    )
    statement = make_statement(
        approval_policy=make_policy("Comms", [(1, "communications")]), state="in_review"
    )
    with pytest.raises(rules.NotAllowed) as refused:
        actions.statement_approve(statement=statement, actor=executive, revision=1)
    assert refused.value.message == (
        "This statement does not wait for your approval (Executive management). It waits "
        "now for Communications: communications."
    )


def test_nobody_left_to_give_it_is_said_too(
    make_statement, make_policy, incident, lead, approver, communications, browser_client
):
    statement = make_statement(
        approval_policy=make_policy("Comms", [(1, "communications")]), state="in_review"
    )
    incident_actions.member_remove(incident=incident, actor=lead, user=communications)
    with pytest.raises(rules.NotAllowed) as refused:
        actions.statement_approve(statement=statement, actor=approver, revision=1)
    assert refused.value.message.endswith(
        "It waits now for Communications, and nobody in the cell can give it: ask the lead to "
        "add an approver."
    )
    page = browser_client.as_user(approver).get(f"/statements/{statement.pk}/")
    assert "This statement waits on nobody. No approver for Communications" in page.text
