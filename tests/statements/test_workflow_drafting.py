"""Drafting a statement through the actions: revision one and its hash, who may draft,
replies and corrections, invalid fields; and the channel limits checked on submission
(the suggested thread)."""

import hashlib

import pytest

from incidents import actions as incident_actions
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import AppendOnlyError, EntryKind, TimelineEntry
from statements import actions
from statements.models import MAX_TEXT, Revision, Statement
from tests.helpers import fresh
from tests.statements.conftest import last_entry, long_text, timeline


@pytest.fixture
def other_incident(declare, lead, drafter, approver, spokesperson):
    incident = declare(title="Another crisis")
    for user, role in [
        (drafter, "drafter"),
        (approver, "approver"),
        (spokesperson, "spokesperson"),
    ]:
        function = "other" if role == "approver" else ""
        incident_actions.member_add(
            incident=incident, actor=lead, user=user, role=role, function=function
        )
    return incident


# --- Drafting -----------------------------------------------------------------------------


def test_drafting_creates_revision_one_hashed_with_sha256(make_statement, incident, drafter):
    statement = make_statement(text="  We are looking into it.\r\nMore soon.  ", title="Holding #1")
    text = "We are looking into it.\nMore soon."
    statement = fresh(statement)
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
def test_observers_and_outsiders_cannot_draft(make_statement, incident, persona, request):
    before = TimelineEntry.objects.filter(incident=incident).count()
    with pytest.raises(NotAllowed):
        make_statement(author=request.getfixturevalue(persona))
    assert not Statement.objects.exists()
    assert TimelineEntry.objects.filter(incident=incident).count() == before


@pytest.mark.parametrize("persona", ["lead", "drafter", "approver", "spokesperson"])
def test_every_writer_of_the_cell_can_draft(make_statement, persona, request):
    user = request.getfixturevalue(persona)
    statement = make_statement(author=user)
    assert statement.author == user and statement.status == "draft"


def test_an_individual_reply_names_the_account_or_the_post_it_answers(make_statement, incident):
    with pytest.raises(InvalidInput):
        make_statement(kind="reply", reply_to_account="  ", reply_to_url="")
    assert not Statement.objects.exists()
    by_account = make_statement(kind="reply", reply_to_account=" @angry_customer ")
    by_post = make_statement(kind="reply", reply_to_url="https://x.com/someone/status/42")
    assert fresh(by_account).reply_to_account == "@angry_customer"
    assert fresh(by_post).reply_to_url == "https://x.com/someone/status/42"


def test_a_correction_says_what_it_corrects(make_statement, incident):
    with pytest.raises(InvalidInput):
        make_statement(kind="correction")
    assert not Statement.objects.exists()


@pytest.mark.parametrize("status", ["draft", "in_review", "approved", "withdrawn"])
def test_only_a_published_statement_can_be_corrected(make_statement, draft, status):
    Statement.objects.filter(pk=draft.pk).update(status=status)
    with pytest.raises(InvalidInput):
        make_statement(kind="correction", corrects=fresh(draft))
    assert Statement.objects.count() == 1


def test_a_correction_corrects_a_statement_of_the_same_incident(
    make_statement, other_incident, drafter, approver, spokesperson
):
    elsewhere = make_statement(
        incident=other_incident, text="Published about another crisis.", state="published"
    )
    assert elsewhere.status == "published"
    with pytest.raises(InvalidInput):
        make_statement(kind="correction", corrects=elsewhere)
    assert not Statement.objects.filter(kind="correction").exists()


def test_a_correction_of_a_published_statement_is_drafted(make_statement, published, incident):
    correction = make_statement(kind="correction", corrects=published, text="We got a date wrong.")
    assert fresh(correction).corrects == published
    entry = last_entry(incident)
    assert entry.kind == EntryKind.STATEMENT_DRAFTED and entry.data["corrects"] == published.pk


@pytest.mark.parametrize(
    "field,value", [("kind", "rant"), ("channel", "myspace"), ("language", "tlh")]
)
def test_unknown_kind_channel_or_language_is_invalid(make_statement, incident, field, value):
    with pytest.raises(InvalidInput):
        make_statement(**{field: value})
    assert not Statement.objects.exists()


@pytest.mark.parametrize("text", ["", "   ", "\r\n\n  \t", None])
def test_a_statement_without_text_is_invalid(make_statement, incident, text):
    with pytest.raises(InvalidInput):
        make_statement(text=text)
    assert not Statement.objects.exists()


def test_a_statement_over_50000_characters_is_invalid(make_statement, incident):
    with pytest.raises(InvalidInput):
        make_statement(channel="press_release", text="a" * (MAX_TEXT + 1))
    assert not Statement.objects.exists()


# --- Channel limits on submission ---------------------------------------------------------


def test_submit_refuses_an_x_post_over_280_characters_and_suggests_a_thread(
    make_statement, drafter, incident
):
    text = long_text()
    assert len(text) > 280
    statement = make_statement(channel="x", text=text)
    with pytest.raises(InvalidInput) as caught:
        actions.statement_submit(statement=statement, actor=drafter)
    thread = caught.value.extra["suggested_thread"]
    assert isinstance(thread, list) and len(thread) > 1
    assert all(len(post) <= 280 for post in thread)
    assert [post.rsplit(" ", 1)[1] for post in thread] == [
        f"({n}/{len(thread)})" for n in range(1, len(thread) + 1)
    ]
    assert fresh(statement).status == "draft"
    assert timeline(incident, EntryKind.STATEMENT_SUBMITTED) == []


def test_a_post_of_exactly_280_characters_is_submitted(make_statement, drafter):
    statement = make_statement(channel="x", text="a" * 280)
    assert actions.statement_submit(statement=statement, actor=drafter).status == "in_review"


def test_a_long_press_release_is_submitted(make_statement, drafter):
    statement = make_statement(channel="press_release", text=long_text(200))
    assert len(statement.text) > 10_000
    assert actions.statement_submit(statement=statement, actor=drafter).status == "in_review"


def test_over_a_non_threadable_limit_no_thread_is_suggested(make_statement, drafter):
    statement = make_statement(channel="instagram", text="word " * 500)
    with pytest.raises(InvalidInput) as caught:
        actions.statement_submit(statement=statement, actor=drafter)
    assert "suggested_thread" not in caught.value.extra
    assert fresh(statement).status == "draft"
