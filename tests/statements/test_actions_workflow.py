"""The statement workflow through its actions: draft, edit, submit, review, publish,
withdraw. Every rule is checked on the rows it leaves behind and on the timeline."""

import hashlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    StaleRevision,
    TransitionNotAllowed,
)
from incidents.models import AppendOnlyError, EntryKind, Incident, TimelineEntry
from statements import actions, selectors, tasks
from statements.models import (
    MAX_TEXT,
    Decision,
    Review,
    Revision,
    Statement,
)

POST_URL = "https://x.com/brand/status/1234567890"


def timeline(incident, kind):
    return list(TimelineEntry.objects.filter(incident=incident, kind=kind).order_by("seq"))


def last_entry(incident):
    return TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()


def reload(statement):
    return Statement.objects.get(pk=statement.pk)


def revisions(statement):
    return list(
        Revision.objects.filter(statement=statement)
        .order_by("number")
        .values_list("number", "text", "author")
    )


def approvals(statement):
    return list(
        Review.objects.filter(statement=statement, decision=Decision.APPROVED).values_list(
            "revision", "reviewer", "function"
        )
    )


def detected_an_hour_ago(incident):
    Incident.objects.filter(pk=incident.pk).update(detected_at=timezone.now() - timedelta(hours=1))


def approved_minutes_ago(statement, minutes):
    Statement.objects.filter(pk=statement.pk).update(
        approved_at=timezone.now() - timedelta(minutes=minutes)
    )


def approve_and_publish(statement, *, approver, spokesperson, url=POST_URL, **kwargs):
    statement = actions.statement_submit(statement=statement, actor=statement.author)
    statement = actions.statement_approve(statement=statement, actor=approver, revision=1)
    return actions.statement_publish(statement=statement, actor=spokesperson, url=url, **kwargs)


@pytest.fixture
def published(approved, spokesperson):
    return actions.statement_publish(statement=approved, actor=spokesperson, url=POST_URL)


@pytest.fixture
def other_incident(declare, lead, drafter, approver, spokesperson):
    incident = declare(title="Another crisis")
    for user, role in [
        (drafter, "drafter"),
        (approver, "approver"),
        (spokesperson, "spokesperson"),
    ]:
        incident_actions.member_add(incident=incident, actor=lead, user=user, role=role)
    return incident


# --- Drafting -----------------------------------------------------------------------------


def test_drafting_creates_revision_one_hashed_with_sha256(create, incident, drafter):
    statement = create(text="  We are looking into it.\r\nMore soon.  ", title="Holding #1")
    text = "We are looking into it.\nMore soon."
    statement = reload(statement)
    assert (statement.status, statement.revision, statement.text) == ("draft", 1, text)
    assert statement.author == drafter and statement.revised_by == drafter
    assert statement.policy.name == "One approver"
    revision = Revision.objects.get(statement=statement)
    assert (revision.number, revision.text, revision.author) == (1, text, drafter)
    assert revision.content_hash == hashlib.sha256(text.encode()).hexdigest()
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_DRAFTED and entry.actor == drafter
    assert entry.data["statement"] == statement.pk and entry.data["revision"] == 1
    assert entry.data["status"] == "draft" and entry.data["corrects"] is None


def test_a_revision_is_never_rewritten(draft):
    revision = Revision.objects.get(statement=draft, number=1)
    revision.text = "Something nobody signed"
    with pytest.raises(AppendOnlyError):
        revision.save()
    assert Revision.objects.get(pk=revision.pk).text == draft.text


def test_a_revision_is_never_deleted(draft):
    revision = Revision.objects.get(statement=draft, number=1)
    with pytest.raises(AppendOnlyError):
        revision.delete()
    assert Revision.objects.filter(pk=revision.pk).exists()


@pytest.mark.parametrize("persona", ["observer", "outsider", "staff"])
def test_observers_and_outsiders_cannot_draft(create, incident, persona, request):
    before = TimelineEntry.objects.filter(incident=incident).count()
    with pytest.raises(NotAllowed):
        create(actor=request.getfixturevalue(persona))
    assert not Statement.objects.exists()
    assert TimelineEntry.objects.filter(incident=incident).count() == before


