"""Reads of a post-mortem for its page and API: the row with its action items, approvals,
versions and policy, in a constant number of queries. The computed figures are
figures.report's (one place)."""

from dataclasses import dataclass

from django.db.models import Prefetch

from incidents.models import Membership, Role

from . import rules
from .choices import Decision
from .models import ActionItem, Postmortem, PostmortemApproval, PostmortemVersion


@dataclass
class State:
    postmortem: Postmortem | None
    items: list
    approvals: list  # every decision, oldest first
    versions: list
    requirements: list
    progress: object  # statements.policy.Progress while in review, else None

    @property
    def current_approvals(self) -> list:
        pm = self.postmortem
        return [
            a
            for a in self.approvals
            if a.revision == pm.revision and a.decision == Decision.APPROVED
        ]


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
        )
        .first()
    )


def state_of(incident) -> State:
    postmortem = postmortem_of(incident)
    if postmortem is None:
        return State(None, [], [], [], [], None)
    approvals = list(postmortem.approvals.all())
    requirements = list(postmortem.policy.requirements.all()) if postmortem.policy else []
    progress = None
    if postmortem.policy is not None:
        approved = [a for a in approvals if a.decision == Decision.APPROVED]
        progress = rules.progress(postmortem, requirements, approved)
    return State(
        postmortem,
        list(postmortem.items.all()),
        approvals,
        list(postmortem.versions.all()),
        requirements,
        progress,
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
