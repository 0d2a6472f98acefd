"""What a user may do with a statement now: the one rule behind the actions' guards, the
statement page's forms and the API's `available_actions`.

Each action has one check here. `available_actions` runs every check without raising;
the action runs its own check on the locked, fresh row and gets the refusal it answers
with (NotAllowed 403, TransitionNotAllowed 409, StaleRevision 409), or False when the
request repeats what is already done (a double click: a no-op, not an error).

The checks read rows already loaded: the viewer's membership (from the incident's
prefetched cell, or given), the policy's requirements, the current approvals and the
revision authors (`selectors.attach_progress`). A list costs no query per statement."""

from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents import extensions
from incidents.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    StaleRevision,
    TransitionNotAllowed,
    require,
)
from incidents.models import ApproverFunction, Membership, Role
from incidents.people import display_name

from . import outlets, permissions, policy
from .choices import Decision
from .drafting import unfilled_blanks
from .models import EDITABLE_STATUSES, ApprovalPolicy, Statement, StatementStatus

S = StatementStatus

EDIT = "edit"
SUBMIT = "submit"
APPROVE = "approve"
REQUEST_CHANGES = "request_changes"
PUBLISH = "publish"
WITHDRAW = "withdraw"
CORRECT = "correct"  # write a correction of a published statement
STATEMENT_ACTIONS = (EDIT, SUBMIT, APPROVE, REQUEST_CHANGES, PUBLISH, WITHDRAW, CORRECT)
# Find the viewer's membership in the statement's incident (its prefetched cell, else a query).
LOOKUP = object()


@dataclass
class _Asking:
    user: object
    statement: Statement
    role: str | None
    function: str | None  # the approver's function ("" generalist); None: not an approver
    # Refusals name people (the cell, the playbook roster) only when someone will read
    # them: `available_actions` only needs to know whether an action is refused.
    explain: bool = True


AND = gettext_lazy("%(first)s and %(last)s")

# The guards' refusals, translated only when someone reads one: `available_actions` runs
# every guard for every statement of a list and only needs to know which ones refuse.
OBSERVERS_CANNOT_EDIT = gettext_lazy("Observers cannot edit statements.")
ONLY_DRAFTERS_SUBMIT = gettext_lazy("Only cell members who draft can submit a statement.")
ONLY_APPROVERS_REVIEW = gettext_lazy("Only approvers of the cell review statements.")
FOUR_EYES = gettext_lazy("You wrote this text: someone else must review it (four-eyes rule).")
NOT_YOUR_FUNCTION = gettext_lazy("This statement's approval policy does not ask for your function.")
SHOWN_ON_APPROVAL = gettext_lazy(
    "This text is shown on the crisis page as soon as it is approved: nobody publishes it."
)
ONLY_SPOKESPERSON_PUBLISHES = gettext_lazy("Only the spokesperson publishes statements.")
ONLY_SPOKESPERSON_OR_LEAD_PUBLISHES = gettext_lazy(
    "Only the spokesperson or the lead publishes statements."
)
ONLY_AUTHOR_OR_LEAD_WITHDRAWS = gettext_lazy(
    "Only the author or the lead can withdraw a statement."
)
OR = gettext_lazy("%(first)s or %(last)s")


class NobodyToApprove(TransitionNotAllowed):
    """409: a step of the statement's approval policy has nobody in the cell to sign it
    off. `extra["missing"]` lists each function short ("" for any approver), how many
    approvals it lacks, and whom the playbook roster suggests."""


# --- Who can still approve: the silent stall --------------------------------------------------


def cell_of(incident) -> list[Membership]:
    """The incident's active cell with its users: the prefetched one when it is there."""
    cached = getattr(incident, "active_memberships", None)
    if cached is None:
        cached = list(Membership.objects.active().filter(incident=incident).select_related("user"))
        incident.active_memberships = cached
    return cached


def publishers(statement: Statement) -> list:
    """Who in the cell may publish the statement (permissions.publishes: its spokespeople,
    and its lead when the policy lets the lead publish): whom an approved text waits for."""
    return [m.user for m in cell_of(statement.incident) if permissions.publishes(m.role, statement)]