@pytest.mark.parametrize("persona", ["lead", "drafter", "approver", "spokesperson"])
def test_every_writer_of_the_cell_can_draft(create, persona, request):
    user = request.getfixturevalue(persona)
    statement = create(actor=user)
    assert statement.author == user and statement.status == "draft"


def test_an_individual_reply_names_the_account_or_the_post_it_answers(create):
    with pytest.raises(InvalidInput):
        create(kind="reply", reply_to_account="  ", reply_to_url="")
    assert not Statement.objects.exists()
    by_account = create(kind="reply", reply_to_account=" @angry_customer ")
    by_post = create(kind="reply", reply_to_url="https://x.com/someone/status/42")
    assert reload(by_account).reply_to_account == "@angry_customer"
    assert reload(by_post).reply_to_url == "https://x.com/someone/status/42"


def test_a_correction_says_what_it_corrects(create):
    with pytest.raises(InvalidInput):
        create(kind="correction")
    assert not Statement.objects.exists()


@pytest.mark.parametrize("status", ["draft", "in_review", "approved", "withdrawn"])
def test_only_a_published_statement_can_be_corrected(create, draft, status):
    Statement.objects.filter(pk=draft.pk).update(status=status)
    with pytest.raises(InvalidInput):
        create(kind="correction", corrects=reload(draft))
    assert Statement.objects.count() == 1


def test_a_correction_corrects_a_statement_of_the_same_incident(
    create, other_incident, drafter, approver, spokesperson
):
    elsewhere = actions.statement_create(
        incident=other_incident,
        actor=drafter,
        kind="holding",
        channel="x",
        language="en",
        text="Published about another crisis.",
    )
    elsewhere = approve_and_publish(elsewhere, approver=approver, spokesperson=spokesperson)
    assert elsewhere.status == "published"
    with pytest.raises(InvalidInput):
        create(kind="correction", corrects=elsewhere)
    assert not Statement.objects.filter(kind="correction").exists()


def test_a_correction_of_a_published_statement_is_drafted(create, published, incident):
    correction = create(kind="correction", corrects=published, text="We got a date wrong.")
    assert reload(correction).corrects == published
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_DRAFTED and entry.data["corrects"] == published.pk


@pytest.mark.parametrize(
    "field,value", [("kind", "rant"), ("channel", "myspace"), ("language", "tlh")]
)
def test_unknown_kind_channel_or_language_is_invalid(create, field, value):
    with pytest.raises(InvalidInput):
        create(**{field: value})
    assert not Statement.objects.exists()


@pytest.mark.parametrize("text", ["", "   ", "\r\n\n  \t", None])
def test_a_statement_without_text_is_invalid(create, text):
    with pytest.raises(InvalidInput):
        create(text=text)
    assert not Statement.objects.exists()


def test_a_statement_over_50000_characters_is_invalid(create):
    with pytest.raises(InvalidInput):
        create(channel="press_release", text="a" * (MAX_TEXT + 1))
    assert not Statement.objects.exists()


# --- Four-eyes and who reviews ------------------------------------------------------------


def test_the_author_cannot_approve_their_own_statement(create, approver, incident):
    statement = create(actor=approver)
    statement = actions.statement_submit(statement=statement, actor=approver)
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=statement, actor=approver, revision=1)
    with pytest.raises(NotAllowed):
        actions.statement_request_changes(statement=statement, actor=approver, comment="Hmm")
    assert reload(statement).status == "in_review"
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
    assert approvals(done) == [(2, second_approver.pk, "")]


@pytest.mark.parametrize("persona", ["drafter", "spokesperson", "lead", "observer", "outsider"])
def test_only_approvers_review(in_review, persona, request, incident):
    user = request.getfixturevalue(persona)
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=in_review, actor=user, revision=1)
    with pytest.raises(NotAllowed):
        actions.statement_request_changes(statement=in_review, actor=user, comment="No.")
    assert reload(in_review).status == "in_review"
    assert not Review.objects.exists()


@pytest.mark.parametrize("comment", ["", "   \n", None])
def test_requesting_changes_needs_a_comment(in_review, approver, comment):
    with pytest.raises(InvalidInput):
        actions.statement_request_changes(statement=in_review, actor=approver, comment=comment)
    assert reload(in_review).status == "in_review"
    assert not Review.objects.exists()


