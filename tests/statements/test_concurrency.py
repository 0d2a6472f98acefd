"""Concurrent clicks on the same statement, through real connections (PostgreSQL row locks).

Every thread opens its own connection, waits at a barrier so that all of them call the
action at once, and closes its connection when done."""

import itertools
import threading
from types import SimpleNamespace

import pytest
from django.db import connection

from incidents import actions as incident_actions
from incidents.errors import DomainError, NotAllowed, StaleRevision
from incidents.models import EntryKind, Incident, TimelineEntry
from statements import actions
from statements.models import Decision, Review, Revision, Statement

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (production mode)"
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 20
POST_URL = "https://x.com/brand/status/1"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Record reviewer notifications instead of queuing them on the real broker."""
    queued = []
    monkeypatch.setattr(
        actions, "tasks", SimpleNamespace(notify_reviewers=SimpleNamespace(delay=queued.append))
    )
    return queued


def run_concurrently(calls):
    """Run each `call(statement)` in its own thread, all released together. Returns
    (results, domain_errors, unexpected_errors)."""
    barrier = threading.Barrier(len(calls), timeout=60)
    results, domain, unexpected = [], [], []
    lock = threading.Lock()

    def worker(call):
        try:
            barrier.wait()
            outcome = call()
        except DomainError as exc:
            with lock:
                domain.append(exc)
        except Exception as exc:  # reported by the test
            with lock:
                unexpected.append(exc)
        else:
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results, domain, unexpected


def fresh(pk):
    return Statement.objects.get(pk=pk)


def entries(incident, kind):
    return list(TimelineEntry.objects.filter(incident=incident, kind=kind).order_by("seq"))


def assert_chain_intact(incident):
    chain = list(TimelineEntry.objects.filter(incident=incident).order_by("seq"))
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))


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
    approvers = [approver, *add_approvers(incident, lead, make_user, "extra", "", 3)]
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


def test_two_concurrent_edits_from_the_same_revision_one_wins(draft, incident, drafter, lead):
    pk = draft.pk
    texts = {drafter.pk: "The drafter's wording.", lead.pk: "The lead's wording."}

    def call(actor):
        return lambda: actions.statement_edit(
            statement=fresh(pk), actor=actor, text=texts[actor.pk], base_revision=1
        )

    results, domain, unexpected = run_concurrently([call(drafter), call(lead)])

    assert unexpected == []
    assert len(results) == 1 and len(domain) == 1
    assert isinstance(domain[0], StaleRevision)
    winner = results[0]
    statement = fresh(pk)
    assert statement.revision == 2 and statement.text == texts[winner.revised_by_id]
    assert domain[0].extra == {"current_revision": 2, "current_text": statement.text}
    assert list(
        Revision.objects.filter(statement=statement)
        .order_by("number")
        .values_list("number", "text")
    ) == [(1, draft.text), (2, statement.text)]
    assert len(entries(incident, EntryKind.STATEMENT_REVISED)) == 1
    assert_chain_intact(incident)