def may_still_approve(member: Membership, statement: Statement) -> bool:
    """Could this member's approval of the current revision still be given: an active
    approver who wrote none of the text (four-eyes) and has not approved it yet."""
    return (
        member.role == Role.APPROVER
        and member.user.is_active
        and not permissions.wrote(member.user, statement)
        and all(a.reviewer_id != member.user_id for a in statement.approvals)
    )


@dataclass
class Gap:
    """Sign-offs for one function (`""`: any approver) that nobody in the cell can give.
    `alternatives` lists the other functions of an "any one of" policy, when none of them
    can sign either."""

    function: str
    short: int
    available: int  # people who could still give one, fewer than needed
    writers: list[str] = field(default_factory=list)  # approvers kept out by four-eyes
    alternatives: list[str] = field(default_factory=list)

    @property
    def functions(self) -> list[str]:
        return [self.function, *self.alternatives]

    def as_json(self, suggestions: list[tuple[str, str]]) -> dict:
        return {
            "function": self.function,
            "alternatives": self.alternatives,
            "short": self.short,
            "suggestions": [{"name": name, "email": email} for name, email in suggestions],
        }


def approval_gaps(statement: Statement, cell: list[Membership] | None = None) -> list[Gap]:
    """What of the statement's approval policy nobody in the cell can sign off, one Gap per
    function ([] when the cell can approve it, or nothing is awaited: approved, published,
    withdrawn). `cell` defaults to the incident's active cell. No query when the cell and
    the statement's progress are loaded."""
    if statement.is_final or statement.progress.complete:
        return []
    cell = cell_of(statement.incident) if cell is None else cell
    # A page or list asks twice per draft (its stall, and whether it may be submitted):
    # judged once per loaded row, cell and state.
    key = (id(cell), len(cell), statement.status, statement.revision, len(statement.approvals))
    memo = statement.__dict__.get("_approval_gaps")
    if memo is not None and memo[0] == key:
        return memo[1]
    gaps = _approval_gaps(statement, cell)
    statement.__dict__["_approval_gaps"] = (key, gaps)
    return gaps


def _approval_gaps(statement: Statement, cell: list[Membership]) -> list[Gap]:
    able = [m for m in cell if may_still_approve(m, statement)]
    unmet = policy.unfillable(
        statement.policy,
        list(statement.policy.requirements.all()),
        statement.approvals,
        [m.function for m in able],
    )
    if not unmet:
        return []

    def writers(function: str) -> list[str]:
        return [
            display_name(m.user)
            for m in cell
            if m.role == Role.APPROVER
            and m.user.is_active
            and (not function or m.function == function)
            and permissions.wrote(m.user, statement)
        ]

    if statement.policy.mode == ApprovalPolicy.Mode.ANY:
        functions = list(dict.fromkeys(r.function for r in unmet))
        if "" in functions:  # "any approver" among the alternatives covers all the others
            functions = [""]
        return [
            Gap(
                function=functions[0],
                short=1,
                available=0,
                writers=[name for f in functions for name in writers(f)],
                alternatives=functions[1:],
            )
        ]
    gaps = []
    for function, short in Counter(r.function for r in unmet).items():
        available = sum(1 for m in able if not function or m.function == function)
        gaps.append(Gap(function, short, available, writers(function)))
    return gaps


def function_label(function: str) -> str:
    return str(ApproverFunction(function).label) if function else _("any function")


def joined_functions(functions: list[str], mode: str) -> str:
    """The awaited functions in words: "Legal and Communications" ("or" in "any" mode)."""
    return _joined(functions, OR if mode == ApprovalPolicy.Mode.ANY else AND)


def _joined(functions, conjunction) -> str:
    """ "Legal", "Legal and Communications", "Legal, Executive management or Other"."""
    labels = [function_label(f) for f in dict.fromkeys(functions)]
    if len(labels) == 1:
        return labels[0]
    return str(conjunction) % {"first": ", ".join(labels[:-1]), "last": labels[-1]}


