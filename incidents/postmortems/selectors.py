"""Reads of a post-mortem for its page and API: the row with its action items, approvals,
versions and policy, in a constant number of queries. The computed figures are
figures.report's (one place)."""

from dataclasses import dataclass

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _

from incidents.models import Membership, Role
from incidents.selectors import incidents_visible_to
from statements import outlets
from statements.outlets import Awaiting

from . import rules
from .choices import ItemStatus, PostmortemStatus
from .models import (
    ActionItem,
    LessonsStatement,
    Postmortem,
    PostmortemApproval,
    PostmortemVersion,
)


@dataclass
class State:
    postmortem: Postmortem | None
    items: list
    approvals: list  # every decision, oldest first
    versions: list
    requirements: list
    progress: object  # statements.policy.Progress while in review, else None
    stall: str = ""  # in review: why the cell cannot bring it to sign-off (rules.stall)

    @property
    def signed(self) -> bool:
        """A version is signed off (the "what we learned" statement starts from it)."""
        return bool(self.versions)

    def actions_for(self, user, incident) -> list[str]:
        """rules.available_actions over this state (the page's and the API's)."""
        return rules.available_actions(
            user,
            incident,
            self.postmortem,
            self.progress,
            self.current_approvals,
            signed=self.signed,
            requirements=self.requirements,
        )

    @property
    def lessons_statements(self) -> list:
        """The "what we learned" statements started from it, oldest first (their status and
        language with them)."""
        return list(self.postmortem.lessons_statements.all()) if self.postmortem else []

    @property
    def current_approvals(self) -> list:
        """The approvals that count on the current revision (rules.standing)."""
        return rules.standing(self.postmortem, self.approvals)


def postmortem_of(incident) -> Postmortem | None:
    return (
        Postmortem.objects.filter(incident=incident)
        .select_related("updated_by", "created_by", "policy")
        .prefetch_related(
            Prefetch("items", queryset=ActionItem.objects.select_related("owner", "closed_by")),
            Prefetch(
                "approvals",
                queryset=PostmortemApproval.objects.select_related("reviewer").order_by(
                    "created_at", "id"
                ),
            ),
            Prefetch(
                "versions",
                queryset=PostmortemVersion.objects.only(
                    "id", "postmortem_id", "number", "revision", "content_hash", "signed_off_at"
                ).order_by("-number"),
            ),
            "policy__requirements",
            Prefetch(
                "lessons_statements",
                queryset=LessonsStatement.objects.select_related("statement").only(
                    "id",
                    "postmortem_id",
                    "version",
                    "statement__id",
                    "statement__status",
                    "statement__language",
                    "statement__revision",
                ),
            ),
        )
        .first()
    )


def state_of(incident) -> State:
    postmortem = postmortem_of(incident)
    if postmortem is None:
        return State(None, [], [], [], [], None)
    approvals = list(postmortem.approvals.all())
    requirements = list(postmortem.policy.requirements.all()) if postmortem.policy else []
    progress, stall = None, ""
    if postmortem.policy is not None:
        progress = rules.progress(postmortem, requirements, approvals)
    if postmortem.status == PostmortemStatus.IN_REVIEW and postmortem.policy is not None:
        approvers = Membership.objects.active().filter(
            incident=incident, role=Role.APPROVER, user__is_active=True
        )
        stall = rules.stall(postmortem, requirements, approvals, list(approvers))
    return State(
        postmortem,
        list(postmortem.items.all()),
        approvals,
        list(postmortem.versions.all()),
        requirements,
        progress,
        stall,
    )


def version_of(postmortem, number: int) -> PostmortemVersion:
    return PostmortemVersion.objects.get(postmortem=postmortem, number=number)


def owners(incident) -> list:
    """Who may own an action item: the active cell but its observers (read-only), by name
    (one query)."""
    return [
        m.user
        for m in Membership.objects.active()
        .filter(incident=incident, user__is_active=True)
        .exclude(role=Role.OBSERVER)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    ]


# "Has this happened before?": how many earlier incidents the room and the API show.
PRECEDENTS_SHOWN = 5
ENDED = ("resolved", "closed")


@dataclass
class Precedents:
    incidents: list  # newest first; each with `.pm` (its Postmortem or None) and `.pm_items`
    more: bool  # there are more than shown (the dashboard's history lists them)


def precedents(user, incident, *, limit: int = PRECEDENTS_SHOWN) -> Precedents:
    """The resolved or closed incidents of `incident`'s category that `user` may see
    (incidents.selectors.incidents_visible_to: staff every one, others the cells they are
    in), newest first, each with its post-mortem's written lessons and its action items —
    so a team meeting a similar crisis starts from what it learned. Two queries whatever
    the number of incidents: the incidents with their post-mortem (one join, `limit` + 1
    rows to know whether there are more) and their action items."""
    rows = list(
        incidents_visible_to(user)
        .filter(category=incident.category, status__in=ENDED)
        .exclude(pk=incident.pk)
        .select_related("postmortem")
        .prefetch_related(
            Prefetch(
                "postmortem__items",
                queryset=ActionItem.objects.select_related("owner"),
            )
        )
        .order_by("-resolved_at", "-declared_at", "-pk")[: limit + 1]
    )
    for row in rows[:limit]:
        row.pm = getattr(row, "postmortem", None)
        items = list(row.pm.items.all()) if row.pm else []
        row.pm_items = sorted(items, key=lambda i: (i.status != ItemStatus.OPEN, i.due_date))
    return Precedents(rows[:limit], len(rows) > limit)


def awaiting_sign_off(user) -> list:
    """For "My approvals" (statements.outlets): the post-mortems in review that wait for
    this person's sign-off now (an approver of the cell whose function the policy awaits,
    who has not signed this revision). Four queries, whatever their number."""
    members = {
        m.incident_id: m
        for m in Membership.objects.active().filter(
            user=user,
            role=Role.APPROVER,
            incident__postmortem__status=PostmortemStatus.IN_REVIEW,
        )
    }
    postmortems = (
        Postmortem.objects.filter(incident_id__in=members)
        .select_related("incident", "policy")
        .prefetch_related("approvals", "policy__requirements")
        .order_by("submitted_at", "pk")
    )
    found = []
    for postmortem in postmortems:
        if len(found) == outlets.MAX_AWAITING:
            break
        approvals = list(postmortem.approvals.all())
        requirements = list(postmortem.policy.requirements.all()) if postmortem.policy else []
        state = rules.progress(postmortem, requirements, approvals) if postmortem.policy else None
        function = members[postmortem.incident_id].function
        # Their changes asked on this revision, then a resubmission: theirs to sign again.
        signed = any(a.reviewer_id == user.pk for a in rules.standing(postmortem, approvals))
        if state is None or signed or not state.can_sign(function):
            continue
        found.append(
            Awaiting(
                kind="postmortem",
                what=_("Post-mortem (revision %(n)s)") % {"n": postmortem.revision},
                incident_id=postmortem.incident_id,
                incident=postmortem.incident.title,
                revision=postmortem.revision,
                url=reverse("postmortem", args=[postmortem.incident_id]),
                api_url=reverse("api-postmortem", args=[postmortem.incident_id]),
                since=postmortem.submitted_at,
            )
        )
    return found
