"""Where a statement stands against its approval policy. Pure functions over rows already
loaded, so lists can evaluate many statements without a query each."""

from dataclasses import dataclass, field

from .models import ApprovalPolicy, ApprovalRequirement, Review

ANY_APPROVER = ApprovalRequirement(step=1, function="")


@dataclass
class Progress:
    complete: bool
    met: list[tuple[ApprovalRequirement, Review]] = field(default_factory=list)
    missing: list[ApprovalRequirement] = field(default_factory=list)
    open_step: int | None = None
    mode: str = ApprovalPolicy.Mode.ALL

    def can_sign(self, function: str) -> bool:
        """Would an approval from an approver with this function count now?"""
        if self.complete:
            return False
        if self.mode == ApprovalPolicy.Mode.ANY:
            return any(r.accepts(function) for r in self.missing)
        return any(r.accepts(function) for r in self.missing if r.step == self.open_step)


def progress(
    policy: ApprovalPolicy, requirements: list[ApprovalRequirement], approvals: list[Review]
) -> Progress:
    """Match approvals of the current revision to requirements, earliest step first and in
    the order they were given; each approval meets at most one requirement."""
    # Within a step, requirements naming a function take their approvals before "any
    # approver" ones: otherwise a legal approval could be spent on "any approver" and
    # leave "legal" unmet although a generalist could have filled the former.
    requirements = sorted(requirements, key=lambda r: (r.step, not r.function, r.pk or 0)) or [
        ANY_APPROVER
    ]
    met, unused = [], sorted(approvals, key=lambda a: (a.created_at, a.pk or 0))
    missing = []
    for requirement in requirements:
        match = next((a for a in unused if requirement.accepts(a.function)), None)
        if match is None:
            missing.append(requirement)
        else:
            unused.remove(match)
            met.append((requirement, match))
    if policy.mode == ApprovalPolicy.Mode.ANY:
        return Progress(complete=bool(met), met=met, missing=missing, mode=policy.mode)
    open_step = min((r.step for r in missing), default=None)
    return Progress(
        complete=not missing, met=met, missing=missing, open_step=open_step, mode=policy.mode
    )


def asks_for(requirements: list[ApprovalRequirement], function: str) -> bool:
    """Does the policy ask for an approver with this function at all (met or not)? A
    policy without requirements asks for any approver."""
    return any(r.accepts(function) for r in requirements or [ANY_APPROVER])