def gap_sentence(gap: Gap) -> str:
    if gap.alternatives:
        sentence = _("No approver for %(functions)s in this cell.") % {
            "functions": _joined(gap.functions, OR)
        }
    elif gap.available == 0:
        sentence = (
            _("No approver for %(function)s in this cell.")
            % {"function": function_label(gap.function)}
            if gap.function
            else _("No approver in this cell.")
        )
    else:
        sentence = _("Not enough approvers for %(function)s in this cell: %(n)s more needed.") % {
            "function": function_label(gap.function),
            "n": gap.short,
        }
    if gap.writers:
        sentence += " " + _("%(names)s wrote this text and cannot approve it (four-eyes rule).") % {
            "names": ", ".join(gap.writers)
        }
    return sentence


def roster(incident) -> list:
    """The incident's committee roster (incidents.extensions.roster_of), read once per
    incident object: a list of statements asks for it once."""
    cached = getattr(incident, "_committee_roster", None)
    if cached is None:
        cached = extensions.roster_of(incident)
        incident._committee_roster = cached
    return cached


MAX_SUGGESTIONS = 3


def roster_suggestions(
    entries, functions: list[str], statement: Statement, cell: list[Membership]
) -> list[tuple[str, str]]:
    """(name, e-mail) of the roster's people for these functions ("" : any approver) who
    could sign but are not yet approvers of the cell for it, backups after the people they
    stand in for, at most MAX_SUGGESTIONS."""
    approving = {
        (m.user_id, m.function) for m in cell if m.role == Role.APPROVER and m.left_at is None
    }

    def fits(entry) -> bool:
        if "" in functions:
            return entry.role == Role.APPROVER or bool(entry.function)
        return entry.function in functions

    def helps(user, function) -> bool:
        if user is None:
            return True  # no account yet: the lead creates one and adds them
        if permissions.wrote(user, statement):
            return False
        return (user.pk, function) not in approving and (
            "" not in functions or all(uid != user.pk for uid, _f in approving)
        )

    found: list[tuple[str, str]] = []
    for entry in entries:
        if not fits(entry):
            continue
        for name, email, user in (
            (entry.name, entry.email, entry.user),
            (entry.backup_name, entry.backup_email, entry.backup_user),
        ):
            if name and helps(user, entry.function) and (name, email) not in found:
                found.append((name, email))
    return found[:MAX_SUGGESTIONS]


def _whom_to_add(suggestions: list[tuple[str, str]], *, leads: bool) -> str:
    people = ", ".join(f"{name} ({email})" if email else name for name, email in suggestions)
    if leads:
        if people:
            return _("Add one to the cell — from the playbook roster: %(people)s.") % {
                "people": people
            }
        return _("Add one to the cell.")
    if people:
        return _("Ask the lead to add one — from the playbook roster: %(people)s.") % {
            "people": people
        }
    return _("Ask the lead to add one.")


def stall_refusal(
    statement: Statement, gaps: list[Gap], *, leads: bool = False, explain: bool = True
) -> NobodyToApprove:
    """The refusal for these gaps: "No approver for Communications in this cell. Ask the
    lead to add one — from the playbook roster: David Keller (david.keller@example.com)."
    (`leads`: said to someone who may add members). Without `explain`, no roster lookup."""
    cell = cell_of(statement.incident) if explain else []
    entries = roster(statement.incident) if explain else []
    sentences, missing = [], []
    for gap in gaps:
        suggestions = roster_suggestions(entries, gap.functions, statement, cell)
        sentences += [gap_sentence(gap), _whom_to_add(suggestions, leads=leads)]
        missing.append(gap.as_json(suggestions))
    return NobodyToApprove(" ".join(sentences), missing=missing)


