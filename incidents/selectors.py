"""Reads. Every list here is built with a constant number of queries."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Concat
from django.utils.translation import gettext as _

from . import chains, extensions
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


def incidents_for_list(user, *, open_only: bool = True, cells: bool = True) -> QuerySet[Incident]:
    """The dashboard/API list, one query: each incident with `my_role` (the user's role in
    its cell, None for staff outside it; `my_role_user_id` says whose, for the permission
    checks) and its lead as `lead_user_id`, `lead_username`, `lead_first_name` and
    `lead_last_name` (None without a lead). `cells=True` also prefetches each active cell
    (`active_memberships`, one more query) for pages that show it."""
    if not user.is_authenticated:
        return Incident.objects.none()
    # Joins rather than subqueries (the same rule as incidents_visible_to: staff see every
    # incident, others those they are a member of): cheaper to build and to plan.
    qs = Incident.objects.annotate(
        my_membership=FilteredRelation(
            "memberships",
            condition=Q(memberships__user=user, memberships__left_at__isnull=True),
        ),
        my_role=F("my_membership__role"),
        my_function=F("my_membership__function"),
        my_role_user_id=Value(user.pk, output_field=IntegerField()),
        lead_membership=FilteredRelation(
            "memberships",
            condition=Q(memberships__role=Role.LEAD, memberships__left_at__isnull=True),
        ),
        lead_user_id=F("lead_membership__user_id"),
        lead_username=F("lead_membership__user__username"),
        lead_first_name=F("lead_membership__user__first_name"),
        lead_last_name=F("lead_membership__user__last_name"),
    )
    if not user.is_staff:
        qs = qs.filter(my_membership__isnull=False)
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    qs = with_freeze(qs)
    if cells:
        qs = qs.prefetch_related(
            Prefetch("memberships", queryset=_active_members(), to_attr="active_memberships")
        )
    return qs


def incident_for_room(user, pk: int) -> Incident:
    """One incident with its active cell, or Incident.DoesNotExist when it is not visible."""
    return (
        with_freeze(incidents_visible_to(user))
        .select_related("declared_by")
        .prefetch_related(
            Prefetch("memberships", queryset=_active_members(), to_attr="active_memberships")
        )
        .get(pk=pk)
    )


def with_freeze(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    """Each incident with the promotion freeze holding now, in the same query (a join on at
    most one row: one freeze holds at a time): `freeze_since` (None when none holds) and
    who set it, `freeze_by_id`, `freeze_by_username`, `freeze_by_first_name`,
    `freeze_by_last_name`; `Incident.holding_freeze` reads them."""
    return qs.annotate(
        holding_freeze_row=FilteredRelation(
            "promotion_freezes", condition=Q(promotion_freezes__lifted_at__isnull=True)
        ),
        freeze_since=F("holding_freeze_row__set_at"),
        freeze_by_id=F("holding_freeze_row__set_by_id"),
        freeze_by_username=F("holding_freeze_row__set_by__username"),
        freeze_by_first_name=F("holding_freeze_row__set_by__first_name"),
        freeze_by_last_name=F("holding_freeze_row__set_by__last_name"),
    )


# The banner names at most this many frozen incidents, then "and N more" (bounded).
FREEZES_SHOWN = 3


@dataclass(frozen=True)
class Freezes:
    """The promotion freezes a person's banner shows: `incidents` (id, title) and `more`,
    how many beyond them (0 or 1 means "at least one": the count stops at one more)."""

    incidents: list[tuple[int, str]]
    more: bool

    def __bool__(self) -> bool:
        return bool(self.incidents)


def _banner_memberships() -> QuerySet[Membership]:
    """Who sees an incident's promotion freeze banner, decided once: the active members of
    its cell, any role (observers too), whatever the incident's status (a freeze outlives
    the incident's closing until the lead lifts it). Staff outside a cell see no banner for
    it (they read the freeze in the room). The banner reads it (`promotion_freezes_for`),
    and so does its live refresh (`freeze_banner_viewers`)."""
    return Membership.objects.active()


def freeze_banner_viewers(incident_id: int) -> list[int]:
    """The users whose banner shows (or showed) this incident's freeze: whom a change of
    the freeze refreshes live (events.publish_freeze_changed). One query; a cell's size."""
    return list(
        _banner_memberships()
        .filter(incident_id=incident_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )


def frozen_among(incidents: QuerySet[Incident]) -> Freezes:
    """Which of `incidents` hold a promotion freeze now (whatever their status: a freeze
    outlives the incident's closing until it is lifted), most recently frozen first: the
    one reading of "frozen" for the banner and the campaigns pages. One query, at most
    FREEZES_SHOWN + 1 rows."""
    rows = list(
        incidents
        # One filter() call, one join: a freeze row that exists (an outer join's "IS NULL"
        # alone would also match an incident that never had one) and still holds.
        .filter(
            promotion_freezes__set_at__isnull=False,
            promotion_freezes__lifted_at__isnull=True,
        )
        .order_by("-promotion_freezes__set_at", "-pk")
        .values_list("pk", "title")[: FREEZES_SHOWN + 1]
    )
    return Freezes(rows[:FREEZES_SHOWN], len(rows) > FREEZES_SHOWN)


def promotion_freezes_for(user) -> Freezes:
    """The incidents whose promotion freeze holds and whose banner `user` sees
    (`_banner_memberships`), most recently frozen first: one query, at most
    FREEZES_SHOWN + 1 rows."""
    if not user.is_authenticated:
        return Freezes([], False)
    cells = _banner_memberships().filter(user=user).values("incident_id")
    return frozen_among(Incident.objects.filter(pk__in=cells))


def lead_of(incident: Incident):
    members = getattr(incident, "active_memberships", None)
    if members is None:
        members = list(_active_members().filter(incident=incident))
    return next((m.user for m in members if m.role == "lead"), None)


# A refusal names at most this many people to ask (a cell has one lead; a few at most).
REFUSAL_NAMES_MAX = 3


def leads_to_ask(user, incident_id) -> list:
    """The lead(s) of incident `incident_id` a refused page names (crisiscell.errors
    .permission_denied), at most REFUSAL_NAMES_MAX: only for someone who may see the
    incident (permissions.can_view: staff, or in its cell now); anyone else gets [] as for
    an incident that does not exist, so nothing tells them it does. `incident_id`: an id,
    or an expression giving one (the Subquery of a statement's incident_id: read in the
    same query). One query."""
    if not user.is_authenticated or incident_id is None:
        return []
    leads = _active_members().filter(incident_id=incident_id, role=Role.LEAD)
    if not user.is_staff:
        leads = leads.filter(
            Exists(Membership.objects.active().filter(incident_id=incident_id, user=user))
        )
    return [membership.user for membership in leads[:REFUSAL_NAMES_MAX]]


def cell_members(incident: Incident) -> QuerySet[Membership]:
    return _active_members().filter(incident=incident).select_related("added_by")


def membership_history(incident: Incident) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(incident=incident)
        .select_related("user", "added_by", "removed_by")
        .order_by("-added_at", "-id")
    )


