"""Reads for statements. Approval progress is computed in Python over prefetched rows, so a
list of N statements costs the same handful of queries as a list of one."""

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from incidents.models import Membership, Role
from incidents.selectors import incidents_visible_to

from . import permissions, policy
from .models import (
    FINAL_STATUSES,
    ApprovalPolicy,
    Decision,
    IncidentPolicy,
    Review,
    Revision,
    Statement,
    StatementStatus,
)


def _progress_prefetches() -> list:
    return [
        "policy__requirements",
        Prefetch(
            "reviews",
            queryset=Review.objects.select_related("reviewer").order_by("created_at", "id"),
            to_attr="all_reviews",
        ),
        Prefetch(
            "revisions", queryset=Revision.objects.only("statement_id", "author_id"), to_attr="_rev"
        ),
    ]


def _with_progress_rows(qs: QuerySet[Statement]) -> QuerySet[Statement]:
    return qs.select_related(
        "author", "revised_by", "published_by", "policy", "incident"
    ).prefetch_related(*_progress_prefetches())


def load_progress(statement: Statement) -> Statement:
    """Load the rows `attach_progress` reads onto a statement already in hand (e.g. one
    just locked by an action), so the rules can judge it."""
    prefetch_related_objects([statement], *_progress_prefetches())
    return attach_progress([statement])[0]


def attach_progress(statements) -> list[Statement]:
    """Set `.progress` (policy.Progress), `.current_reviews` and `.approvals` on each."""
    statements = list(statements)
    for statement in statements:
        statement.revision_authors = {r.author_id for r in statement._rev}
        current = [r for r in statement.all_reviews if r.revision == statement.revision]
        statement.current_reviews = current
        statement.approvals = [r for r in current if r.decision == Decision.APPROVED]
        statement.progress = policy.progress(
            statement.policy, list(statement.policy.requirements.all()), statement.approvals
        )
    return statements


def statements_for_incident(incident) -> list[Statement]:
    return attach_progress(_with_progress_rows(Statement.objects.filter(incident=incident)))


def statement_visible_to(user, pk: int) -> Statement:
    """One statement with its progress, or Statement.DoesNotExist if the user is not in
    the cell of its incident (nor staff)."""
    qs = Statement.objects.filter(incident__in=incidents_visible_to(user))
    statement = (
        _with_progress_rows(qs)
        .prefetch_related(
            Prefetch(
                "incident__memberships",
                queryset=Membership.objects.active().select_related("user"),
                to_attr="active_memberships",
            )
        )
        .get(pk=pk)
    )
    return attach_progress([statement])[0]


def revisions_of(statement: Statement) -> QuerySet[Revision]:
    return Revision.objects.filter(statement=statement).select_related("author").order_by("number")


def _awaits(statement: Statement, member: Membership) -> bool:
    user = member.user
    return (
        member.role == Role.APPROVER
        and not permissions.wrote(user, statement)
        and all(a.reviewer_id != user.pk for a in statement.approvals)
        and statement.progress.can_sign(member.function)
    )


def reviewers_awaited(statement_id: int):
    """(statement, [users]) the statement waits for now; (None, []) if it waits for nobody."""
    statement = _with_progress_rows(Statement.objects.filter(pk=statement_id)).first()
    if statement is None or statement.status != StatementStatus.IN_REVIEW:
        return None, []
    statement = attach_progress([statement])[0]
    members = Membership.objects.active().filter(
        incident_id=statement.incident_id, role=Role.APPROVER, user__is_active=True
    )
    return statement, [m.user for m in members.select_related("user") if _awaits(statement, m)]


def approvals_inbox(user) -> list[Statement]:
    """Statements, across incidents, that wait for this user's approval now."""
    approver_of = {
        m.incident_id: m
        for m in Membership.objects.active()
        .filter(user=user, role=Role.APPROVER)
        .select_related("user")
    }
    qs = Statement.objects.filter(
        incident_id__in=approver_of, status=StatementStatus.IN_REVIEW
    ).order_by("submitted_at", "id")
    statements = attach_progress(_with_progress_rows(qs))
    return [s for s in statements if _awaits(s, approver_of[s.incident_id])]


def is_editable(incident_id: int, statement_id: int) -> bool:
    """The statement belongs to this incident and can still be edited (not published or
    withdrawn): what presence accepts as "X is editing this statement"."""
    return (
        Statement.objects.filter(pk=statement_id, incident_id=incident_id)
        .exclude(status__in=FINAL_STATUSES)
        .exists()
    )


def incident_policy(incident) -> ApprovalPolicy | None:
    """The approval policy chosen for this incident's statements (by its playbook), if any."""
    chosen = IncidentPolicy.objects.filter(incident=incident).select_related("policy").first()
    return chosen.policy if chosen else None
