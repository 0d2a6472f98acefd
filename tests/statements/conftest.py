"""Statement fixtures: approvers who sign for a function, the two stock policies, and
statements at each step of the workflow (draft, in review, approved, published); and the
helpers the statement test modules share (imported from here, like tests/evidence's)."""

import pytest

from incidents import actions as incident_actions
from incidents.models import TimelineEntry
from statements import actions
from statements.models import ApprovalPolicy, Decision, Review, Revision
from tests.helpers import POST_URL, ensure_policy

# --- Helpers ------------------------------------------------------------------------------


def statements_url(incident):
    """The API's list of an incident's statements."""
    return f"/api/incidents/{incident.pk}/statements/"


def statement_url(statement, suffix=""):
    """One statement in the API, or one of its actions (suffix "submit/", ...)."""
    pk = statement if isinstance(statement, int) else statement.pk
    return f"/api/statements/{pk}/{suffix}"


def timeline(incident, kind):
    return list(TimelineEntry.objects.filter(incident=incident, kind=kind).order_by("seq"))


def last_entry(incident):
    return TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()


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


def long_text(sentences=8):
    return " ".join(
        f"Sentence number {n} explains, in measured words, what the company knows so far."
        for n in range(1, sentences + 1)
    )


def bulk_statements(incident, author, policy, count, **fields):
    """`count` statements in one INSERT (drafts unless `fields` say otherwise), with a
    revision each, as the panel and the API read them: fast where many are needed."""
    from django.utils import timezone

    from statements.models import Revision, Statement

    now = timezone.now()
    rows = Statement.objects.bulk_create(
        Statement(
            incident=incident,
            text=f"Statement {n}",
            policy=policy,
            author=author,
            revised_by=author,
            created_at=now,
            **{"kind": "holding", "channel": "x", "language": "en", **fields},
        )
        for n in range(count)
    )
    Revision.objects.bulk_create(
        Revision(statement=s, number=1, text=s.text, author=author, created_at=now) for s in rows
    )
    return rows


# --- Fixtures -----------------------------------------------------------------------------


@pytest.fixture
def default_policy(policies):
    return ApprovalPolicy.objects.get(name="One approver")


@pytest.fixture
def ordered_policy(policies):
    return ApprovalPolicy.objects.get(name="Legal, then communications")


@pytest.fixture
def make_policy(db):
    """A policy from (step, function) pairs: make_policy("Two", [(1, ""), (1, "")])."""

    def make(name, requirements, **fields):
        return ensure_policy(name, requirements, **fields)

    return make


def _add_approver(incident, lead, user, function):
    incident_actions.member_add(
        incident=incident, actor=lead, user=user, role="approver", function=function
    )
    return user


@pytest.fixture
def legal(incident, lead, make_user):
    return _add_approver(incident, lead, make_user("legal", email="legal@example.org"), "legal")


@pytest.fixture
def legal2(incident, lead, make_user):
    user = make_user("legal2", email="legal2@example.org")
    return _add_approver(incident, lead, user, "legal")


@pytest.fixture
def communications(incident, lead, make_user):
    user = make_user("communications", email="communications@example.org")
    return _add_approver(incident, lead, user, "communications")


@pytest.fixture
def second_approver(incident, lead, make_user):
    """A second generalist approver (no function), next to the `approver` persona."""
    user = make_user("approver2", email="approver2@example.org")
    return _add_approver(incident, lead, user, "other")


@pytest.fixture
def draft(make_statement, incident, drafter):
    return make_statement(incident=incident, author=drafter)


@pytest.fixture
def in_review(draft, drafter):
    return actions.statement_submit(statement=draft, actor=drafter)


@pytest.fixture
def approved(in_review, approver):
    statement = actions.statement_approve(statement=in_review, actor=approver, revision=1)
    assert statement.status == "approved"
    return statement


@pytest.fixture
def ordered_in_review(make_statement, ordered_policy, legal, communications):
    return make_statement(approval_policy=ordered_policy, state="in_review")


@pytest.fixture
def published(approved, spokesperson):
    return actions.statement_publish(statement=approved, actor=spokesperson, url=POST_URL)


@pytest.fixture
def roster(make_user):
    """A playbook committee roster for every incident (the provider the playbooks app
    registers, faked): communications is David Keller (no account), backed up by Nadia
    Roy (no account); legal is Sophie Martin (no account), backed up by Me Claire Vasseur,
    who has one (`roster.claire`). `roster.entries` may be changed by a test."""
    from types import SimpleNamespace

    from incidents import extensions
    from incidents.extensions import RosterEntry

    claire = make_user(
        "claire", first_name="Claire", last_name="Vasseur", email="claire.vasseur@example.com"
    )
    state = SimpleNamespace(claire=claire, entries=[])
    state.entries = [
        RosterEntry(
            name="David Keller",
            email="david.keller@example.com",
            role="approver",
            function="communications",
            backup_name="Nadia Roy",
            backup_email="nadia.roy@example.com",
        ),
        RosterEntry(
            name="Sophie Martin",
            email="sophie.martin@example.com",
            role="approver",
            function="legal",
            backup_name="Me Claire Vasseur",
            backup_email="claire.vasseur@example.com",
            backup_user=claire,
        ),
        RosterEntry(name="Sasha Speaker", email="sasha@example.com", role="spokesperson"),
    ]

    def provider(incident):
        return list(state.entries)

    extensions.register_roster(provider)
    yield state
    extensions._roster.remove(provider)