def approval_stall(statement: Statement, *, viewer=None) -> str | None:
    """Why the statement waits (or would wait, once submitted) on nobody: the same text the
    submission's refusal gives, for the page and the room to show beforehand; None when the
    cell can approve it. Addressed to `viewer` (a lead is told to add, others to ask)."""
    gaps = approval_gaps(statement)
    if not gaps:
        return None
    leads = viewer is not None and _may_staff(viewer, statement)
    return stall_refusal(statement, gaps, leads=leads).message


def _may_staff(user, statement: Statement) -> bool:
    member = permissions.membership(user, statement.incident)
    return user.is_superuser or (member is not None and member.role == Role.LEAD)


def awaited_holders(statement: Statement, cell: list[Membership] | None = None) -> list:
    """The cell's members whose approval the statement waits for now (users)."""
    awaited = statement.progress.awaited
    cell = cell_of(statement.incident) if cell is None else cell
    return [
        m.user
        for m in cell
        if may_still_approve(m, statement) and any(r.accepts(m.function) for r in awaited)
    ]


def _not_awaited(a: "_Asking") -> str:
    """Exactly what the statement waits for now, and who in the cell can give it."""
    progress = a.statement.progress
    awaited = progress.awaited
    what = _joined(
        [r.function for r in awaited], OR if progress.mode == ApprovalPolicy.Mode.ANY else AND
    )
    yours = ApproverFunction(a.function).label if a.function else _("approver without a function")
    if not a.explain:
        return _("This statement waits now for an approval for %(what)s.") % {"what": what}
    later = [
        r.step
        for r in progress.missing
        if r.accepts(a.function) and r.step > (progress.awaited_step or 0)
    ]
    if later and progress.mode == ApprovalPolicy.Mode.ALL:
        first = _(
            "Your approval (%(yours)s) comes at step %(later)s, once step %(step)s is complete."
        ) % {"yours": yours, "later": min(later), "step": progress.awaited_step}
    else:
        first = _("This statement does not wait for your approval (%(yours)s).") % {"yours": yours}
    steps = {r.step for r in a.statement.policy.requirements.all()}
    if progress.mode == ApprovalPolicy.Mode.ALL and len(steps) > 1:
        what = _("%(what)s (step %(step)s)") % {"what": what, "step": progress.awaited_step}
    holders = [display_name(user) for user in awaited_holders(a.statement)]
    if holders:
        second = _("It waits now for %(what)s: %(who)s.") % {
            "what": what,
            "who": ", ".join(holders),
        }
    else:
        second = _(
            "It waits now for %(what)s, and nobody in the cell can give it: ask the lead to "
            "add an approver."
        ) % {"what": what}
    return f"{first} {second}"


def edit_voids_approval(statement: Statement) -> bool:
    """Saving new text now would void sign-offs already given to the current revision (an
    approved statement goes back to review). The page asks for a confirmation first, the
    API says it (`edit_voids_approval`), the action records it on the timeline."""
    return statement.status == S.APPROVED or bool(statement.approvals)


def _edit(a: _Asking) -> bool:
    require(permissions.drafts(a.role), OBSERVERS_CANNOT_EDIT)
    if a.statement.status not in EDITABLE_STATUSES:
        raise TransitionNotAllowed(
            _("A %(status)s statement cannot be edited; write a new one (a correction).")
            % {"status": a.statement.get_status_display().lower()}
        )
    return True


def _submit(a: _Asking) -> bool:
    require(permissions.drafts(a.role), ONLY_DRAFTERS_SUBMIT)
    if a.statement.status == S.IN_REVIEW:
        return False  # double click
    if a.statement.status not in (S.DRAFT, S.CHANGES_REQUESTED):
        raise TransitionNotAllowed(
            _("Only a draft or a statement with requested changes can be submitted.")
        )
    _refuse_blanks(a.statement, _("fill in each blank before submitting it."))
    if a.statement.status == S.CHANGES_REQUESTED and _changes_requested_on_this_text(a.statement):
        # Its approvals still count (one per person and revision) and its reviewers asked
        # for another text: the same words again would wait for nobody.
        raise TransitionNotAllowed(
            _("Changes were requested on this text: edit it before submitting it again.")
        )
    gaps = approval_gaps(a.statement)
    if gaps:
        leads = a.role == Role.LEAD or a.user.is_superuser
        raise stall_refusal(a.statement, gaps, leads=leads, explain=a.explain)
    return True


