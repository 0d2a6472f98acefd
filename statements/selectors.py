"""Reads for statements. Approval progress is computed in Python over prefetched rows, so a
list of N statements costs the same handful of queries as a list of one."""

from django.db.models import (
    Case,
    IntegerField,
    Prefetch,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.utils.translation import ngettext

from incidents.models import Membership, Role, Status
from incidents.selectors import incidents_visible_to

from . import outlets, permissions, policy, rules
from .models import (
    FINAL_STATUSES,
    ApprovalPolicy,
    Decision,
    Escalation,
    IncidentPolicy,
    Review,
    Revision,
    Statement,
    StatementStatus,
)

# The decisions that count as an approval of the revision they name.
APPROVING = (Decision.APPROVED, Decision.PREAPPROVED)


def _progress_prefetches() -> list:
    return [
        "policy__requirements",
        Prefetch(
            "reviews",
            queryset=Review.objects.select_related("reviewer").order_by("created_at", "id"),
            to_attr="all_reviews",
        ),
        Prefetch(
            "revisions",
            queryset=Revision.objects.only("statement_id", "author_id", "number", "created_at"),
            to_attr="_rev",
        ),
    ]


def _escalations() -> Prefetch:
    queryset = Escalation.objects.order_by("escalated_at", "id")
    return Prefetch("escalations", queryset=queryset, to_attr="all_escalations")


_ROW_RELATIONS = ("author", "revised_by", "published_by", "policy")


def _with_progress_rows(qs: QuerySet[Statement]) -> QuerySet[Statement]:
    return qs.select_related(*_ROW_RELATIONS, "incident").prefetch_related(*_progress_prefetches())


def load_progress(statement: Statement) -> Statement:
    """Load the rows `attach_progress` reads onto a statement already in hand (e.g. one
    just locked by an action), so the rules can judge it."""
    prefetch_related_objects([statement], *_progress_prefetches())
    return attach_progress([statement])[0]


def attach_progress(statements) -> list[Statement]:
    """Set `.progress` (policy.Progress), `.current_reviews`, `.approvals`, `.revised_at`
    (when the current revision was saved) and `.deadline_at` (when the awaited step is late,
    in review only; None without a deadline) on each; and `.escalation` (the awaited step's
    Escalation, or None) where the escalations were prefetched."""
    statements = list(statements)
    for statement in statements:
        statement.revision_authors = {r.author_id for r in statement._rev}
        statement.revised_at = max(
            (r.created_at for r in statement._rev if r.number == statement.revision), default=None
        )
        current = [r for r in statement.all_reviews if r.revision == statement.revision]
        statement.current_reviews = current
        statement.approvals = [r for r in current if r.decision in APPROVING]
        statement.progress = policy.progress(
            statement.policy, list(statement.policy.requirements.all()), statement.approvals
        )
        statement.deadline_at = (
            policy.step_deadline(
                statement.progress,
                submitted_at=statement.submitted_at,
                revised_at=statement.revised_at,
            )
            if statement.status == StatementStatus.IN_REVIEW
            else None
        )
        escalations = getattr(statement, "all_escalations", None)
        if escalations is not None:
            step = statement.progress.awaited_step
            statement.escalation = next(
                (
                    e
                    for e in escalations
                    if (e.revision, e.step) == (statement.revision, step)
                    and statement.status == StatementStatus.IN_REVIEW
                ),
                None,
            )
    return statements


def statements_for_incident(incident) -> list[Statement]:
    """The incident's statements with their progress and escalations; each shares the one
    `incident` object, whose active cell is loaded once (the rules read it)."""
    statements = attach_progress(
        _with_progress_rows(Statement.objects.filter(incident=incident)).prefetch_related(
            _escalations()
        )
    )
    for statement in statements:
        statement.incident = incident
    return share_cells(statements)


# The room's order: what waits on someone first (to approve, to publish, to rework, to
# finish), then what is done (published, withdrawn); newest first within each.
ATTENTION = (
    StatementStatus.IN_REVIEW,
    StatementStatus.APPROVED,
    StatementStatus.CHANGES_REQUESTED,
    StatementStatus.DRAFT,
)


def statements_by_attention(incident) -> QuerySet[Statement]:
    """The incident's statements, those waiting on someone first (in review, approved to
    publish, changes requested, drafts), then published and withdrawn ones; newest first
    within each; not those shown on approval (a crisis page's texts: their panel lists
    them). Rows only: page it, then `with_progress(page, incident)`."""
    rank = Case(
        *(When(status=status, then=Value(n)) for n, status in enumerate(ATTENTION)),
        default=Value(len(ATTENTION)),
        output_field=IntegerField(),
    )
    return (
        Statement.objects.filter(incident=incident)
        .exclude(outlets.shown_on_approval_filter())
        .select_related(*_ROW_RELATIONS)
        .annotate(attention=rank)
        .order_by("attention", "-created_at", "-id")
    )


def incident_statements(incident) -> QuerySet[Statement]:
    """The incident's statements, newest first (the API's cursor pages). Rows only: page
    it, then `with_progress(page, incident)`."""
    return (
        Statement.objects.filter(incident=incident)
        .select_related(*_ROW_RELATIONS)
        .order_by("-created_at", "-id")
    )


def with_progress(statements, incident) -> list[Statement]:
    """A page of one incident's statements (a list or a sliced queryset) with their
    progress and escalations, each sharing `incident` and its active cell. The same few
    queries whatever the page's size."""
    statements = list(statements)
    for statement in statements:
        statement.incident = incident
    prefetch_related_objects(statements, *_progress_prefetches(), _escalations())
    outlets.note_for_rules(statements)  # no query per row
    return share_cells(attach_progress(statements))


def statements_in_review(incident) -> list[Statement]:
    """The incident's statements in review, with their progress, sharing `incident`."""
    qs = Statement.objects.filter(incident=incident, status=StatementStatus.IN_REVIEW)
    statements = attach_progress(_with_progress_rows(qs))
    for statement in statements:
        statement.incident = incident
    return statements


def statements_in_review_under(policy: ApprovalPolicy) -> list[Statement]:
    """Statements in review under this policy, across incidents, with their progress; those
    of one incident share one incident object (the rules read its cell once)."""
    qs = Statement.objects.filter(policy=policy, status=StatementStatus.IN_REVIEW)
    return share_cells(attach_progress(_with_progress_rows(qs)))


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
            ),
            _escalations(),
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
        and user.is_active
        and not permissions.wrote(user, statement)
        and all(a.reviewer_id != user.pk for a in statement.approvals)
        and statement.progress.can_sign(member.function)
    )


