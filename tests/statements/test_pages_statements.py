"""The statement pages, through the Django test client: forms, controls by persona,
messages, the stale-edit merge page, the diff, the inbox, the room panel and query counts."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crisiscell.typography import french_spacing
from incidents import actions as incident_actions
from incidents.models import Incident
from statements import actions
from statements.models import Review, Statement
from statements.views import PANEL_PAGE
from tests.helpers import POST_URL, STATEMENT_TEXT, fresh, snapshot

pytestmark = pytest.mark.django_db

LONG_X = " ".join(
    ["We are aware of the post published this morning and we are looking into it."] * 6
)
PERSONAS = ["lead", "drafter", "approver", "spokesperson", "observer"]


# --- Helpers --------------------------------------------------------------------------------


def detail_url(statement, suffix=""):
    return f"/statements/{statement.pk}/{suffix}"


def create_url(incident):
    return f"/incidents/{incident.pk}/statements/new/"


def messages_of(response):
    return [
        (kind, html.unescape(text))
        for kind, text in re.findall(
            r'<li class="message message-(\w+)">(.*?)</li>', response.text, flags=re.S
        )
    ]


def act(client, statement, suffix, data=None):
    """POST a statement form like the browser does, follow the redirect back to the page."""
    response = client.post(detail_url(statement, suffix), data or {}, follow=True)
    assert response.redirect_chain == [(detail_url(statement), 302)], response.redirect_chain
    assert response.status_code == 200
    return response


def controls(response, statement):
    """Which action forms and boxes the page offers."""
    text = response.text
    return {
        "edit": f'action="{detail_url(statement, "edit/")}"' in text,
        "submit": f'action="{detail_url(statement, "submit/")}"' in text,
        "approve": f'action="{detail_url(statement, "approve/")}"' in text,
        "request_changes": f'action="{detail_url(statement, "request-changes/")}"' in text,
        "publish": f'action="{detail_url(statement, "publish/")}"' in text,
        "copy": "Copy the approved text" in text,
        "withdraw": f'action="{detail_url(statement, "withdraw/")}"' in text,
    }


@pytest.fixture(autouse=True)
def _policies(policies):
    """The stock approval policies (see conftest: a transactional test may have flushed them)."""
    return policies


# --- New statement page ---------------------------------------------------------------------


def test_new_statement_page_offers_the_form_and_the_counter(browser_client, incident, drafter):
    response = browser_client.as_user(drafter).get(create_url(incident))

    assert response.status_code == 200
    for field in ("kind", "channel", "language", "title", "text", "reply_to_account"):
        assert f'name="{field}"' in response.text
    assert 'data-counter-for="id_text"' in response.text
    # The counter asks the server, which counts the way each channel does.
    assert 'data-length-url="/statements/length/"' in response.text


def test_new_statement_post_saves_a_draft_and_redirects(browser_client, incident, drafter):
    client = browser_client.as_user(drafter)
    response = client.post(
        create_url(incident),
        {
            "kind": "holding",
            "channel": "x",
            "language": "en",
            "title": "Holding X",
            "text": STATEMENT_TEXT,
        },
    )

    statement = Statement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(statement)
    assert (statement.author, statement.status, statement.revision) == (drafter, "draft", 1)
    assert (statement.title, statement.text) == ("Holding X", STATEMENT_TEXT)
    page = client.get(response["Location"])
    assert ("success", "Draft saved as revision 1.") in messages_of(page)
    assert "Holding X" in page.text


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"text": ""}, "This field is required."),
        ({"channel": "myspace"}, "Select a valid choice."),
        ({"kind": "reply"}, "An individual reply names the account or the post it answers."),
        ({"kind": "correction"}, "A correction says which published statement it corrects."),
        ({"reply_to_url": "not a url"}, "Enter a valid URL."),
    ],
    ids=["empty-text", "channel", "reply", "correction", "reply-url"],
)
def test_new_statement_invalid_post_shows_errors(browser_client, incident, drafter, payload, error):
    data = {"kind": "holding", "channel": "x", "language": "en", "text": STATEMENT_TEXT, **payload}
    response = browser_client.as_user(drafter).post(create_url(incident), data)

    assert response.status_code == 200
    assert 'class="form-error"' in response.text
    assert error in html.unescape(response.text)
    assert not Statement.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("observer", 403), ("outsider", 404)])
def test_new_statement_page_refuses_observers_and_hides_from_outsiders(
    request, browser_client, incident, who, status
):
    """An observer sees the incident: refused (403, naming its lead); an outsider is not
    told it exists (404)."""
    client = browser_client.as_user(request.getfixturevalue(who))
    assert client.get(create_url(incident)).status_code == status
    data = {"kind": "holding", "channel": "x", "language": "en", "text": STATEMENT_TEXT}
    assert client.post(create_url(incident), data).status_code == status
    assert not Statement.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login_page(make_statement, client, incident, drafter):
    statement = make_statement()
    for url in (create_url(incident), detail_url(statement), "/approvals/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# --- Statement page: controls per persona ---------------------------------------------------


EXPECTED = {
    # state -> persona -> the controls shown
    "draft": {
        "lead": {"edit", "submit", "withdraw"},
        "drafter": {"edit", "submit", "withdraw"},
        "approver": {"edit", "submit"},
        "spokesperson": {"edit", "submit"},
        "observer": set(),
    },
    "in_review": {
        "lead": {"edit", "withdraw"},
        "drafter": {"edit", "withdraw"},
        "approver": {"edit", "approve", "request_changes"},
        "spokesperson": {"edit"},
        "observer": set(),
    },
    "approved": {
        "lead": {"edit", "withdraw"},
        "drafter": {"edit", "withdraw"},
        # Until it is published, an approver the policy asks for may still stop it.
        "approver": {"edit", "request_changes"},
        "spokesperson": {"edit", "publish", "copy"},
        "observer": set(),
    },
    "published": {persona: set() for persona in PERSONAS},
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("state", list(EXPECTED))
def test_statement_page_shows_each_persona_its_controls(
    make_statement,
    request,
    browser_client,
    incident,
    drafter,
    approver,
    spokesperson,
    state,
    persona,
):
    statement = make_statement(state=state)
    user = request.getfixturevalue(persona)

    response = browser_client.as_user(user).get(detail_url(statement))

    assert response.status_code == 200
    shown = {name for name, present in controls(response, statement).items() if present}
    assert shown == EXPECTED[state][persona]
    assert "stmt-" + state in response.text
    assert html.escape(STATEMENT_TEXT) in response.text


def test_author_approver_sees_no_approve_form_on_own_text(
    make_statement, browser_client, incident, approver, second_approver
):
    statement = make_statement(author=approver, state="in_review")

    mine = browser_client.as_user(approver).get(detail_url(statement))
    assert not controls(mine, statement)["approve"]
    assert "You wrote this text: another approver must review it." in mine.text

    theirs = browser_client.as_user(second_approver).get(detail_url(statement))
    assert controls(theirs, statement)["approve"]
    assert "Approve revision 1" in theirs.text


def test_a_drafter_is_not_told_of_the_four_eyes_rule(make_statement, browser_client, drafter):
    """A drafter, who approves nothing, read "another approver must review it"."""
    statement = make_statement(state="in_review")
    page = browser_client.as_user(drafter).get(detail_url(statement)).text
    assert "another approver must review it" not in page


def test_an_approved_text_points_its_approver_to_request_changes_only(
    make_statement, browser_client, approver
):
    statement = make_statement(state="approved")
    page = browser_client.as_user(approver).get(detail_url(statement)).text
    assert "Request changes ↓" in page and "Approve or request changes ↓" not in page


def test_publish_box_holds_the_exact_approved_text(
    make_statement, browser_client, incident, drafter, approver, spokesperson
):
    text = "Fish & chips <b>recalled</b>.\nWe're sorry — details at 6 pm."
    statement = make_statement(text=text, state="approved")

    response = browser_client.as_user(spokesperson).get(detail_url(statement))

    copy = re.search(r'<textarea id="approved-copy"[^>]*>(.*?)</textarea>', response.text, re.S)
    assert copy is not None
    assert html.unescape(copy.group(1)) == text
    assert "<b>recalled</b>" not in response.text  # escaped everywhere
    assert 'data-copy="#approved-copy"' in response.text


def test_an_approved_statement_says_who_publishes_it(
    make_statement, browser_client, incident, lead, drafter, spokesperson
):
    statement = make_statement(state="approved")
    waiting = "Approved: waiting for spokesperson to publish it."
    for person in (drafter, lead):
        assert waiting in browser_client.as_user(person).get(detail_url(statement)).text
    # The spokesperson is not told to wait for themselves: they have the publish box.
    theirs = browser_client.as_user(spokesperson).get(detail_url(statement)).text
    assert waiting not in theirs and "Mark as published" in theirs
    incident_actions.member_remove(incident=incident, actor=lead, user=spokesperson)
    alone = browser_client.as_user(drafter).get(detail_url(statement)).text
    assert "nobody in the cell may publish it" in alone


def test_observer_reads_the_text_without_an_editor(
    make_statement, browser_client, incident, drafter, observer
):
    statement = make_statement(text="Line one\nLine two")
    response = browser_client.as_user(observer).get(detail_url(statement))
    assert 'id="approved-text"' in response.text
    assert "Line one<br>Line two" in response.text
    assert "<textarea" not in response.text


def test_statement_page_is_404_for_outsiders(
    make_statement, browser_client, incident, drafter, outsider
):
    statement = make_statement()
    client = browser_client.as_user(outsider)
    assert client.get(detail_url(statement)).status_code == 404
    assert client.get(detail_url(statement, "diff/") + "?from=1&to=1").status_code == 404
    assert client.get(f"/incidents/{incident.pk}/statements/").status_code == 404


@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        ("edit/", {"text": "Hijacked", "revision": 1}),
        ("submit/", {}),
        ("approve/", {"revision": 1}),
        ("request-changes/", {"comment": "No"}),
        ("publish/", {"revision": 1, "url": "https://x.com/b/1"}),
        ("withdraw/", {}),
    ],
)
def test_outsider_posts_are_404_and_change_nothing(
    make_statement, browser_client, incident, drafter, approver, outsider, suffix, data
):
    statement = make_statement(state="approved")
    before = snapshot(statement)
    response = browser_client.as_user(outsider).post(detail_url(statement, suffix), data)
    assert response.status_code == 404
    assert snapshot(statement) == before


def test_statement_pages_refuse_get_on_actions(make_statement, browser_client, incident, drafter):
    statement = make_statement()
    response = browser_client.as_user(drafter).get(detail_url(statement, "submit/"))
    assert response.status_code == 405
    assert fresh(statement).status == "draft"


# --- The actions through the forms ----------------------------------------------------------


def test_the_whole_flow_through_the_forms(
    make_statement, browser_client, incident, drafter, approver, spokesperson
):
    statement = make_statement(text="We know.")

    client = browser_client.as_user(drafter)
    response = act(client, statement, "edit/", {"text": STATEMENT_TEXT, "revision": 1})
    assert ("success", "Saved.") in messages_of(response)
    assert fresh(statement).revision == 2
    assert "We <del>know.</del><ins>are aware" in response.text  # the last change, on the page

    response = act(client, statement, "submit/")
    assert ("success", "Submitted for approval.") in messages_of(response)
    assert fresh(statement).status == "in_review"

    client = browser_client.as_user(approver)
    response = act(client, statement, "approve/", {"revision": 2, "comment": "Good."})
    assert ("success", "Approved.") in messages_of(response)
    assert fresh(statement).status == "approved"
    assert "Good." in response.text

    client = browser_client.as_user(spokesperson)
    response = act(
        client,
        statement,
        "publish/",
        {"revision": 2, "url": "https://x.com/b/1", "published_at": ""},
    )
    assert ("success", "Marked as published.") in messages_of(response)
    statement = fresh(statement)
    assert (statement.status, statement.published_url) == ("published", "https://x.com/b/1")
    assert statement.published_by == spokesperson
    assert "see the post" in response.text
    assert Incident.objects.get(pk=incident.pk).first_response_at == statement.published_at

    room = client.get(f"/incidents/{incident.pk}/")
    assert "First response after 0 min" in room.text


def test_request_changes_through_the_form(
    make_statement, browser_client, incident, drafter, approver
):
    statement = make_statement(state="in_review")
    response = act(
        browser_client.as_user(approver),
        statement,
        "request-changes/",
        {"comment": "Name the product."},
    )
    assert ("success", "Sent back to the author with your comment.") in messages_of(response)
    assert fresh(statement).status == "changes_requested"
    review = Review.objects.get(statement=statement)
    assert (review.decision, review.comment) == ("changes_requested", "Name the product.")

    page = browser_client.as_user(drafter).get(detail_url(statement))
    assert "Name the product." in page.text
    # The same words cannot go round again: edited first, then submitted.
    assert not controls(page, statement)["submit"] and controls(page, statement)["edit"]


def test_withdraw_through_the_form(make_statement, browser_client, incident, drafter):
    statement = make_statement()
    response = act(browser_client.as_user(drafter), statement, "withdraw/", {"reason": "Old"})
    assert ("success", "Withdrawn.") in messages_of(response)
    assert fresh(statement).status == "withdrawn"
    assert not any(controls(response, statement).values())


# --- Refusals: a message, and nothing changes ----------------------------------------------


def test_four_eyes_through_the_form(
    make_statement, browser_client, incident, approver, second_approver
):
    statement = make_statement(author=approver, state="in_review")
    before = snapshot(statement)

    response = act(browser_client.as_user(approver), statement, "approve/", {"revision": 1})

    assert (
        "error",
        "You wrote this text: someone else must review it (four-eyes rule).",
    ) in messages_of(response)
    assert snapshot(statement) == before

    response = act(browser_client.as_user(second_approver), statement, "approve/", {"revision": 1})
    assert ("success", "Approved.") in messages_of(response)


def test_changes_requested_needs_a_comment_through_the_form(
    make_statement, browser_client, incident, drafter, approver
):
    statement = make_statement(state="in_review")
    before = snapshot(statement)
    client = browser_client.as_user(approver)

    for data in ({}, {"comment": ""}, {"comment": "   "}):
        response = act(client, statement, "request-changes/", data)
        errors = [text for kind, text in messages_of(response) if kind == "error"]
        assert errors, response.text
        assert snapshot(statement) == before
    assert 'name="comment"' in response.text and "required" in response.text


def test_over_limit_submit_is_refused_through_the_form(
    make_statement, browser_client, incident, drafter
):
    statement = make_statement(text=LONG_X)
    before = snapshot(statement)
    client = browser_client.as_user(drafter)

    page = client.get(detail_url(statement))
    excess = len(LONG_X) - 280
    assert f"{excess} characters over the 280-character limit" in page.text
    assert re.search(r"<button[^>]*disabled[^>]*>Submit for approval</button>", page.text)
    assert re.search(r"Suggestion: a thread of \d+ posts\.", page.text)

    response = act(client, statement, "submit/")  # the button is disabled; POST it anyway
    errors = [text for kind, text in messages_of(response) if kind == "error"]
    assert len(errors) == 1
    assert f"{excess} characters over the 280-character limit of X / Twitter." in errors[0]
    assert "Split it into a thread of" in errors[0]
    assert snapshot(statement) == before


@pytest.mark.parametrize(
    ("who", "suffix", "data", "message"),
    [
        ("drafter", "approve/", {"revision": 1}, "Only approvers of the cell review statements."),
        ("spokesperson", "approve/", {"revision": 1}, "Only approvers of the cell review"),
        (
            "approver",
            "publish/",
            {"revision": 1, "url": "https://x.com/b/1"},
            "Only the spokesperson publishes",
        ),
        (
            "spokesperson",
            "publish/",
            {"revision": 1, "url": "https://x.com/b/1"},
            "does not hold every approval",
        ),
        ("observer", "edit/", {"text": "Mine", "revision": 1}, "Observers cannot edit statements."),
        ("observer", "submit/", {}, "Only cell members who draft can submit a statement."),
        ("approver", "withdraw/", {}, "Only the author or the lead can withdraw"),
        ("drafter", "approve/", {}, "This field is required."),  # invalid form: no revision
    ],
    ids=[
        "drafter-approves",
        "spokesperson-approves",
        "approver-publishes",
        "publish-in-review",
        "observer-edits",
        "observer-submits",
        "approver-withdraws",
        "no-revision",
    ],
)
def test_refused_actions_redirect_with_the_error(
    make_statement, request, browser_client, incident, drafter, approver, who, suffix, data, message
):
    statement = make_statement(state="in_review")
    before = snapshot(statement)

    response = act(browser_client.as_user(request.getfixturevalue(who)), statement, suffix, data)

    errors = [text for kind, text in messages_of(response) if kind == "error"]
    assert len(errors) == 1, messages_of(response)
    assert message in errors[0]
    assert snapshot(statement) == before


def test_publish_with_a_bad_url_is_refused(
    make_statement, browser_client, incident, drafter, approver, spokesperson
):
    statement = make_statement(state="approved")
    before = snapshot(statement)
    client = browser_client.as_user(spokesperson)

    response = act(client, statement, "publish/", {"revision": 1, "url": "not a url"})
    assert ("error", "“not a url” is not a valid web address.") in messages_of(response)
    response = act(client, statement, "publish/", {"revision": 1, "url": ""})
    assert ("error", "Give the address (URL) of the published post.") in messages_of(response)
    assert snapshot(statement) == before
    assert controls(response, statement)["publish"]


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2999-01-01T10:00", "The publication time cannot be in the future."),
        ("2000-01-01T10:00", "The publication time is before the statement was approved."),
        ("yesterday", "Enter a valid date/time."),
    ],
    ids=["future", "before-approval", "garbage"],
)
def test_publish_with_an_implausible_time_is_refused(
    make_statement, browser_client, incident, drafter, approver, spokesperson, when, message
):
    statement = make_statement(state="approved")
    before = snapshot(statement)
    response = act(
        browser_client.as_user(spokesperson),
        statement,
        "publish/",
        {"revision": 1, "url": "https://x.com/b/1", "published_at": when},
    )
    assert ("error", message) in messages_of(response)
    assert snapshot(statement) == before


def test_edit_with_empty_text_is_refused(make_statement, browser_client, incident, drafter):
    statement = make_statement()
    before = snapshot(statement)
    response = act(browser_client.as_user(drafter), statement, "edit/", {"text": "", "revision": 1})
    assert [kind for kind, _ in messages_of(response)] == ["error"]
    assert snapshot(statement) == before


def test_approving_a_text_that_changed_since_reading_is_refused(
    make_statement, browser_client, incident, drafter, approver
):
    statement = make_statement(state="in_review")
    actions.statement_edit(statement=statement, actor=drafter, text="Changed", base_revision=1)
    before = snapshot(statement)

    response = act(browser_client.as_user(approver), statement, "approve/", {"revision": 1})

    assert (
        "error",
        "The text changed since you read it (now revision 2). Read it again.",
    ) in messages_of(response)
    assert snapshot(statement) == before
    assert "Approve revision 2" in response.text


def test_an_edit_after_approval_voids_it_on_the_page(
    make_statement, browser_client, incident, drafter, approver, spokesperson
):
    statement = make_statement(state="approved")
    page = browser_client.as_user(drafter).get(detail_url(statement))
    assert "approvals already given are voided" in page.text

    act(browser_client.as_user(drafter), statement, "edit/", {"text": "New", "revision": 1})

    assert fresh(statement).status == "in_review"
    page = browser_client.as_user(spokesperson).get(detail_url(statement))
    assert not controls(page, statement)["publish"]
    page = browser_client.as_user(approver).get(detail_url(statement))
    assert "Approve revision 2" in page.text


# --- Stale edit: both texts -----------------------------------------------------------------


def test_stale_edit_returns_409_with_both_texts(
    make_statement, browser_client, incident, drafter, approver
):
    statement = make_statement(text="Original text")
    actions.statement_edit(
        statement=statement, actor=approver, text="Theirs: <approved> wording", base_revision=1
    )
    before = snapshot(statement)
    client = browser_client.as_user(drafter)

    response = client.post(
        detail_url(statement, "edit/"), {"text": "Mine: my & wording", "revision": 1}
    )

    assert response.status_code == 409
    assert snapshot(statement) == before
    page = response.text
    assert 'class="card conflict"' in page
    assert "saved revision 2 while you were editing revision 1" in page
    theirs = re.search(r'<blockquote class="statement-text">(.*?)</blockquote>', page, re.S)
    assert html.unescape(theirs.group(1)) == "Theirs: <approved> wording"
    mine = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', page, re.S)
    assert html.unescape(mine.group(1)).strip() == "Mine: my & wording"
    assert "Your text (not saved yet)" in page
    assert re.search(r'<input type="hidden" name="revision" value="2"', page)
    assert "<approved>" not in page

    # Saving the merged text from that page, now based on revision 2, goes through.
    response = act(client, statement, "edit/", {"text": "Merged wording", "revision": 2})
    assert ("success", "Saved.") in messages_of(response)
    assert (fresh(statement).revision, fresh(statement).text) == (3, "Merged wording")


# --- Diff -----------------------------------------------------------------------------------


def test_diff_shows_insertions_and_deletions_escaped(
    make_statement, browser_client, incident, drafter, observer
):
    statement = make_statement(text="We are <b>aware</b> of it.")
    actions.statement_edit(
        statement=statement,
        actor=drafter,
        text="We are <script>alert(1)</script> of it & more.",
        base_revision=1,
    )

    response = browser_client.as_user(observer).get(detail_url(statement, "diff/?from=1&to=2"))

    assert response.status_code == 200
    body = response.text
    assert "<del>&lt;b&gt;aware&lt;/b&gt;</del>" in body
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in body
    assert "&amp;" in body
    assert "<script>" not in body and "<b>" not in body
    assert "Changes from revision 1 to revision 2" in body

    reverse = browser_client.get(detail_url(statement, "diff/?from=2&to=1")).text
    assert "<ins>&lt;b&gt;aware&lt;/b&gt;</ins>" in reverse


@pytest.mark.parametrize("query", ["", "?from=1", "?from=1&to=9", "?from=a&to=2"])
def test_diff_with_unknown_revisions_is_404(
    make_statement, browser_client, incident, drafter, query
):
    statement = make_statement(text="One")
    actions.statement_edit(statement=statement, actor=drafter, text="Two", base_revision=1)
    response = browser_client.as_user(drafter).get(detail_url(statement, "diff/") + query)
    assert response.status_code == 404


# --- Inbox ----------------------------------------------------------------------------------


def test_inbox_lists_only_statements_awaiting_me(
    make_statement,
    browser_client,
    declare,
    incident,
    lead,
    drafter,
    approver,
    second_approver,
    make_user,
):
    waiting = make_statement(text="Waiting for a sign-off", title="Waiting one", state="in_review")
    make_statement(text="Draft", title="A draft")
    make_statement(text="Done", title="Approved one", state="approved", reviewer=second_approver)
    make_statement(author=approver, text="Mine", title="My own", state="in_review")
    other = declare(title="Other incident")
    incident_actions.member_add(incident=other, actor=lead, user=drafter, role="drafter")
    incident_actions.member_add(
        incident=other, actor=lead, user=make_user("approver3"), role="approver", function="other"
    )
    make_statement(incident=other, text="Elsewhere", title="Other cell", state="in_review")

    response = browser_client.as_user(approver).get("/approvals/")

    assert response.status_code == 200
    links = re.findall(r'href="/statements/(\d+)/"', response.text)
    assert links == [str(waiting.pk)]
    assert "Waiting one" in response.text
    for title in ("A draft", "Approved one", "My own", "Other cell"):
        assert title not in response.text

    empty = browser_client.as_user(drafter).get("/approvals/")
    assert "Nothing waits for you" in empty.text


# --- Room panel -----------------------------------------------------------------------------


def test_room_shows_the_statements_panel_with_status_chips(
    make_statement, browser_client, incident, drafter, approver, spokesperson, observer
):
    for state in ("draft", "in_review", "approved", "published"):
        make_statement(text=f"Text {state}", state=state)
    make_statement(text="Text withdrawn", state="withdrawn")

    response = browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/")

    assert response.status_code == 200
    panel = re.search(r'<section id="statements-panel".*?</section>', response.text, re.S).group(0)
    for status, label in [
        ("draft", "Draft"),
        ("in_review", "In review"),
        ("approved", "Approved"),
        ("published", "Published"),
        ("withdrawn", "Withdrawn"),
    ]:
        assert f'<span class="chip stmt-{status}">{label}</span>' in panel
    assert '<span class="count">5</span>' in panel
    assert "awaiting 1. any approver" in panel
    assert "New statement" in panel

    partial = browser_client.get(f"/incidents/{incident.pk}/statements/")
    assert partial.status_code == 200
    assert partial.text.count('class="statement-item"') == 5

    observed = browser_client.as_user(observer).get(f"/incidents/{incident.pk}/")
    assert "stmt-published" in observed.text
    assert "New statement" not in observed.text


def test_room_without_statements_suggests_a_holding_statement(browser_client, incident, drafter):
    response = browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/")
    assert "No statement yet." in response.text
    assert f'href="{create_url(incident)}"' in response.text
    assert "Start with a holding statement" in response.text


def test_an_observer_is_not_invited_to_write_what_they_cannot(browser_client, incident, observer):
    response = browser_client.as_user(observer).get(f"/incidents/{incident.pk}/")
    assert "No statement yet." in response.text
    assert "Start with a holding statement" not in response.text
    assert f'href="{create_url(incident)}"' not in response.text


# --- Query counts ---------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def make_statements(make_statement, count, drafter, second_approver, spokesperson):
    """A mix of states, reviewers and revisions."""
    for i in range(count):
        kind = i % 5
        if kind == 0:
            make_statement(text=f"Draft {i}")
        elif kind == 1:
            s = make_statement(text=f"Review {i}", state="in_review")
            actions.statement_request_changes(statement=s, actor=second_approver, comment="No")
            actions.statement_edit(statement=s, actor=drafter, text=f"Again {i}", base_revision=1)
            actions.statement_submit(statement=s, actor=drafter)
        elif kind == 2:
            make_statement(text=f"Approved {i}", state="approved", reviewer=second_approver)
        elif kind == 3:
            make_statement(text=f"Published {i}", state="published")
        else:
            make_statement(author=spokesperson, text=f"Review {i}", state="in_review")


def test_room_queries_do_not_grow_with_the_statements(
    make_statement, browser_client, incident, drafter, approver, second_approver, spokesperson
):
    client = browser_client.as_user(drafter)
    make_statements(make_statement, 2, drafter, second_approver, spokesperson)
    client.get(f"/incidents/{incident.pk}/")  # warm up session and caches
    small, _ = count_queries(client, f"/incidents/{incident.pk}/")
    small_panel, _ = count_queries(client, f"/incidents/{incident.pk}/statements/")

    make_statements(make_statement, 18, drafter, second_approver, spokesperson)
    big, response = count_queries(client, f"/incidents/{incident.pk}/")
    assert response.text.count('class="statement-item"') == PANEL_PAGE  # a page of 20
    assert big <= small
    big_panel, _ = count_queries(client, f"/incidents/{incident.pk}/statements/")
    assert big_panel <= small_panel
    second, response = count_queries(
        client, f"/incidents/{incident.pk}/statements/?statements_page=2"
    )
    assert response.text.count('class="statement-item"') == 20 - PANEL_PAGE
    assert second <= small_panel


def test_inbox_queries_do_not_grow_with_the_statements(
    make_statement,
    browser_client,
    declare,
    incident,
    lead,
    drafter,
    approver,
    second_approver,
    spokesperson,
):
    def make(count):
        for i in range(count):
            target = incident if i % 2 else other
            s = make_statement(incident=target, text=f"Waiting {i}", state="in_review")
            if i % 3 == 0:  # some come back after changes were requested
                actions.statement_request_changes(statement=s, actor=second_approver, comment="X")
                actions.statement_edit(
                    statement=s, actor=drafter, text=f"Fixed {i}", base_revision=1
                )
                actions.statement_submit(statement=s, actor=drafter)

    other = declare(title="Second incident")
    for user, role in [(drafter, "drafter"), (approver, "approver"), (second_approver, "approver")]:
        incident_actions.member_add(
            incident=other,
            actor=lead,
            user=user,
            role=role,
            function="other" if role == "approver" else "",
        )
    client = browser_client.as_user(approver)
    make(2)
    client.get("/approvals/")
    small, _ = count_queries(client, "/approvals/")

    make(18)
    big, response = count_queries(client, "/approvals/")
    assert response.text.count('class="statement-item"') == 20
    assert big <= small


def test_a_published_statement_offers_a_correction_prefilled(
    make_statement, browser_client, incident, drafter, approver, spokesperson
):
    statement = make_statement(
        text="We are on it.", state="published", url="https://x.com/b/status/1"
    )

    client = browser_client.as_user(drafter)
    page = client.get(f"/statements/{statement.pk}/").content.decode()
    link = f"/incidents/{incident.pk}/statements/new/?corrects={statement.pk}"
    assert link in page
    form = client.get(link).content.decode()
    assert f'<option value="{statement.pk}" selected>' in form
    assert '<option value="correction" selected>' in form


def test_the_room_stays_small_and_its_queries_constant_with_200_statements(
    browser_client, incident, lead, drafter, default_policy
):
    """The room with 200 statements (and a long timeline) stays under 100 KB, in the same
    queries as with two: the statements panel shows a page, in progress first."""
    from django.utils import timezone

    from tests.statements.conftest import bulk_statements

    client = browser_client.as_user(lead)
    url = f"/incidents/{incident.pk}/"
    bulk_statements(incident, drafter, default_policy, 2)
    client.get(url)  # warm up
    few, _ = count_queries(client, url)

    bulk_statements(incident, drafter, default_policy, 190, title="Old reply")
    now = timezone.now()
    waiting = bulk_statements(
        incident, drafter, default_policy, 8, status="in_review", submitted_at=now
    )
    for n in range(300):
        incident_actions.timeline_add_entry(
            actor=lead, incident=incident, kind="note", text=f"n{n}"
        )
    many, response = count_queries(client, url)

    assert len(response.content) <= 100 * 1024, len(response.content)
    assert many <= few
    page = response.text
    assert page.count('class="statement-item"') == PANEL_PAGE
    shown = [int(pk) for pk in re.findall(r'data-statement="(\d+)"', page)]
    assert shown[:8] == [s.pk for s in reversed(waiting)]  # in review first, newest first
    assert 'rel="next"' in page and "190 more" in page
    assert "?statements_page=2#statements-panel" in page  # works without JavaScript


def test_the_statements_panel_keeps_its_page_through_a_refresh(
    browser_client, incident, drafter, default_policy
):
    from tests.statements.conftest import bulk_statements

    bulk_statements(incident, drafter, default_policy, PANEL_PAGE * 2 + 3)
    client = browser_client.as_user(drafter)
    room = client.get(f"/incidents/{incident.pk}/?statements_page=3").text
    assert room.count('class="statement-item"') == 3
    # The page the person is on is what the panel's re-fetch asks for (hx-include).
    assert 'hx-include="#statements-page"' in room
    assert 'id="statements-page" name="statements_page" value="3"' in room
    panel = client.get(f"/incidents/{incident.pk}/statements/?statements_page=3").text
    assert panel.count('class="statement-item"') == 3 and 'rel="prev"' in panel
    first = client.get(f"/incidents/{incident.pk}/statements/").text
    # On page 1 too: the room's hx-include finds it (no "returned no matches!" console error).
    assert 'id="statements-page" name="statements_page" value="1"' in first
    assert 'rel="prev"' not in first


def test_a_stock_policy_is_named_in_the_readers_language(
    browser_client, make_statement, ordered_policy, make_policy, drafter
):
    """The stock policies keep their English names (playbooks name them; the API gives
    them): pages translate them. A policy an admin named is shown as named."""
    statement = make_statement(approval_policy=ordered_policy)
    as_drafter = browser_client.as_user(drafter)
    french = as_drafter.get(f"/statements/{statement.pk}/", HTTP_ACCEPT_LANGUAGE="fr").text
    assert "Juridique, puis communication" in french
    assert "Legal, then communications" not in french
    english = as_drafter.get(f"/statements/{statement.pk}/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Legal, then communications" in english
    api = as_drafter.get(f"/api/statements/{statement.pk}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert api.json()["policy"] == "Legal, then communications"

    own = make_statement(approval_policy=make_policy("Juridique en premier", [(1, "legal")]))
    assert (
        "Juridique en premier"
        in as_drafter.get(f"/statements/{own.pk}/", HTTP_ACCEPT_LANGUAGE="en").text
    )


@pytest.mark.parametrize(
    "text, blanks",
    [
        (
            "We have seen your messages about [product]. — [your first name]",
            ["[product]", "[your first name]"],
        ),
        ("[UPDATE] The plant stays open. [EN]", []),  # tags, in capitals
        ("Read [our statement](https://example.com) and [product], [product].", ["[product]"]),
        ("No blank here.", []),
    ],
)
def test_blanks_left_in_a_text_are_found(text, blanks):
    from statements.drafting import unfilled_blanks

    assert unfilled_blanks(text) == blanks


def test_a_text_with_a_blank_left_warns_on_its_page_and_in_the_api(
    make_statement, browser_client, api, drafter, approver
):
    """A template's "[product]" went public: submitted, approved and published unnoticed.
    The page and the API point it out, and it cannot be submitted until filled in."""
    statement = make_statement(text="Sorry about [product]. We are on it.")
    page = browser_client.as_user(drafter).get(detail_url(statement)).text
    assert "This text still holds [product]: fill in each blank" in page
    body = api.as_user(drafter).get(f"/api/statements/{statement.pk}/").json()
    assert body["unfilled_blanks"] == ["[product]"]
    assert "submit" not in body["available_actions"]
    refused = act(browser_client.as_user(drafter), statement, "submit/")
    assert (
        "error",
        "This text still holds [product]: fill in each blank before submitting it.",
    ) in messages_of(refused)
    assert fresh(statement).status == "draft"
    answer = api.as_user(drafter).post(f"/api/statements/{statement.pk}/submit/", {}, format="json")
    assert answer.status_code == 400 and "[product]" in answer.json()["detail"]


def test_a_blank_brought_back_in_review_is_neither_approved_nor_published(
    make_statement, api, drafter, approver, spokesperson
):
    """Submitted clean, then edited in review to hold "[product]": it was approved and
    published as is. A long blank ("[what we have learnt ... since]") was never seen."""
    statement = make_statement(state="in_review")
    edited = api.as_user(drafter).patch(
        f"/api/statements/{statement.pk}/",
        {
            "text": "Where we are: [what we have learnt and done since our last message].",
            "revision": 1,
        },
        format="json",
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["unfilled_blanks"] == [
        "[what we have learnt and done since our last message]"
    ]
    refused = api.as_user(approver).post(
        f"/api/statements/{statement.pk}/approve/", {"revision": 2}, format="json"
    )
    assert refused.status_code == 400
    assert "cannot be approved until each is filled in" in refused.json()["detail"]
    assert fresh(statement).status == "in_review"


def test_a_first_approval_says_whose_sign_off_is_still_awaited(
    make_statement, make_policy, browser_client, legal, communications
):
    """A lone "Approved." read as done while the text still waited for Communications."""
    two = make_policy("Legal then comms", [(1, "legal"), (2, "communications")])
    statement = make_statement(state="in_review", approval_policy=two)
    response = act(browser_client.as_user(legal), statement, "approve/", {"revision": 1})
    assert ("success", "Your approval is recorded. Still awaited: Communications.") in (
        messages_of(response)
    )
    response = act(browser_client.as_user(communications), statement, "approve/", {"revision": 1})
    assert ("success", "Approved.") in messages_of(response)


def test_a_refused_form_gives_back_what_was_typed_once(
    make_statement, browser_client, spokesperson, approver
):
    """The post's address pasted under pressure came back empty after the time was refused."""
    statement = make_statement(state="approved")
    client = browser_client.as_user(spokesperson)
    typed = {"revision": 1, "url": "https://x.com/b/77", "published_at": "2999-01-01T10:00"}
    response = act(client, statement, "publish/", typed)
    assert ("error", "The publication time cannot be in the future.") in messages_of(response)
    assert 'value="https://x.com/b/77"' in response.text
    assert 'value="2999-01-01T10:00"' in response.text
    assert f'name="revision" value="{statement.revision}"' in response.text
    again = client.get(detail_url(statement))  # read once
    assert "https://x.com/b/77" not in again.text
    # A comment asking for changes, refused (too long), comes back too, cut to the limit;
    # never on another statement.
    in_review = make_statement(state="in_review")
    other = make_statement(state="in_review", title="Other")
    reviewer = browser_client.as_user(approver)
    comment = "Name the product. " + "x" * 5000
    response = act(reviewer, in_review, "request-changes/", {"comment": comment})
    assert [kind for kind, _ in messages_of(response)] == ["error"]
    assert f">{comment[:5000]}</textarea>" in response.text
    act(reviewer, in_review, "request-changes/", {"comment": comment})
    assert "Name the product." not in reviewer.get(detail_url(other)).text


