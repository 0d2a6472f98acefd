"""Every hand-off reaches its person, inside the action's transaction, through notify():
added to a cell (or given work in it), review requested, changes requested, ready to
publish, published. Never the actor about their own action."""

import pytest

from crisiscell.typography import french_spacing
from incidents import actions as incident_actions
from incidents.notifications.models import Notification
from statements import actions, handoffs
from tests.helpers import POST_URL


@pytest.fixture
def sent(monkeypatch):
    """Every notify() call of the hand-offs, with its arguments (the real one still runs)."""
    calls = []
    real = handoffs.notify

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(handoffs, "notify", spy)
    return calls


def told(kind, **filters):
    """Usernames notified of `kind`, sorted."""
    return sorted(
        Notification.objects.filter(kind=kind, **filters).values_list("user__username", flat=True)
    )


# --- The cell -------------------------------------------------------------------------------


def test_a_new_member_is_told_with_a_link_to_the_room(declare, lead, drafter, sent):
    incident = declare(title="Recall rumour")
    incident_actions.member_add(
        incident=incident, actor=lead, user=drafter, role="approver", function="legal"
    )
    [notice] = Notification.objects.filter(kind="added_to_cell")
    assert notice.user == drafter and notice.incident == incident
    assert notice.url == f"/incidents/{incident.pk}/"
    assert notice.subject == "You are Approver — Legal, added by Camille Laurent"
    # The bell and the messages name the incident beside the subject; the body names it too.
    assert sent[-1]["actor"] == lead
    assert sent[-1]["body"] == (
        "Camille Laurent put you in the crisis cell of “Recall rumour” as Approver — Legal."
    )


def test_a_role_with_work_is_announced_a_demotion_is_not(incident, lead, drafter, observer):
    Notification.objects.all().delete()
    incident_actions.member_change_role(
        incident=incident, actor=lead, user=observer, role="spokesperson"
    )
    incident_actions.member_change_role(
        incident=incident, actor=lead, user=drafter, role="observer"
    )
    [notice] = Notification.objects.filter(kind="added_to_cell")
    assert notice.user == observer
    assert notice.subject == "Your role is now Spokesperson"


def test_the_new_lead_is_told_the_former_lead_acting_is_not(incident, lead, drafter):
    Notification.objects.all().delete()
    incident_actions.lead_hand_over(incident=incident, actor=lead, to_user=drafter)
    assert told("added_to_cell") == ["drafter"]
    assert Notification.objects.get().subject == "You are now the lead"


def test_nobody_is_told_of_adding_themselves(declare, make_user, sent):
    """A superuser steps into a cell they are not in: no notice about their own action."""
    admin = make_user("root", is_superuser=True, is_staff=True)
    incident = declare()
    incident_actions.member_add(incident=incident, actor=admin, user=admin, role="observer")
    assert told("added_to_cell") == []


# --- The statement's workflow -----------------------------------------------------------------


def test_submitting_asks_the_awaited_approvers_with_the_text(
    draft, drafter, approver, second_approver, sent
):
    actions.statement_submit(statement=draft, actor=drafter)
    assert told("review_requested") == ["approver", "approver2"]
    call = sent[-1]
    assert call["body"] == draft.text and call["actor"] == drafter
    assert call["url"] == f"/statements/{draft.pk}/"


def test_an_approver_who_submits_is_not_asked_to_approve_their_own(
    make_statement, approver, second_approver
):
    make_statement(author=approver, state="in_review")
    assert told("review_requested") == ["approver2"]


def test_completing_a_step_asks_the_next_one(ordered_in_review, legal, communications):
    assert told("review_requested") == ["legal"]
    actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    assert told("review_requested") == ["communications", "legal"]


def test_changes_requested_reach_the_author_and_the_last_reviser(
    in_review, drafter, spokesperson, approver, sent
):
    edited = actions.statement_edit(
        statement=in_review, actor=spokesperson, text="Better words.", base_revision=1
    )
    actions.statement_request_changes(statement=edited, actor=approver, comment="Name the date.")
    assert told("changes_requested") == ["drafter", "spokesperson"]
    notice = Notification.objects.filter(kind="changes_requested").first()
    assert notice.subject == f"“{in_review}”, by approver: Name the date."
    assert sent[-1]["body"] == "Name the date." and sent[-1]["actor"] == approver