def test_requested_changes_are_recorded_then_addressed_and_resubmitted(
    in_review, approver, drafter, incident
):
    statement = actions.statement_request_changes(
        statement=in_review, actor=approver, comment="  Drop the word 'regrettable'.  "
    )
    assert reload(statement).status == "changes_requested"
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
    assert reload(statement).status == "in_review"
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
    statement = reload(statement)
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
    statement = reload(statement)
    assert (statement.status, statement.revision, statement.approved_at) == ("in_review", 2, None)
    entry = last_entry(incident)
    assert entry.data["old_status"] == "approved" and entry.data["approvals_voided"] is True
    with pytest.raises(TransitionNotAllowed):
        actions.statement_publish(statement=statement, actor=spokesperson, url=POST_URL)
    assert reload(statement).status == "in_review"
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
    assert reload(statement).status == "draft"
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
    both_read = reload(draft)  # both editors opened revision 1
    actions.statement_edit(
        statement=both_read, actor=drafter, text="Drafter's version.", base_revision=1
    )
    with pytest.raises(StaleRevision) as caught:
        actions.statement_edit(
            statement=both_read, actor=lead, text="Lead's version.", base_revision=1
        )
    assert caught.value.extra["current_revision"] == 2
    assert caught.value.extra["current_text"] == "Drafter's version."
    statement = reload(draft)
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
    assert reload(in_review).status == "in_review"
    assert timeline(incident, EntryKind.STATEMENT_APPROVED) == []


# --- Ordered and "any" policies -----------------------------------------------------------


def test_communications_cannot_approve_before_legal(ordered_in_review, communications, incident):
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=ordered_in_review, actor=communications, revision=1)
    assert not Review.objects.exists()
    assert reload(ordered_in_review).status == "in_review"
    assert timeline(incident, EntryKind.STATEMENT_APPROVED) == []


def test_a_generalist_approver_cannot_sign_for_legal(ordered_in_review, approver):
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=ordered_in_review, actor=approver, revision=1)
    assert not Review.objects.exists()


def test_legal_then_communications_approves_the_statement(
    ordered_in_review, legal, legal2, communications, incident
):
    statement = actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    assert reload(statement).status == "in_review" and reload(statement).approved_at is None
    # Step 1 is met: a second legal approval is not what the statement waits for.
    with pytest.raises(NotAllowed):
        actions.statement_approve(statement=statement, actor=legal2, revision=1)
    statement = actions.statement_approve(statement=statement, actor=communications, revision=1)
    statement = reload(statement)
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
    create, drafter, make_policy, legal, communications, incident
):
    either = make_policy(
        "Legal or communications", [(1, "legal"), (1, "communications")], mode="any"
    )
    statement = create(approval_policy=either)
    statement = actions.statement_submit(statement=statement, actor=drafter)
    statement = actions.statement_approve(statement=statement, actor=communications, revision=1)
    assert reload(statement).status == "approved"
    assert last_entry(incident).data["fully_approved"] is True
    # Nothing more is awaited: a later approval changes nothing.
    actions.statement_approve(statement=statement, actor=legal, revision=1)
    assert approvals(statement) == [(1, communications.pk, "communications")]


def test_in_all_mode_two_generalists_are_two_different_people(
    create, drafter, make_policy, approver, second_approver
):
    two = make_policy("Two approvers", [(1, ""), (1, "")])
    statement = actions.statement_submit(statement=create(approval_policy=two), actor=drafter)
    statement = actions.statement_approve(statement=statement, actor=approver, revision=1)
    assert reload(statement).status == "in_review"
    statement = actions.statement_approve(statement=statement, actor=approver, revision=1)
    assert reload(statement).status == "in_review"
    statement = actions.statement_approve(statement=statement, actor=second_approver, revision=1)
    assert reload(statement).status == "approved"


def test_legal_signing_first_does_not_block_the_other_approver(
    create, drafter, make_policy, legal, approver, incident
):
    # "Legal and any other approver", the "any approver" line entered first in the admin.
    # Legal signs first, then a generalist: both requirements are met by two people.
    policy = make_policy("Any approver and legal", [(1, ""), (1, "legal")])
    statement = actions.statement_submit(statement=create(approval_policy=policy), actor=drafter)
    actions.statement_approve(statement=statement, actor=legal, revision=1)
    actions.statement_approve(statement=statement, actor=approver, revision=1)
    assert reload(statement).status == "approved"
    assert sorted(approvals(statement)) == sorted([(1, legal.pk, "legal"), (1, approver.pk, "")])