def approvals_inbox(user) -> list[Statement]:
    """Statements, across incidents, that wait for this user's approval now; those of one
    incident share one incident object with its active cell (loaded once for all)."""
    approver_of = {
        m.incident_id: m
        for m in Membership.objects.active()
        .filter(user=user, role=Role.APPROVER)
        .select_related("user")
    }
    qs = Statement.objects.filter(
        incident_id__in=approver_of, status=StatementStatus.IN_REVIEW
    ).order_by("submitted_at", "id")
    statements = attach_progress(_with_progress_rows(qs).prefetch_related(_escalations()))
    return share_cells([s for s in statements if _awaits(s, approver_of[s.incident_id])])


# "To publish" lists at most this many approved statements, the longest waiting first.
MAX_TO_PUBLISH = 100


def to_publish(user) -> list[Statement]:
    """Approved statements, across the user's incidents, that they may publish now
    (`rules.available_actions` offers "publish": the spokesperson, or the lead where the
    policy lets the lead publish; not a crisis page text, shown on approval), approved
    longest ago first, at most MAX_TO_PUBLISH. A few queries whatever their number."""
    publisher_of = {
        m.incident_id: m
        for m in Membership.objects.active()
        .filter(user=user, role__in=(Role.SPOKESPERSON, Role.LEAD))
        .select_related("user")
    }
    # What the rule refuses by role, kind or state is left out before the list is cut, so
    # that it never takes the place of what waits (a crisis page's texts stay approved for
    # good; its updates wait while the page is dark).
    qs = (
        Statement.objects.filter(
            permissions.published_by(publisher_of.values()), status=StatementStatus.APPROVED
        )
        .exclude(outlets.shown_on_approval_filter() | outlets.publish_refused_filter())
        .order_by("approved_at", "id")[:MAX_TO_PUBLISH]
    )
    statements = attach_progress(_with_progress_rows(qs))
    outlets.note_for_rules(statements)
    return share_cells(
        [
            s
            for s in statements
            if "publish" in rules.available_actions(user, s, member=publisher_of[s.incident_id])
        ]
    )