def test_the_action_box_is_pointed_to_from_the_top(
    make_statement, browser_client, approver, spokesperson, drafter
):
    """On a phone the approval box comes after the text, two screens down: the top of the
    page links to it, for whoever has it (and to nothing for the others)."""
    statement = make_statement(state="in_review")
    page = browser_client.as_user(approver).get(detail_url(statement)).text
    assert 'href="#review-box"' in page and 'id="review-box"' in page
    assert (
        'href="#review-box"' not in browser_client.as_user(drafter).get(detail_url(statement)).text
    )
    approved = make_statement(state="approved", title="Approved one")
    page = browser_client.as_user(spokesperson).get(detail_url(approved)).text
    assert 'href="#publish-box"' in page and 'id="publish-box"' in page


def test_approving_a_revision_that_does_not_exist_says_so(make_statement, api, approver):
    """'The text changed since you read it' answered a revision 3 that never existed."""
    statement = make_statement(state="in_review")
    refused = api.as_user(approver).post(
        f"/api/statements/{statement.pk}/approve/", {"revision": 3}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "There is no revision 3: the text is at revision 1. Read it again."
    )


def test_a_statement_just_submitted_says_so(in_review, browser_client, approver):
    """Not "In review for 0 minutes"."""
    text = browser_client.as_user(approver).get(f"/statements/{in_review.pk}/").text
    assert "In review: submitted just now" in text
    assert "0 minutes" not in text