# --- Publication --------------------------------------------------------------------------


def test_the_spokesperson_publishes_an_approved_statement(approved, spokesperson, incident):
    detected_an_hour_ago(incident)
    approved_minutes_ago(approved, 10)
    when = timezone.now() - timedelta(minutes=2)
    statement = actions.statement_publish(
        statement=approved, actor=spokesperson, url=f"  {POST_URL} ", published_at=when
    )
    statement = reload(statement)
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
    assert reload(approved).status == "approved"
    assert timeline(incident, EntryKind.STATEMENT_PUBLISHED) == []


def test_the_lead_publishes_when_the_policy_allows_it(
    create, make_policy, drafter, approver, lead, spokesperson
):
    lenient = make_policy("Lead may publish", [(1, "")], allow_lead_publish=True)
    statement = actions.statement_submit(statement=create(approval_policy=lenient), actor=drafter)
    statement = actions.statement_approve(statement=statement, actor=approver, revision=1)
    statement = actions.statement_publish(statement=statement, actor=lead, url=POST_URL)
    assert reload(statement).status == "published" and reload(statement).published_by == lead


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
    assert reload(statement).status != "published"
    assert timeline(incident, EntryKind.STATEMENT_PUBLISHED) == []
    assert Incident.objects.get(pk=incident.pk).first_response_at is None


def test_publishing_needs_the_approvals_on_the_current_revision(approved, spokesperson, incident):
    # An "approved" row whose approvals are on an older revision (e.g. written by hand in the
    # database) is not publishable: the action re-checks the approvals themselves.
    Statement.objects.filter(pk=approved.pk).update(revision=2, text="Unsigned text.")
    with pytest.raises(TransitionNotAllowed):
        actions.statement_publish(statement=approved, actor=spokesperson, url=POST_URL)
    assert reload(approved).status == "approved"
    assert timeline(incident, EntryKind.STATEMENT_PUBLISHED) == []


@pytest.mark.parametrize(
    "channel", ["x", "facebook", "instagram", "linkedin", "tiktok", "youtube", "crisis_center"]
)
def test_social_channels_need_the_address_of_the_post(
    create, channel, drafter, approver, spokesperson
):
    statement = actions.statement_submit(statement=create(channel=channel), actor=drafter)
    statement = actions.statement_approve(statement=statement, actor=approver, revision=1)
    with pytest.raises(InvalidInput):
        actions.statement_publish(statement=statement, actor=spokesperson, url="  ")
    assert reload(statement).status == "approved"


@pytest.mark.parametrize(
    "url", ["not a url", "www.example.org/post", "ftp://example.org/post", "javascript:alert(1)"]
)
def test_a_malformed_post_address_is_invalid(approved, spokesperson, url):
    with pytest.raises(InvalidInput):
        actions.statement_publish(statement=approved, actor=spokesperson, url=url)
    assert reload(approved).status == "approved"


@pytest.mark.parametrize("channel", ["email", "press_release"])
def test_email_and_press_releases_need_no_address(create, channel, drafter, approver, spokesperson):
    statement = create(channel=channel)
    statement = approve_and_publish(statement, approver=approver, spokesperson=spokesperson, url="")
    statement = reload(statement)
    assert (statement.status, statement.published_url) == ("published", "")


def test_an_optional_address_is_still_validated(create, drafter, approver, spokesperson):
    statement = create(channel="press_release")
    with pytest.raises(InvalidInput):
        approve_and_publish(statement, approver=approver, spokesperson=spokesperson, url="nope")
    assert reload(statement).status == "approved"


def test_the_publication_time_cannot_be_in_the_future(approved, spokesperson, incident):
    with pytest.raises(InvalidInput):
        actions.statement_publish(
            statement=approved,
            actor=spokesperson,
            url=POST_URL,
            published_at=timezone.now() + timedelta(hours=1),
        )
    assert reload(approved).status == "approved"
    assert Incident.objects.get(pk=incident.pk).first_response_at is None