def timeline_for(
    incident: Incident | int,
    *,
    visible_to=None,
    after: int | None = None,
    kind: str | None = None,
    key_events_only: bool = False,
    actor_id: int | None = None,
) -> QuerySet[TimelineEntry]:
    """The incident's entries (or its id's) in order, with their actors. With `visible_to`,
    only if that user may see the incident (else none): checked in the same query."""
    qs = TimelineEntry.objects.filter(incident=incident).select_related("actor")
    if visible_to is not None:
        # The rule of incidents_visible_to as a join (an active membership is unique per
        # person and incident, so no row doubles): cheaper to build and plan than IN.
        if not visible_to.is_authenticated:
            return qs.none()
        if not visible_to.is_staff:
            qs = qs.filter(
                incident__memberships__user=visible_to,
                incident__memberships__left_at__isnull=True,
            )
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


# The add-member picker: how many people one search shows, and how long a search may be.
CANDIDATES_MAX = 20
CANDIDATE_QUERY_MAX = 100


def member_candidates(incident: Incident, query: str, *, limit: int = CANDIDATES_MAX) -> list:
    """Accounts the lead may add to the cell whose username, first or last name or e-mail
    contains every word of `query` (case-insensitive): active, not in the cell now. Those
    whose username or name starts with the query come first. One query, at most `limit`
    users (ask for one more to learn whether there are more); [] for an empty query."""
    words = query.strip()[:CANDIDATE_QUERY_MAX].split()[:5]
    if not words:
        return []
    people = addable_users(incident)
    for word in words:
        people = people.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
        )
    first = words[0]
    starts = Case(
        When(
            Q(username__istartswith=first)
            | Q(first_name__istartswith=first)
            | Q(last_name__istartswith=first),
            then=0,
        ),
        default=1,
        output_field=IntegerField(),
    )
    people = people.annotate(starts=starts)
    return list(people.order_by("starts", "first_name", "last_name", "username")[:limit])


def people_named(text: str) -> list:
    """Active accounts `text` names exactly (case-insensitive): by username, else by e-mail,
    else by full name ("Inès Bernard"); more than one means the text is ambiguous. One
    query, at most 3 users."""
    text = " ".join(text.split())[:254]
    if not text:
        return []
    full_name = Concat("first_name", Value(" "), "last_name", output_field=CharField())
    found = list(
        User.objects.filter(is_active=True)
        .annotate(full_name=full_name)
        .filter(Q(username__iexact=text) | Q(email__iexact=text) | Q(full_name__iexact=text))
        .order_by("pk")[:3]
    )
    for field in ("username", "email"):
        exact = [u for u in found if getattr(u, field).lower() == text.lower()]
        if exact:
            return exact
    return found


def loose_ends(incident: Incident) -> list[str]:
    """What is still open in the incident, in short sentences, for the lead about to
    resolve or close it: its promotion freeze, then what the apps above register
    (extensions.register_loose_ends: statements, tasks, the crisis page, replies,
    listening signals). A few queries per app, whatever the incident's size."""
    ends = []
    if incident.holding_freeze is not None:
        ends.append(_("Promotional posts are still frozen: lift the freeze when they may resume."))
    return ends + extensions.loose_ends_of(incident)
