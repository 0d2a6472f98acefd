"""Where a statement stands against its approval policy. Pure functions over rows already
loaded, so lists can evaluate many statements without a query each."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

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

    @property
    def awaited(self) -> list[ApprovalRequirement]:
        """The requirements an approval can meet now: in "all" mode the open step's missing
        ones, in "any" mode every missing one; none once complete."""
        if self.complete:
            return []
        if self.mode == ApprovalPolicy.Mode.ANY:
            return list(self.missing)
        return [r for r in self.missing if r.step == self.open_step]

    @property
    def awaited_step(self) -> int | None:
        """The step the statement waits on (in "any" mode the earliest missing one)."""
        awaited = self.awaited
        return min(r.step for r in awaited) if awaited else None


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


def unfillable(
    policy: ApprovalPolicy,
    requirements: list[ApprovalRequirement],
    approvals: list[Review],
    approvers: list[str],
) -> list[ApprovalRequirement]:
    """The requirements still missing that these approvers cannot meet between them: the
    statement would wait on nobody for those. `approvers` holds the function ("" for a
    generalist) of each person who may still approve this revision (an approver of the cell,
    active, who did not write the text and has not approved it yet); each gives at most one
    approval, which meets at most one requirement. Empty when the cell can bring the
    statement to approval. In "any" mode one requirement is enough, so all the missing ones
    are returned when none can be met.

    "All" mode is a matching of requirements to people (Kuhn's augmenting paths; a handful
    of each). Requirements naming a function are placed first, so when people are short the
    unmet ones are the "any approver" requirements whenever possible: those are the easiest
    to staff, and the named function is what the message must ask for otherwise."""
    state = progress(policy, requirements, approvals)
    if state.complete:
        return []
    missing = sorted(state.missing, key=lambda r: (not r.function, r.step, r.pk or 0))
    if policy.mode == ApprovalPolicy.Mode.ANY:
        if any(r.accepts(f) for r in missing for f in approvers):
            return []
        return sorted(missing, key=lambda r: (r.step, r.pk or 0))
    holder: dict[int, int] = {}  # approver index -> index in `missing` of what they meet

    def place(i: int, seen: set[int]) -> bool:
        for j, function in enumerate(approvers):
            if j in seen or not missing[i].accepts(function):
                continue
            seen.add(j)
            if j not in holder or place(holder[j], seen):
                holder[j] = i
                return True
        return False

    for i in range(len(missing)):
        place(i, set())
    placed = set(holder.values())
    return sorted(
        (r for i, r in enumerate(missing) if i not in placed), key=lambda r: (r.step, r.pk or 0)
    )


def step_started_at(state: Progress, *, submitted_at, revised_at) -> datetime | None:
    """Since when the awaited step has been waiting: the submission or the current revision,
    whichever is later, or the end of the previous step (its last approval) if later."""
    times = [t for t in (submitted_at, revised_at) if t is not None]
    step = state.awaited_step
    if step is not None and state.mode == ApprovalPolicy.Mode.ALL:
        times += [review.created_at for requirement, review in state.met if requirement.step < step]
    return max(times) if times else None


def step_deadline_minutes(state: Progress) -> int | None:
    """The awaited step's deadline in minutes (the shortest of its requirements'), or None."""
    minutes = [r.deadline_minutes for r in state.awaited if r.deadline_minutes]
    return min(minutes) if minutes else None


def step_deadline(state: Progress, *, submitted_at, revised_at) -> datetime | None:
    """When the awaited step is late, or None (no deadline, or nothing awaited)."""
    minutes = step_deadline_minutes(state)
    started = step_started_at(state, submitted_at=submitted_at, revised_at=revised_at)
    if minutes is None or started is None:
        return None
    return started + timedelta(minutes=minutes)