def share_cells(statements: list[Statement]) -> list[Statement]:
    """Give the statements of one incident one incident object, with its active cell loaded
    (one query for all): the rules read the cell from there."""
    incidents = {}
    for statement in statements:
        statement.incident = incidents.setdefault(statement.incident_id, statement.incident)
    missing = [i for i in incidents.values() if getattr(i, "active_memberships", None) is None]
    if missing:
        prefetch_related_objects(
            missing,
            Prefetch(
                "memberships",
                queryset=Membership.objects.active().select_related("user"),
                to_attr="active_memberships",
            ),
        )
    return statements


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


# A resolved or closed incident's late approvals alert nobody.
RUNNING_STATUSES = (Status.DETECTED, Status.ACTIVE, Status.MONITORING)


def late_for_escalation(now, *, limit: int = 500) -> list[Statement]:
    """Statements in review, in a running incident, whose awaited step passed its deadline
    and was not escalated for this revision yet, oldest deadline first (at most `limit`:
    the next sweep takes the rest). A few queries whatever their number."""
    qs = (
        Statement.objects.filter(
            status=StatementStatus.IN_REVIEW,
            policy__requirements__deadline_minutes__isnull=False,
            incident__status__in=RUNNING_STATUSES,
        )
        .distinct()
        .order_by("submitted_at", "id")
    )
    statements = attach_progress(_with_progress_rows(qs).prefetch_related(_escalations()))
    late = [
        s
        for s in statements
        if s.deadline_at is not None and s.deadline_at <= now and s.escalation is None
    ]
    return sorted(late, key=lambda s: (s.deadline_at, s.pk))[:limit]


# Approved statements read to tell the page's sections from the rest (more: "200+").
LOOSE_ENDS_READ = 200


def loose_ends(incident) -> list[str]:
    """For the lead resolving or closing the incident (incidents.extensions): statements
    still in review, and approved ones never published (not a crisis page's sections,
    shown once approved). Three queries at most."""
    in_review = Statement.objects.filter(incident=incident, status=StatementStatus.IN_REVIEW)
    approved = list(
        Statement.objects.filter(incident=incident, status=StatementStatus.APPROVED).only(
            "pk", "channel"
        )[: LOOSE_ENDS_READ + 1]
    )
    outlets.note_shown_on_approval(approved)
    unpublished = sum(1 for s in approved if not outlets.shown_on_approval(s))
    ends = []
    if waiting := in_review.count():
        ends.append(
            ngettext(
                "%(n)s statement still waits for approval.",
                "%(n)s statements still wait for approval.",
                waiting,
            )
            % {"n": waiting}
        )
    if unpublished:
        ends.append(
            ngettext(
                "%(n)s approved statement was never published.",
                "%(n)s approved statements were never published.",
                unpublished,
            )
            % {"n": f"{LOOSE_ENDS_READ}+" if unpublished > LOOSE_ENDS_READ else unpublished}
        )
    return ends
