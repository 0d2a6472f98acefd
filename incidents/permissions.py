"""Who may do what on an incident: the one place that answers it."""

from .models import Incident, Membership, Role

WRITER_ROLES = (Role.LEAD, Role.DRAFTER, Role.APPROVER, Role.SPOKESPERSON)


def active_role(user, incident: Incident) -> str | None:
    """The user's current role in the cell, or None. Uses prefetched memberships, or the
    role a list read for this user annotated, if present."""
    if not user.is_authenticated:
        return None
    cached = getattr(incident, "active_memberships", None)
    if cached is not None:
        return next((m.role for m in cached if m.user_id == user.pk), None)
    # A list read for this user (selectors.incidents_for_list) carries the user's role.
    if getattr(incident, "my_role_user_id", None) == user.pk:
        return incident.my_role
    return (
        Membership.objects.active()
        .filter(incident=incident, user=user)
        .values_list("role", flat=True)
        .first()
    )


def can_view(user, incident: Incident) -> bool:
    return user.is_authenticated and (user.is_staff or active_role(user, incident) is not None)


def can_write_timeline(user, incident: Incident) -> bool:
    return active_role(user, incident) in WRITER_ROLES


def timeline_writable_by(user):
    """can_write_timeline as a query: the incidents whose timeline `user` may write (a
    form's choices of incidents), distinct, unordered."""
    return Incident.objects.filter(
        memberships__user=user,
        memberships__left_at__isnull=True,
        memberships__role__in=WRITER_ROLES,
    ).distinct()


def can_lead(user, incident: Incident) -> bool:
    """Status, severity, details and cell membership. Superusers may step in (e.g. when the
    lead has left the company and nobody else can hand over)."""
    return user.is_authenticated and (user.is_superuser or active_role(user, incident) == Role.LEAD)


def can_view_metrics(user) -> bool:
    """The metrics across incidents (incidents.postmortems.metrics): staff, and whoever
    holds the lead role of a crisis cell now; each sees the figures of the incidents they
    may see (selectors.incidents_visible_to). One query for a non-staff user."""
    if not user.is_authenticated:
        return False
    return user.is_staff or Membership.objects.active().filter(user=user, role=Role.LEAD).exists()
