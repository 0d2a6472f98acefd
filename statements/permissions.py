"""Who may do what with a statement. Membership lookups reuse the incident's prefetched
cell when it is there."""

from incidents.models import Membership, Role
from incidents.permissions import WRITER_ROLES, active_role

from .models import Revision, Statement


def can_draft(user, incident) -> bool:
    return active_role(user, incident) in WRITER_ROLES


def can_edit(user, statement: Statement) -> bool:
    return not statement.is_final and can_draft(user, statement.incident)


def approver_function(user, incident) -> str | None:
    """The function an approver signs for ("" for a generalist), None if not an approver."""
    if not user.is_authenticated:
        return None
    cached = getattr(incident, "active_memberships", None)
    if cached is not None:
        member = next((m for m in cached if m.user_id == user.pk), None)
    else:
        member = Membership.objects.active().filter(incident=incident, user=user).first()
    return member.function if member and member.role == Role.APPROVER else None


def wrote(user, statement: Statement) -> bool:
    """Four-eyes: whoever wrote any revision of the text, not only the first or the last,
    cannot approve it. Uses the revision authors prefetched by the selectors if present."""
    if user.pk == statement.author_id:
        return True
    authors = getattr(statement, "revision_authors", None)
    if authors is None:
        return Revision.objects.filter(statement=statement, author_id=user.pk).exists()
    return user.pk in authors


def can_publish(user, statement: Statement) -> bool:
    role = active_role(user, statement.incident)
    return role == Role.SPOKESPERSON or (role == Role.LEAD and statement.policy.allow_lead_publish)


def can_withdraw(user, statement: Statement) -> bool:
    role = active_role(user, statement.incident)
    return role == Role.LEAD or (user.pk == statement.author_id and role in WRITER_ROLES)