def test_the_publication_time_cannot_precede_detection(approved, spokesperson, incident):
    with pytest.raises(InvalidInput):
        actions.statement_publish(
            statement=approved,
            actor=spokesperson,
            url=POST_URL,
            published_at=incident.detected_at - timedelta(minutes=1),
        )
    assert reload(approved).status == "approved"


def test_a_published_statement_cannot_be_edited(published, drafter):
    with pytest.raises(TransitionNotAllowed):
        actions.statement_edit(statement=published, actor=drafter, text="Oops.", base_revision=1)
    assert len(revisions(published)) == 1 and reload(published).text == published.text


@pytest.mark.parametrize("persona", ["lead", "drafter"])
def test_a_published_statement_cannot_be_withdrawn(published, persona, request, incident):
    with pytest.raises(TransitionNotAllowed):
        actions.statement_withdraw(statement=published, actor=request.getfixturevalue(persona))
    assert reload(published).status == "published"
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
    create, drafter, approver, spokesperson, incident
):
    briefing = create(kind="briefing", channel="email", text="Internal: do not comment.")
    approve_and_publish(briefing, approver=approver, spokesperson=spokesperson, url="")
    assert reload(briefing).status == "published"
    assert Incident.objects.get(pk=incident.pk).first_response_at is None
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_PUBLISHED
    assert entry.data["first_response"] is False and entry.data["deadline_met"] is None


def test_a_second_published_statement_keeps_the_first_response_time(
    published, create, approver, spokesperson, incident
):
    first = Incident.objects.get(pk=incident.pk).first_response_at
    assert first == reload(published).published_at
    update = create(kind="update", text="Update: the post was removed.")
    approve_and_publish(update, approver=approver, spokesperson=spokesperson)
    assert Incident.objects.get(pk=incident.pk).first_response_at == first
    entries = timeline(incident, EntryKind.STATEMENT_PUBLISHED)
    assert [e.data["first_response"] for e in entries] == [True, False]


# --- Double clicks ------------------------------------------------------------------------


def test_approving_twice_counts_once(in_review, approver, incident):
    actions.statement_approve(statement=in_review, actor=approver, revision=1)
    actions.statement_approve(statement=in_review, actor=approver, revision=1)
    assert Review.objects.filter(statement=in_review).count() == 1
    assert len(timeline(incident, EntryKind.STATEMENT_APPROVED)) == 1


def test_approving_twice_while_others_are_awaited_counts_once(ordered_in_review, legal, incident):
    actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    again = actions.statement_approve(statement=ordered_in_review, actor=legal, revision=1)
    assert again.status == "in_review"
    assert approvals(ordered_in_review) == [(1, legal.pk, "legal")]
    assert len(timeline(incident, EntryKind.STATEMENT_APPROVED)) == 1


def test_submitting_twice_records_one_submission(draft, drafter, incident):
    first = actions.statement_submit(statement=draft, actor=drafter)
    second = actions.statement_submit(statement=draft, actor=drafter)
    assert first.status == second.status == "in_review"
    assert reload(draft).submitted_at == first.submitted_at
    assert len(timeline(incident, EntryKind.STATEMENT_SUBMITTED)) == 1


def test_publishing_twice_records_one_publication(approved, spokesperson, incident):
    first = actions.statement_publish(statement=approved, actor=spokesperson, url=POST_URL)
    actions.statement_publish(statement=approved, actor=spokesperson, url=POST_URL)  # no-op
    with pytest.raises(Conflict, match="already published by spokesperson"):
        actions.statement_publish(
            statement=approved, actor=spokesperson, url="https://x.com/brand/status/999"
        )
    statement = reload(approved)
    assert (statement.published_at, statement.published_url) == (first.published_at, POST_URL)
    assert len(timeline(incident, EntryKind.STATEMENT_PUBLISHED)) == 1


# --- Channel limits on submission ---------------------------------------------------------


def long_text(sentences=8):
    return " ".join(
        f"Sentence number {n} explains, in measured words, what the company knows so far."
        for n in range(1, sentences + 1)
    )


