"""Reads. Every list here is built with a constant number of queries."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    When,
)

from . import chains
from .models import OPEN_STATUSES, ChainCheckpoint, Incident, Membership, Role, TimelineEntry

User = get_user_model()


def _active_members():
    """The cell in the order people think of it: lead first, observers last."""
    rank = Case(
        *[When(role=role, then=index) for index, role in enumerate(Role.values)],
        output_field=IntegerField(),
    )
    return Membership.objects.active().select_related("user").order_by(rank, "user__username")


def incidents_visible_to(user) -> QuerySet[Incident]:
    """Staff see every incident; everyone else only the incidents whose cell they are in."""
    if not user.is_authenticated:
        return Incident.objects.none()
    qs = Incident.objects.all()
    if not user.is_staff:
        qs = qs.filter(
            Exists(Membership.objects.active().filter(incident=OuterRef("pk"), user=user))
        )
    return qs


def incidents_for_list(user, *, open_only: bool = True) -> QuerySet[Incident]:
    """The dashboard/API list: my role and the active cell come along in two queries."""
    my_role = Membership.objects.active().filter(incident=OuterRef("pk"), user=user)
    qs = incidents_visible_to(user).annotate(my_role=Subquery(my_role.values("role")[:1]))
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    return qs.select_related("declared_by").prefetch_related(
        Prefetch("memberships", queryset=_active_members(), to_attr="active_memberships")
    )


def incident_for_room(user, pk: int) -> Incident:
    """One incident with its active cell, or Incident.DoesNotExist when it is not visible."""
    return (
        incidents_visible_to(user)
        .select_related("declared_by")
        .prefetch_related(
            Prefetch("memberships", queryset=_active_members(), to_attr="active_memberships")
        )
        .get(pk=pk)
    )


def lead_of(incident: Incident):
    members = getattr(incident, "active_memberships", None)
    if members is None:
        members = list(_active_members().filter(incident=incident))
    return next((m.user for m in members if m.role == "lead"), None)


def cell_members(incident: Incident) -> QuerySet[Membership]:
    return _active_members().filter(incident=incident).select_related("added_by")


def membership_history(incident: Incident) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(incident=incident)
        .select_related("user", "added_by", "removed_by")
        .order_by("-added_at", "-id")
    )


def timeline_for(
    incident: Incident,
    *,
    after: int | None = None,
    kind: str | None = None,
    key_events_only: bool = False,
    actor_id: int | None = None,
) -> QuerySet[TimelineEntry]:
    qs = TimelineEntry.objects.filter(incident=incident).select_related("actor")
    if after is not None:
        qs = qs.filter(seq__gt=after)
    if kind:
        qs = qs.filter(kind=kind)
    if key_events_only:
        qs = qs.filter(key_event=True)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    return qs.order_by("seq")


def entries_after(incident: Incident, after: int, limit: int) -> tuple[list[TimelineEntry], bool]:
    """At most `limit` entries after `after`, in order, and whether more follow: what a
    reconnecting client missed, one bounded page at a time."""
    rows = list(timeline_for(incident, after=after)[: limit + 1])
    return rows[:limit], len(rows) > limit


def last_seq(incident: Incident) -> int:
    """The newest entry's sequence number: where a live client starts counting."""
    seq = TimelineEntry.objects.filter(incident=incident).order_by("-seq").values("seq")[:1]
    return next(iter(seq), {"seq": 0})["seq"]


def timeline_authors(incident: Incident) -> QuerySet:
    ids = TimelineEntry.objects.filter(incident=incident, actor__isnull=False).values("actor_id")
    return User.objects.filter(pk__in=ids).order_by("username")


def addable_users(incident: Incident) -> QuerySet:
    """Active accounts not currently in the cell, for the add-member picker."""
    in_cell = Membership.objects.active().filter(incident=incident).values("user_id")
    return User.objects.filter(is_active=True).exclude(pk__in=in_cell).order_by("username")


@dataclass(frozen=True)
class ChainHead:
    """The incident timeline's signed head: compare `hash` at `count` with a copy kept
    outside (an export's manifest, the post-mortem) to prove nothing was cut since."""

    count: int
    hash: str
    signature: str
    signed_at: object
    verified: bool  # the signature verifies with this installation's key


def chain_head(incident: Incident) -> ChainHead | None:
    checkpoint = ChainCheckpoint.objects.filter(
        chain=chains.chain_name(chains.TIMELINE, incident.pk)
    ).first()
    if checkpoint is None:
        return None
    return ChainHead(
        count=checkpoint.count,
        hash=checkpoint.head,
        signature=checkpoint.signature,
        signed_at=checkpoint.signed_at,
        verified=chains.signature_valid(
            checkpoint.chain, checkpoint.count, checkpoint.head, checkpoint.signature
        ),
    )
