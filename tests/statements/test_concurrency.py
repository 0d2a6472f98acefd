"""Concurrent clicks on the same statement, through real connections: PostgreSQL's row
locks, SQLite's write lock (BEGIN IMMEDIATE, WAL, busy timeout) in the embedded mode.

Every thread opens its own connection, waits at a barrier so that all of them call the
action (or the API) at once, and closes its connection when done."""

import pytest

from incidents import actions as incident_actions
from incidents.errors import Conflict, DomainError, NotAllowed, StaleRevision
from incidents.models import EntryKind, Incident, TimelineEntry
from statements import actions
from statements.models import Decision, Review, Revision, Statement
from tests import helpers
from tests.helpers import assert_chain_intact, token_client

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
POST_URL = "https://x.com/brand/status/1"


def run_concurrently(calls):
    return helpers.run_concurrently(calls, errors=(DomainError,))


def fresh(pk):
    return Statement.objects.get(pk=pk)


def entries(incident, kind):
    return list(TimelineEntry.objects.filter(incident=incident, kind=kind).order_by("seq"))


def add_approvers(incident, lead, make_user, prefix, function, count):
    users = []
    for n in range(count):
        user = make_user(f"{prefix}{n}")
        incident_actions.member_add(
            incident=incident, actor=lead, user=user, role="approver", function=function
        )
        users.append(user)
    return users


def test_concurrent_approvals_approve_the_statement_exactly_once(
    in_review, incident, lead, approver, make_user
):
    approvers = [approver, *add_approvers(incident, lead, make_user, "extra", "other", 3)]
    actors = [approvers[n % len(approvers)] for n in range(THREADS)]  # each one 5 times
    pk = in_review.pk

    def call(actor):
        return lambda: actions.statement_approve(statement=fresh(pk), actor=actor, revision=1)

    results, domain, unexpected = run_concurrently([call(a) for a in actors])

    assert unexpected == []
    assert domain == []
    assert len(results) == THREADS
    statement = fresh(pk)
    assert statement.status == "approved" and statement.approved_at is not None
    reviews = list(Review.objects.filter(statement=statement))
    assert len(reviews) == 1
    assert (reviews[0].revision, reviews[0].decision) == (1, Decision.APPROVED)
    assert reviews[0].reviewer_id in {a.pk for a in approvers}
    approved = entries(incident, EntryKind.STATEMENT_APPROVED)
    assert len(approved) == 1
    assert approved[0].data["fully_approved"] is True
    assert approved[0].actor_id == reviews[0].reviewer_id
    assert_chain_intact(incident)


def test_concurrent_approvals_on_an_ordered_policy_take_one_per_step(
    ordered_in_review, incident, lead, legal, communications, make_user
):
    legals = [legal, *add_approvers(incident, lead, make_user, "legal-extra", "legal", 1)]
    more_comms = add_approvers(incident, lead, make_user, "comms-extra", "communications", 1)
    comms = [communications, *more_comms]
    everyone = legals + comms
    actors = [everyone[n % len(everyone)] for n in range(THREADS)]
    pk = ordered_in_review.pk

    def call(actor):
        return lambda: actions.statement_approve(statement=fresh(pk), actor=actor, revision=1)

    results, domain, unexpected = run_concurrently([call(a) for a in actors])

    assert unexpected == []
    # Communications before legal, or a second approver for a met step: refused, nothing else.
    assert all(isinstance(exc, NotAllowed) for exc in domain), domain
    assert len(results) + len(domain) == THREADS
    statement = fresh(pk)
    reviews = list(Review.objects.filter(statement=statement, decision=Decision.APPROVED))
    assert sorted(r.function for r in reviews) == ["communications", "legal"]
    legal_review = next(r for r in reviews if r.function == "legal")
    comms_review = next(r for r in reviews if r.function == "communications")
    assert legal_review.created_at <= comms_review.created_at
    assert statement.status == "approved"
    approved = entries(incident, EntryKind.STATEMENT_APPROVED)
    assert [(e.data["function"], e.data["fully_approved"]) for e in approved] == [
        ("legal", False),
        ("communications", True),
    ]
    assert_chain_intact(incident)


def test_concurrent_publication_is_recorded_once(approved, incident, spokesperson):
    """A double (or twentieth) click of the same person with the same address is a no-op."""
    pk = approved.pk

    def call():
        return actions.statement_publish(statement=fresh(pk), actor=spokesperson, url=POST_URL)

    results, domain, unexpected = run_concurrently([call] * THREADS)

    assert unexpected == [] and domain == []
    assert len(results) == THREADS
    statement = fresh(pk)
    assert statement.status == "published" and statement.published_by == spokesperson
    published = entries(incident, EntryKind.STATEMENT_PUBLISHED)
    assert len(published) == 1
    assert published[0].data["first_response"] is True
    assert Incident.objects.get(pk=incident.pk).first_response_at == statement.published_at
    assert_chain_intact(incident)