def test_full_approval_tells_those_who_publish(
    in_review, approver, spokesperson, lead, make_statement, make_policy, second_approver
):
    actions.statement_approve(statement=in_review, actor=approver, revision=1)
    assert told("ready_to_publish") == ["spokesperson"]

    lead_may = make_policy("Lead may publish", [(1, "")], allow_lead_publish=True)
    statement = make_statement(approval_policy=lead_may, state="in_review", text="Second.")
    actions.statement_approve(statement=statement, actor=second_approver, revision=1)
    assert told("ready_to_publish", url=f"/statements/{statement.pk}/") == ["lead", "spokesperson"]


def test_a_partial_approval_tells_nobody_it_is_ready(
    make_statement, make_policy, approver, second_approver
):
    two = make_policy("Two approvers", [(1, ""), (1, "")])
    statement = make_statement(approval_policy=two, state="in_review")
    actions.statement_approve(statement=statement, actor=approver, revision=1)
    assert told("ready_to_publish") == []


def test_publication_tells_the_whole_cell_but_the_publisher(approved, spokesperson, sent):
    actions.statement_publish(statement=approved, actor=spokesperson, url=POST_URL)
    assert told("published") == ["approver", "drafter", "lead", "observer"]
    assert POST_URL in sent[-1]["body"]
    notice = Notification.objects.filter(kind="published").first()
    assert notice.subject == f"“{approved}”, on X / Twitter by spokesperson"


def test_a_lead_who_publishes_is_not_told(make_statement, make_policy, lead, approver):
    lead_may = make_policy("Lead may publish", [(1, "")], allow_lead_publish=True)
    statement = make_statement(approval_policy=lead_may, state="approved")
    actions.statement_publish(statement=statement, actor=lead, url=POST_URL)
    assert "lead" not in told("published")
    assert "spokesperson" in told("published")


def test_a_double_click_notifies_once(in_review, approver, spokesperson):
    actions.statement_approve(statement=in_review, actor=approver, revision=1)
    actions.statement_approve(statement=in_review, actor=approver, revision=1)
    assert told("ready_to_publish") == ["spokesperson"]
    actions.statement_publish(statement=in_review, actor=spokesperson, url=POST_URL)
    actions.statement_publish(statement=in_review, actor=spokesperson, url=POST_URL)
    assert len(told("published")) == 4


def test_the_notifications_roll_back_with_a_refused_action(in_review, drafter, approver):
    from incidents.errors import DomainError

    with pytest.raises(DomainError):
        actions.statement_publish(statement=in_review, actor=drafter, url=POST_URL)
    assert told("published") == []


def test_each_person_reads_a_hand_off_in_their_own_language(declare, lead, drafter, approver):
    """Whoever acts, in whatever language: the bell line and the message are written in the
    reader's (a French drafter of an English lead, an English approver of a French lead)."""
    from django.utils import translation

    from incidents.notifications import actions as notifications
    from incidents.outbox.models import OutboundMessage

    for person, language in ((drafter, "fr"), (approver, "en")):
        person.email = f"{person.username}@example.com"
        person.save(update_fields=["email"])
        notifications.preferences_update(actor=person, language=language)
    incident = declare(title="Recall rumour")
    with translation.override("en"):
        incident_actions.member_add(incident=incident, actor=lead, user=drafter, role="drafter")
    with translation.override("fr"):
        incident_actions.member_add(
            incident=incident, actor=lead, user=approver, role="approver", function="legal"
        )

    by_user = {n.user: n.subject for n in Notification.objects.filter(kind="added_to_cell")}
    assert by_user == {
        # One line, its no-break spaces kept (as the e-mail's body keeps them).
        drafter: french_spacing("Rôle : Rédacteur (community manager), ajouté par Camille Laurent"),
        approver: "You are Approver — Legal, added by Camille Laurent",
    }
    [french] = OutboundMessage.objects.filter(user=drafter)
    placed = french_spacing("vous a placé dans la cellule de crise de « Recall rumour »")
    assert placed in french.body
    [english] = OutboundMessage.objects.filter(user=approver)
    assert "put you in the crisis cell of “Recall rumour” as Approver — Legal." in english.body