def test_submit_refuses_an_x_post_over_280_characters_and_suggests_a_thread(
    create, drafter, incident
):
    text = long_text()
    assert len(text) > 280
    statement = create(channel="x", text=text)
    with pytest.raises(InvalidInput) as caught:
        actions.statement_submit(statement=statement, actor=drafter)
    thread = caught.value.extra["suggested_thread"]
    assert isinstance(thread, list) and len(thread) > 1
    assert all(len(post) <= 280 for post in thread)
    assert [post.rsplit(" ", 1)[1] for post in thread] == [
        f"({n}/{len(thread)})" for n in range(1, len(thread) + 1)
    ]
    assert reload(statement).status == "draft"
    assert timeline(incident, EntryKind.STATEMENT_SUBMITTED) == []


def test_a_post_of_exactly_280_characters_is_submitted(create, drafter):
    statement = create(channel="x", text="a" * 280)
    assert actions.statement_submit(statement=statement, actor=drafter).status == "in_review"


def test_a_long_press_release_is_submitted(create, drafter):
    statement = create(channel="press_release", text=long_text(200))
    assert len(statement.text) > 10_000
    assert actions.statement_submit(statement=statement, actor=drafter).status == "in_review"


def test_over_a_non_threadable_limit_no_thread_is_suggested(create, drafter):
    statement = create(channel="instagram", text="word " * 500)
    with pytest.raises(InvalidInput) as caught:
        actions.statement_submit(statement=statement, actor=drafter)
    assert "suggested_thread" not in caught.value.extra
    assert reload(statement).status == "draft"


# --- Withdrawal ---------------------------------------------------------------------------


def test_the_author_withdraws_their_statement(in_review, drafter, incident):
    statement = actions.statement_withdraw(
        statement=in_review, actor=drafter, reason=" Overtaken by events "
    )
    statement = reload(statement)
    assert statement.status == "withdrawn" and statement.withdrawn_at is not None
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_WITHDRAWN and entry.actor == drafter
    assert entry.text == "Overtaken by events" and entry.data["old_status"] == "in_review"
    # Revisions and reviews are kept.
    assert len(revisions(statement)) == 1


def test_the_lead_withdraws_someone_elses_statement(approved, lead):
    actions.statement_withdraw(statement=approved, actor=lead)
    assert reload(approved).status == "withdrawn"
    assert Review.objects.filter(statement=approved).count() == 1


@pytest.mark.parametrize("persona", ["approver", "spokesperson", "observer", "outsider", "staff"])
def test_only_the_author_or_the_lead_withdraws(draft, persona, request, incident):
    with pytest.raises(NotAllowed):
        actions.statement_withdraw(statement=draft, actor=request.getfixturevalue(persona))
    assert reload(draft).status == "draft"
    assert timeline(incident, EntryKind.STATEMENT_WITHDRAWN) == []


def test_another_drafter_cannot_withdraw_the_authors_statement(draft, incident, lead, make_user):
    colleague = make_user("drafter2")
    incident_actions.member_add(incident=incident, actor=lead, user=colleague, role="drafter")
    with pytest.raises(NotAllowed):
        actions.statement_withdraw(statement=draft, actor=colleague)
    assert reload(draft).status == "draft"


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
    assert reload(draft).status == "withdrawn"
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
    assert reload(in_review).status == "withdrawn"
    assert not Review.objects.exists()


# --- Notifications to reviewers -----------------------------------------------------------


def recipients(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])


def test_awaited_approvers_are_emailed_but_not_the_author(
    create, approver, second_approver, drafter, incident, mailoutbox
):
    with_email(approver, drafter)
    statement = create(actor=approver, text="Approver-written holding statement.")
    statement = actions.statement_submit(statement=statement, actor=approver)
    assert tasks.notify_reviewers(statement.pk) == 1
    assert recipients(mailoutbox) == ["approver2@example.org"]
    message = mailoutbox[0]
    assert incident.title in message.subject
    assert "Approver-written holding statement." in message.body
    assert f"{settings.SITE_URL}/statements/{statement.pk}/" in message.body


def test_an_approver_who_already_signed_is_not_emailed_again(
    create, drafter, approver, second_approver, make_policy, mailoutbox
):
    with_email(approver)
    two = make_policy("Two approvers", [(1, ""), (1, "")])
    statement = actions.statement_submit(statement=create(approval_policy=two), actor=drafter)
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
    create, drafter, django_capture_on_commit_callbacks
):
    statement = create(channel="x", text=long_text())
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(InvalidInput):
        actions.statement_submit(statement=statement, actor=drafter)
    assert callbacks == []