def test_concurrent_publications_at_different_addresses_one_wins_the_others_are_told(
    approved, incident, spokesperson
):
    pk = approved.pk
    urls = [f"https://x.com/brand/status/{n}" for n in range(THREADS)]

    def call(url):
        return lambda: actions.statement_publish(statement=fresh(pk), actor=spokesperson, url=url)

    results, domain, unexpected = run_concurrently([call(url) for url in urls])

    assert unexpected == []
    assert len(results) == 1 and len(domain) == THREADS - 1
    statement = fresh(pk)
    assert statement.published_url in urls
    for refusal in domain:
        assert isinstance(refusal, Conflict) and refusal.status_code == 409
        assert statement.published_url in refusal.message
        assert refusal.extra["published_url"] == statement.published_url
        assert refusal.extra["published_by"] == spokesperson.pk
    assert len(entries(incident, EntryKind.STATEMENT_PUBLISHED)) == 1
    assert_chain_intact(incident)


def test_concurrent_edits_from_the_same_revision_one_wins(draft, incident, drafter, lead):
    pk = draft.pk
    writers = [drafter, lead]
    calls = []
    for n in range(THREADS):
        actor, text = writers[n % 2], f"Wording number {n}."
        calls.append(
            lambda actor=actor, text=text: actions.statement_edit(
                statement=fresh(pk), actor=actor, text=text, base_revision=1
            )
        )

    results, domain, unexpected = run_concurrently(calls)

    assert unexpected == []
    assert len(results) == 1 and len(domain) == THREADS - 1
    assert all(isinstance(exc, StaleRevision) for exc in domain)
    statement = fresh(pk)
    assert statement.revision == 2 and statement.text == results[0].text
    assert all(
        exc.extra == {"current_revision": 2, "current_text": statement.text} for exc in domain
    )
    assert list(
        Revision.objects.filter(statement=statement)
        .order_by("number")
        .values_list("number", "text")
    ) == [(1, draft.text), (2, statement.text)]
    assert len(entries(incident, EntryKind.STATEMENT_REVISED)) == 1
    assert_chain_intact(incident)


# The same races through the API: every caller gets an answer, none a 5xx.


def post_concurrently(requests):
    """POST each (user, url, body) from its own thread and API client; the responses."""

    def call(user, url, body):
        return lambda: token_client(user).post(url, body, format="json")

    responses, _, unexpected = helpers.run_concurrently([call(*r) for r in requests])
    assert unexpected == []
    assert len(responses) == len(requests)
    assert [r.status_code for r in responses if r.status_code >= 500] == []
    return responses


def test_twenty_approvers_approving_at_once_through_the_api(
    in_review, incident, lead, approver, make_user
):
    approvers = [approver, *add_approvers(incident, lead, make_user, "extra", "other", THREADS - 1)]
    url = f"/api/statements/{in_review.pk}/approve/"

    responses = post_concurrently([(a, url, {"revision": 1}) for a in approvers])

    assert {r.status_code for r in responses} == {200}
    assert {r.json()["status"] for r in responses} == {"approved"}
    reviews = Review.objects.filter(statement=in_review)
    assert reviews.count() == 1
    assert len(entries(incident, EntryKind.STATEMENT_APPROVED)) == 1
    assert_chain_intact(incident)


def test_twenty_publications_at_once_through_the_api(approved, incident, spokesperson):
    url = f"/api/statements/{approved.pk}/publish/"
    posts = [f"https://x.com/brand/status/{n}" for n in range(THREADS)]

    responses = post_concurrently([(spokesperson, url, {"url": post}) for post in posts])

    statement = fresh(approved.pk)
    assert sorted(r.status_code for r in responses) == [200] + [409] * (THREADS - 1)
    for response in responses:
        if response.status_code == 409:
            body = response.json()
            assert statement.published_url in body["detail"]
            assert body["published_url"] == statement.published_url
            assert body["published_by"] == spokesperson.pk
    assert len(entries(incident, EntryKind.STATEMENT_PUBLISHED)) == 1
    assert_chain_intact(incident)


def test_twenty_edits_at_once_through_the_api(draft, incident, drafter, lead):
    url = f"/api/statements/{draft.pk}/"

    def call(n):
        user = (drafter, lead)[n % 2]
        return lambda: token_client(user).patch(
            url, {"text": f"Wording {n}.", "revision": 1}, format="json"
        )

    responses, _, unexpected = helpers.run_concurrently([call(n) for n in range(THREADS)])

    assert unexpected == []
    assert sorted(r.status_code for r in responses) == [200] + [409] * (THREADS - 1)
    assert fresh(draft.pk).revision == 2
    assert len(entries(incident, EntryKind.STATEMENT_REVISED)) == 1
    assert_chain_intact(incident)