def test_the_publish_form_asks_for_the_posts_address_where_it_is_needed(
    approved, browser_client, spokesperson
):
    """The browser's own check, beside the field, from the action's rule
    (actions.needs_post_address): the banner at the top of the page was far from it."""
    client = browser_client.as_user(spokesperson)

    def url_field():
        text = client.get(f"/statements/{approved.pk}/").text
        return re.search(r'<input[^>]*name="url"[^>]*>', text).group(0)

    field = url_field()
    assert 'type="url"' in field and "required" in field and 'maxlength="500"' in field
    # After a refused post, the form keeps what was typed, and still asks.
    refused = client.post(
        f"/statements/{approved.pk}/publish/",
        {"revision": approved.revision, "url": POST_URL, "published_at": "2000-01-01T00:00"},
    )
    assert refused.status_code == 302 and fresh(approved).status == "approved"
    field = url_field()
    assert f'value="{POST_URL}"' in field and 'type="url"' in field and "required" in field


def test_a_reviewers_words_are_quoted_as_the_readers_language_quotes(
    browser_client, make_statement, drafter, approver
):
    """A French page quoted the reviewer with “ ” beside its own « » (a helper pass)."""
    statement = make_statement(state="in_review")
    actions.statement_request_changes(
        statement=statement, actor=approver, comment="Name the date & the place."
    )
    as_drafter = browser_client.as_user(drafter)
    french = as_drafter.get(f"/statements/{statement.pk}/", HTTP_ACCEPT_LANGUAGE="fr").text
    assert french_spacing("« Name the date &amp; the place. »") in french and "“Name" not in french
    english = as_drafter.get(f"/statements/{statement.pk}/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "“Name the date &amp; the place.”" in english


def test_an_approver_of_an_approved_text_is_not_told_they_could_still_approve_it(
    browser_client, make_statement, approver
):
    """Once approved, the editor's fold said "you will no longer be able to approve it" to
    an approver who may only send it back (a new-user pass)."""
    as_approver = browser_client.as_user(approver)
    in_review = make_statement(state="in_review")
    page = as_approver.get(f"/statements/{in_review.pk}/").text
    assert "Edit the text instead (you will no longer be able to approve it)" in page
    approved = make_statement(state="approved")
    page = as_approver.get(f"/statements/{approved.pk}/").text
    assert "you will no longer be able to approve it" not in page
    assert "Edit (voids the approval)" in page


def test_quoted_words_are_escaped_once():
    from django.template import Context, Template

    page = Template("{% load crisis %}{{ a|quoted }} {{ b|linebreaksbr|quoted }} {{ c|quoted }}")
    shown = page.render(Context({"a": "<b>x</b> & y", "b": "a & b\nc", "c": None}))
    assert shown == "“&lt;b&gt;x&lt;/b&gt; &amp; y” “a &amp; b<br>c” "


def test_an_approver_done_with_a_text_goes_on_to_the_next_that_waits(
    browser_client, make_statement, approver
):
    """Ten crisis page texts each wait for legal, then communications: back to "My
    approvals" after each was nine trips too many (a new-user pass)."""
    first = make_statement(title="First", state="in_review")
    second = make_statement(title="Second", state="in_review")
    client = browser_client.as_user(approver)
    assert "Next to approve" not in client.get(f"/statements/{first.pk}/").text  # to do here
    client.post(f"/statements/{first.pk}/approve/", {"revision": first.revision})
    page = client.get(f"/statements/{first.pk}/").text
    assert f'href="/statements/{second.pk}/">Next to approve: {second} →</a>' in page
    client.post(f"/statements/{second.pk}/approve/", {"revision": second.revision})
    assert "Next to approve" not in client.get(f"/statements/{second.pk}/").text


def test_the_timeline_names_each_statement_so_ten_alike_can_be_told_apart(
    browser_client, make_statement, lead, incident
):
    """Ten crisis page texts read "Update · Crisis center page · r1" alike (a new-user
    pass): the timeline names a statement by its title, else adds its language."""
    make_statement(title="Crisis page: Summary (fr)", language="fr")
    make_statement(language="fr")
    timeline = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/timeline/").text
    assert "Crisis page: Summary (fr) · r1</a>" in timeline
    assert "Holding statement · X / Twitter · FR · r1</a>" in timeline


def test_an_approved_texts_length_reads_as_the_editors_counter(
    browser_client, make_statement, drafter
):
    """ "266 characters / 280" once approved beside "253 / 280 characters" in the editor (a
    new-user pass): one way to write it."""
    statement = make_statement(state="approved")
    page = browser_client.as_user(drafter).get(f"/statements/{statement.pk}/").text
    assert f"{len(statement.text)} / 280 characters" in page