def _refuse_blanks(statement: Statement, then: str) -> None:
    """A template's "[product]" was submitted, approved and published unnoticed: a text
    still holding a blank is refused at each step (an edit in review brings one back)."""
    blanks = unfilled_blanks(statement.text)
    if blanks:
        raise InvalidInput(
            _("This text still holds %(blanks)s: %(then)s")
            % {"blanks": ", ".join(blanks), "then": then}
        )


def _changes_requested_on_this_text(statement: Statement) -> bool:
    """Whether a reviewer sent back the current revision (read from the reviews already
    loaded with the statement's progress, else one query)."""
    reviews = getattr(statement, "current_reviews", None)
    if reviews is not None:
        return any(r.decision == Decision.CHANGES_REQUESTED for r in reviews)
    return statement.reviews.filter(
        revision=statement.revision, decision=Decision.CHANGES_REQUESTED
    ).exists()


def _reviewer(a: _Asking) -> None:
    require(a.function is not None, ONLY_APPROVERS_REVIEW)
    require(
        not permissions.wrote(a.user, a.statement),
        FOUR_EYES,
    )


def _same_revision(statement: Statement, revision: int | None) -> None:
    if revision is not None and revision > statement.revision:
        # Not a stale read: a revision that never existed ("the text changed" misled).
        raise StaleRevision(
            _("There is no revision %(asked)s: the text is at revision %(n)s. Read it again.")
            % {"asked": revision, "n": statement.revision},
            current_revision=statement.revision,
            current_text=statement.text,
        )
    if revision is not None and revision != statement.revision:
        raise StaleRevision(
            _("The text changed since you read it (now revision %(n)s). Read it again.")
            % {"n": statement.revision},
            current_revision=statement.revision,
            current_text=statement.text,
        )


def _approve(a: _Asking, revision: int | None = None) -> bool:
    """A second click, or a second approver once the policy is met, changes nothing."""
    _reviewer(a)
    statement = a.statement
    _same_revision(statement, revision)
    progress = statement.progress
    already = any(r.reviewer_id == a.user.pk for r in statement.approvals)
    if already or (statement.status == S.APPROVED and progress.complete):
        return False
    # APPROVED but incomplete: the policy was tightened in the admin after approval.
    if statement.status not in (S.IN_REVIEW, S.APPROVED):
        raise TransitionNotAllowed(_("Only a statement in review can be approved."))
    _refuse_blanks(statement, _("it cannot be approved until each is filled in (ask for changes)."))
    if progress.complete:
        return True  # in review though its approvals suffice (a policy loosened): this ends it
    if not progress.can_sign(a.function):
        raise NotAllowed(_not_awaited(a))
    return True


def _request_changes(a: _Asking, revision: int | None = None) -> bool:
    """An approver the policy asks for may send the text back while it is in review, and
    also once approved until it is published: a late legal concern must be able to stop
    publication. With `revision`, only the one the approver read (batch review)."""
    _reviewer(a)
    _same_revision(a.statement, revision)
    require(
        policy.asks_for(list(a.statement.policy.requirements.all()), a.function),
        NOT_YOUR_FUNCTION,
    )
    if a.statement.status == S.CHANGES_REQUESTED:
        return False
    if a.statement.status not in (S.IN_REVIEW, S.APPROVED):
        raise TransitionNotAllowed(_("Changes can only be requested on a statement in review."))
    return True


