"""Publishing a statement through the actions: who publishes what, the post's address
and time, a published statement is final, and the first response clock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.errors import InvalidInput, NotAllowed, TransitionNotAllowed
from incidents.models import EntryKind, Incident
from statements import actions
from statements.models import Statement
from tests.helpers import POST_URL, fresh
from tests.statements.conftest import last_entry, revisions, timeline


def detected_an_hour_ago(incident):
    Incident.objects.filter(pk=incident.pk).update(detected_at=timezone.now() - timedelta(hours=1))


def approved_minutes_ago(statement, minutes):
    Statement.objects.filter(pk=statement.pk).update(
        approved_at=timezone.now() - timedelta(minutes=minutes)
    )


# --- Publication --------------------------------------------------------------------------


def test_the_spokesperson_publishes_an_approved_statement(approved, spokesperson, incident):
    detected_an_hour_ago(incident)
    approved_minutes_ago(approved, 10)
    when = timezone.now() - timedelta(minutes=2)
    statement = actions.statement_publish(
        statement=approved, actor=spokesperson, url=f"  {POST_URL} ", published_at=when
    )
    statement = fresh(statement)
    assert statement.status == "published"
    assert (statement.published_at, statement.published_url, statement.published_by) == (
        when,
        POST_URL,
        spokesperson,
    )
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_PUBLISHED and entry.actor == spokesperson
    assert entry.key_event is True and entry.occurred_at == when and entry.text == POST_URL
    assert entry.data["url"] == POST_URL and entry.data["status"] == "published"


@pytest.mark.parametrize("persona", ["lead", "drafter", "approver", "observer", "outsider"])
def test_only_the_spokesperson_publishes(approved, persona, request, incident):
    with pytest.raises(NotAllowed):
        actions.statement_publish(
            statement=approved, actor=request.getfixturevalue(persona), url=POST_URL
        )
    assert fresh(approved).status == "approved"
    assert timeline(incident, EntryKind.STATEMENT_PUBLISHED) == []


def test_the_lead_publishes_when_the_policy_allows_it(
    make_statement, make_policy, drafter, approver, lead, spokesperson
):
    lenient = make_policy("Lead may publish", [(1, "")], allow_lead_publish=True)
    statement = make_statement(approval_policy=lenient, state="approved")
    statement = actions.statement_publish(statement=statement, actor=lead, url=POST_URL)
    assert fresh(statement).status == "published" and fresh(statement).published_by == lead


@pytest.mark.parametrize("state", ["draft", "in_review", "ordered_half_approved"])
def test_publishing_needs_an_approved_statement(
    state, request, spokesperson, incident, ordered_in_review, legal
):
    if state == "ordered_half_approved":
        statement = actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    else:
        statement = request.getfixturevalue(state)
    with pytest.raises(TransitionNotAllowed):
        actions.statement_publish(statement=statement, actor=spokesperson, url=POST_URL)
    assert fresh(statement).status != "published"
    assert timeline(incident, EntryKind.STATEMENT_PUBLISHED) == []
    assert Incident.objects.get(pk=incident.pk).first_response_at is None


def test_publishing_needs_the_approvals_on_the_current_revision(approved, spokesperson, incident):
    # An "approved" row whose approvals are on an older revision (e.g. written by hand in the
    # database) is not publishable: the action re-checks the approvals themselves.
    Statement.objects.filter(pk=approved.pk).update(revision=2, text="Unsigned text.")
    with pytest.raises(TransitionNotAllowed):
        actions.statement_publish(statement=approved, actor=spokesperson, url=POST_URL)
    assert fresh(approved).status == "approved"
    assert timeline(incident, EntryKind.STATEMENT_PUBLISHED) == []


@pytest.mark.parametrize("channel", ["x", "facebook", "instagram", "linkedin", "tiktok", "youtube"])
def test_social_channels_need_the_address_of_the_post(
    make_statement, channel, drafter, approver, spokesperson
):
    statement = make_statement(channel=channel, state="approved")
    with pytest.raises(InvalidInput):
        actions.statement_publish(statement=statement, actor=spokesperson, url="  ")
    assert fresh(statement).status == "approved"


@pytest.mark.parametrize(
    "url", ["not a url", "www.example.org/post", "ftp://example.org/post", "javascript:alert(1)"]
)
def test_a_malformed_post_address_is_invalid(approved, spokesperson, url):
    with pytest.raises(InvalidInput):
        actions.statement_publish(statement=approved, actor=spokesperson, url=url)
    assert fresh(approved).status == "approved"


@pytest.mark.parametrize("channel", ["email", "press_release"])
def test_email_and_press_releases_need_no_address(
    make_statement, channel, drafter, approver, spokesperson
):
    statement = make_statement(channel=channel, state="published", url="")
    statement = fresh(statement)
    assert (statement.status, statement.published_url) == ("published", "")


def test_an_optional_address_is_still_validated(make_statement, drafter, approver, spokesperson):
    statement = make_statement(channel="press_release", state="approved")
    with pytest.raises(InvalidInput):
        actions.statement_publish(statement=statement, actor=spokesperson, url="nope")
    assert fresh(statement).status == "approved"


def test_the_publication_time_cannot_be_in_the_future(approved, spokesperson, incident):
    with pytest.raises(InvalidInput):
        actions.statement_publish(
            statement=approved,
            actor=spokesperson,
            url=POST_URL,
            published_at=timezone.now() + timedelta(hours=1),
        )
    assert fresh(approved).status == "approved"
    assert Incident.objects.get(pk=incident.pk).first_response_at is None


def test_the_publication_time_cannot_precede_detection(approved, spokesperson, incident):
    with pytest.raises(InvalidInput):
        actions.statement_publish(
            statement=approved,
            actor=spokesperson,
            url=POST_URL,
            published_at=incident.detected_at - timedelta(minutes=1),
        )
    assert fresh(approved).status == "approved"


def test_a_published_statement_cannot_be_edited(published, drafter):
    with pytest.raises(TransitionNotAllowed):
        actions.statement_edit(statement=published, actor=drafter, text="Oops.", base_revision=1)
    assert len(revisions(published)) == 1 and fresh(published).text == published.text


@pytest.mark.parametrize("persona", ["lead", "drafter"])
def test_a_published_statement_cannot_be_withdrawn(published, persona, request, incident):
    with pytest.raises(TransitionNotAllowed):
        actions.statement_withdraw(statement=published, actor=request.getfixturevalue(persona))
    assert fresh(published).status == "published"
    assert timeline(incident, EntryKind.STATEMENT_WITHDRAWN) == []


def test_the_first_public_statement_stops_the_first_response_clock(
    approved, spokesperson, incident
):
    detected_an_hour_ago(incident)
    approved_minutes_ago(approved, 10)
    when = timezone.now() - timedelta(minutes=1)
    actions.statement_publish(
        statement=approved, actor=spokesperson, url=POST_URL, published_at=when
    )
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.first_response_at == when
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_PUBLISHED
    assert entry.data["first_response"] is True and entry.data["deadline_met"] is True
    assert entry.data["first_response_minutes"] == incident.first_response_minutes


def test_a_late_first_response_is_recorded_as_missing_the_deadline(
    approved, spokesperson, incident
):
    Incident.objects.filter(pk=incident.pk).update(
        first_response_due_at=timezone.now() - timedelta(minutes=30)
    )
    actions.statement_publish(statement=approved, actor=spokesperson, url=POST_URL)
    entry = last_entry(incident)
    assert entry.data["first_response"] is True and entry.data["deadline_met"] is False
    assert Incident.objects.get(pk=incident.pk).first_response_met is False


def test_an_internal_briefing_is_not_a_first_response(
    make_statement, drafter, approver, spokesperson, incident
):
    briefing = make_statement(
        kind="briefing",
        channel="email",
        text="Internal: do not comment.",
        state="published",
        url="",
    )
    assert fresh(briefing).status == "published"
    assert Incident.objects.get(pk=incident.pk).first_response_at is None
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_PUBLISHED
    assert entry.data["first_response"] is False and entry.data["deadline_met"] is None


def test_a_second_published_statement_keeps_the_first_response_time(
    published, make_statement, approver, spokesperson, incident
):
    first = Incident.objects.get(pk=incident.pk).first_response_at
    assert first == fresh(published).published_at
    make_statement(kind="update", text="Update: the post was removed.", state="published")
    assert Incident.objects.get(pk=incident.pk).first_response_at == first
    entries = timeline(incident, EntryKind.STATEMENT_PUBLISHED)
    assert [e.data["first_response"] for e in entries] == [True, False]
