"""Who may do what with a statement, by role. `rules.py` combines these with the
statement's state into the actions a user may take now; membership lookups reuse the
incident's prefetched cell when it is there."""

from django.db.models import Q
from django.utils.translation import gettext_lazy

from incidents.errors import require
from incidents.models import Membership, Role
from incidents.permissions import WRITER_ROLES, active_role

from .models import Revision, Statement

# Said by the action, the page and the API alike when someone may not draft.
NOT_A_DRAFTER = gettext_lazy(
    "Only members of the cell who write draft statements (not observers, nor staff outside "
    "the cell)."
)


def drafts(role: str | None) -> bool:
    return role in WRITER_ROLES


def publishes(role: str | None, statement: Statement) -> bool:
    return role == Role.SPOKESPERSON or (role == Role.LEAD and statement.policy.allow_lead_publish)


def published_by(memberships) -> Q:
    """`publishes` as a filter on Statement: the statements these active memberships (of
    one user, across incidents) may publish by their role."""
    spokesperson_of = [m.incident_id for m in memberships if m.role == Role.SPOKESPERSON]
    lead_of = [m.incident_id for m in memberships if m.role == Role.LEAD]
    return Q(incident_id__in=spokesperson_of) | Q(
        incident_id__in=lead_of, policy__allow_lead_publish=True
    )


def withdraws(user, role: str | None, statement: Statement) -> bool:
    return role == Role.LEAD or (user.pk == statement.author_id and role in WRITER_ROLES)


def can_draft(user, incident) -> bool:
    return drafts(active_role(user, incident))


def require_drafter(user, incident) -> None:
    """can_draft as a check: NotAllowed (NOT_A_DRAFTER) unless the user drafts."""
    require(can_draft(user, incident), NOT_A_DRAFTER)


def membership(user, incident) -> Membership | None:
    """The user's active membership of the incident's cell, or None."""
    if not user.is_authenticated:
        return None
    cached = getattr(incident, "active_memberships", None)
    if cached is not None:
        return next((m for m in cached if m.user_id == user.pk), None)
    return Membership.objects.active().filter(incident=incident, user=user).first()


def function_of(member: Membership | None) -> str | None:
    """The function an approver signs for ("" for a generalist), None if not an approver."""
    return member.function if member and member.role == Role.APPROVER else None


def approver_function(user, incident) -> str | None:
    return function_of(membership(user, incident))


def wrote(user, statement: Statement) -> bool:
    """Four-eyes: whoever wrote any revision of the text, not only the first or the last,
    cannot approve it. Uses the revision authors prefetched by the selectors if present."""
    if user.pk == statement.author_id:
        return True
    authors = getattr(statement, "revision_authors", None)
    if authors is None:
        return Revision.objects.filter(statement=statement, author_id=user.pk).exists()
    return user.pk in authors