def _publish(a: _Asking, revision: int | None = None, url: str | None = None) -> bool:
    """Publishing again what this person already recorded, at the same address, is a
    double click (no-op). Any other publication of a published statement is refused with
    who published it and where, so a second post made in a race is not silently lost."""
    statement = a.statement
    require(
        permissions.publishes(a.role, statement),
        ONLY_SPOKESPERSON_PUBLISHES
        if not statement.policy.allow_lead_publish
        else ONLY_SPOKESPERSON_OR_LEAD_PUBLISHES,
    )
    if statement.status == S.PUBLISHED:
        if url is None or (
            url == statement.published_url and a.user.pk == statement.published_by_id
        ):
            return False  # double click (or: is it available? no, it is done)
        raise Conflict(
            _("This statement was already published by %(who)s at %(url)s.")
            % {
                "who": display_name(statement.published_by),
                "url": statement.published_url or _("(no address)"),
            },
            published_by=statement.published_by_id,
            published_url=statement.published_url,
            published_at=statement.published_at.isoformat() if statement.published_at else None,
        )
    if revision is not None and revision != statement.revision:
        raise StaleRevision(
            _(
                "The text changed since you copied it (now revision %(n)s). Copy the approved "
                "text again before publishing."
            )
            % {"n": statement.revision},
            current_revision=statement.revision,
            current_text=statement.text,
        )
    if statement.status != S.APPROVED or not statement.progress.complete:
        raise TransitionNotAllowed(
            _("This revision does not hold every approval the policy requires.")
        )
    _refuse_blanks(statement, _("it cannot be published until each is filled in."))
    if outlets.shown_on_approval(statement):
        raise TransitionNotAllowed(SHOWN_ON_APPROVAL)
    refusal = outlets.publish_refusal(statement)
    if refusal:
        raise TransitionNotAllowed(refusal)
    return True


def _withdraw(a: _Asking) -> bool:
    require(
        permissions.withdraws(a.user, a.role, a.statement),
        ONLY_AUTHOR_OR_LEAD_WITHDRAWS,
    )
    if a.statement.status == S.WITHDRAWN:
        return False
    if a.statement.status == S.PUBLISHED:
        raise TransitionNotAllowed(
            _("A published statement is never withdrawn: publish a correction instead.")
        )
    return True


def _correct(a: _Asking) -> bool:
    require(permissions.drafts(a.role), permissions.NOT_A_DRAFTER)
    if a.statement.status != S.PUBLISHED:
        raise InvalidInput(_("Only a published statement of this incident can be corrected."))
    return True


CHECKS = {
    EDIT: _edit,
    SUBMIT: _submit,
    APPROVE: _approve,
    REQUEST_CHANGES: _request_changes,
    PUBLISH: _publish,
    WITHDRAW: _withdraw,
    CORRECT: _correct,
}


def _asking(user, statement: Statement, member, explain: bool = True) -> _Asking:
    if member is LOOKUP:
        member = permissions.membership(user, statement.incident)
    return _Asking(
        user=user,
        statement=statement,
        role=member.role if member else None,
        function=permissions.function_of(member),
        explain=explain,
    )


def check(action: str, user, statement: Statement, *, member=LOOKUP, **inputs) -> bool:
    """Run one action's rule: True to go ahead, False when it is already done (no-op);
    raises the refusal (a DomainError) otherwise. `inputs` are the request's values the
    rule compares with the statement (`revision` for approve and publish)."""
    return CHECKS[action](_asking(user, statement, member), **inputs)


def available_actions(user, statement: Statement, *, member=LOOKUP) -> list[str]:
    """The actions, in STATEMENT_ACTIONS order, this user may take on the statement now.
    `member` is the user's active Membership of its incident (or None) when the caller
    has it; otherwise it is found in the incident's prefetched cell."""
    asking = _asking(user, statement, member, explain=False)
    names = []
    for name, rule in CHECKS.items():
        try:
            if rule(asking):
                names.append(name)
        except (NotAllowed, TransitionNotAllowed, InvalidInput, Conflict):
            pass
    return names


def memberships_of(user, incident_ids) -> dict[int, Membership | None]:
    """The user's active membership in each of these incidents, in one query (for lists
    of statements across incidents)."""
    found = {incident_id: None for incident_id in incident_ids}
    if user.is_authenticated and found:
        for m in Membership.objects.active().filter(incident_id__in=found, user=user):
            found[m.incident_id] = m
    return found
