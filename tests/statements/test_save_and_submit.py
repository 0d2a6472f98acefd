"""The drafter saves and submits a new statement in one step; when nobody in the cell can
approve it yet, the draft is kept and the page says why."""

from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import Notification
from statements import actions
from statements.models import Statement
from tests.helpers import STATEMENT_TEXT
from tests.statements.test_pages_statements import create_url, detail_url, messages_of

FIELDS = {
    "kind": "holding",
    "channel": "x",
    "language": "en",
    "title": "Holding X",
    "text": STATEMENT_TEXT,
    "then": "submit",
}


def test_save_and_submit_sends_it_for_approval(browser_client, incident, drafter, approver):
    client = browser_client.as_user(drafter)
    assert "Save and submit for approval" in client.get(create_url(incident)).text

    response = client.post(create_url(incident), FIELDS)

    statement = Statement.objects.get()
    assert response["Location"] == detail_url(statement)
    assert (statement.status, statement.revision) == ("in_review", 1)
    page = client.get(response["Location"])
    assert ("success", "Draft saved as revision 1 and submitted for approval.") in messages_of(page)
    assert Notification.objects.filter(
        user=approver, kind=NotificationKind.REVIEW_REQUESTED
    ).exists()


def test_a_refused_submission_keeps_the_draft_and_says_why(
    browser_client, incident, lead, drafter, make_policy
):
    actions.incident_policy_set(
        incident=incident, actor=lead, policy=make_policy("Legal", [(1, "legal")])
    )
    client = browser_client.as_user(drafter)

    response = client.post(create_url(incident), FIELDS)

    statement = Statement.objects.get()
    assert statement.status == "draft"
    page = client.get(response["Location"])
    errors = [text for kind, text in messages_of(page) if kind == "error"]
    assert any("No approver for Legal in this cell." in text for text in errors), errors
