"""Who may do what with a post-mortem: one place, used by the actions (their guards), the
page (which forms show) and the API (`available_actions`).

- Reading it (page, API, exports): whoever may see the incident (the cell, observers
  included, and staff read-only); outsiders get the incident's 404.
- Creating it, writing its parts, adding and editing action items, submitting it for
  sign-off: the lead (a superuser may step in, as for the incident).
- Closing an action item (done, or dropped with a reason) or reopening it: the lead or the
  item's owner.
- Signing off: the approvers of the cell whose function the policy awaits now
  (statements.policy.progress), on the exact revision they read; a post-mortem is signed
  off when its policy is met. Nobody approves twice the same revision. Asking for changes:
  the approvers whose function the policy asks for at all.
- Sharing what we learned (a public statement started from the signed-off post-mortem):
  whoever may draft a statement in the incident (statements' rule: the cell's writers,
  not observers nor staff outside the cell), once a version is signed off.
"""

from django.utils.translation import gettext as _

from incidents import permissions
from incidents.errors import Conflict, NotAllowed
from statements import permissions as statement_permissions
from statements import policy as approval_policy
from statements.models import ApprovalPolicy
from statements.rules import function_label

from .choices import Decision, PostmortemStatus

CREATE = "create"
EDIT = "edit"
SUBMIT = "submit"
APPROVE = "approve"
REQUEST_CHANGES = "request_changes"
SHARE = "share"
ACTIONS = (CREATE, EDIT, SUBMIT, APPROVE, REQUEST_CHANGES, SHARE)


def can_view(user, incident) -> bool:
    return permissions.can_view(user, incident)


def can_write(user, incident) -> bool:
    return permissions.can_lead(user, incident)


def require_write(user, incident) -> None:
    if not can_write(user, incident):
        raise NotAllowed(_("Only the lead writes the post-mortem; the cell reads it."))


def can_close_item(user, incident, item) -> bool:
    return can_write(user, incident) or (user.is_authenticated and item.owner_id == user.pk)


def require_close_item(user, incident, item) -> None:
    if not can_close_item(user, incident, item):
        raise NotAllowed(_("Only the lead or the action's owner closes it."))


def can_share(user, incident, signed: bool) -> bool:
    """Start the "what we learned" statement: a drafter of the incident (statements' own
    rule), from a signed-off version (`signed`)."""
    return signed and statement_permissions.can_draft(user, incident)


def require_share(user, incident, signed: bool) -> None:
    if not statement_permissions.can_draft(user, incident):
        raise NotAllowed(str(statement_permissions.NOT_A_DRAFTER))
    if not signed:
        raise Conflict(
            _("Sign off the post-mortem first: the statement starts from its signed-off lessons.")
        )


def approver_function(user, incident) -> str | None:
    """The function `user` signs for in this incident's cell ("" for a generalist), or None
    when they are not an approver of the cell."""
    return statement_permissions.approver_function(user, incident)


def standing(postmortem, approvals) -> list:
    """The approvals that count on the current revision, among `approvals` (any decisions):
    each reviewer's last decision on it, when that is an approval. An approver who signed
    then asked for changes withdrew their signature: resubmitted unchanged, it is theirs to
    give again (it was counted, and the post-mortem signed off over the objection)."""
    last = {}
    for a in sorted(approvals, key=lambda a: (a.created_at, a.pk or 0)):
        if a.revision == postmortem.revision:
            last[a.reviewer_id] = a
    return [a for a in last.values() if a.decision == Decision.APPROVED]


def progress(postmortem, requirements, approvals):
    """Where the post-mortem stands against its policy: the statements' own evaluation,
    over the approvals that count on its current revision (`standing`)."""
    return approval_policy.progress(
        postmortem.policy, requirements, standing(postmortem, approvals)
    )


def can_sign(user, incident, postmortem, state, approvals) -> bool:
    if postmortem.status != PostmortemStatus.IN_REVIEW or state is None:
        return False
    function = approver_function(user, incident)
    if function is None:
        return False
    if any(a.reviewer_id == user.pk and a.revision == postmortem.revision for a in approvals):
        return False
    return state.can_sign(function)


def not_yours_now(function: str, state) -> str:
    """Why an approver with `function` cannot sign now (`state`: its progress in review),
    as the action refuses it and the page says it beside "Ask for changes": their step is
    later, or the policy waits for other functions."""
    awaited = ", ".join(function_label(r.function) for r in state.awaited)
    later = [
        r.step for r in state.missing if r.accepts(function) and r.step > (state.awaited_step or 0)
    ]
    if later and state.mode == ApprovalPolicy.Mode.ALL:
        return _(
            "Your sign-off (%(yours)s) comes at step %(later)s, once step %(step)s is complete: "
            "it waits now for %(awaited)s."
        ) % {
            "yours": function_label(function),
            "later": min(later),
            "step": state.awaited_step,
            "awaited": awaited,
        }
    return _("The policy does not wait for your approval now (it waits for: %(functions)s).") % {
        "functions": awaited
    }


def stall(postmortem, requirements, approvals, approvers) -> str:
    """Why the cell cannot bring the post-mortem to sign-off (its policy's `requirements`,
    this revision's `approvals` so far, the cell's active approver memberships), or "": the
    lead is refused the submission, and told when a departure leaves it waiting on nobody."""
    given = standing(postmortem, approvals)
    signed = {a.reviewer_id for a in given}
    functions = [m.function for m in approvers if m.user_id not in signed]
    missing = approval_policy.unfillable(postmortem.policy, requirements, given, functions)
    if not missing:
        return ""
    return _("Nobody in the cell can sign off for: %(functions)s. Add an approver first.") % {
        "functions": ", ".join(function_label(r.function) for r in missing)
    }


def can_review(user, incident, postmortem, requirements) -> bool:
    """Ask for changes: an approver of the cell whose function the policy asks for (its
    `requirements`, met or not), while it is in review, as for a statement."""
    if postmortem.status != PostmortemStatus.IN_REVIEW:
        return False
    function = approver_function(user, incident)
    return function is not None and approval_policy.asks_for(list(requirements), function)


def available_actions(
    user, incident, postmortem, state=None, approvals=(), *, signed=False, requirements=()
) -> list[str]:
    """What `user` may do now (in ACTIONS order); `postmortem` None: none exists yet;
    `signed`: a version of it is signed off; `requirements`: its policy's."""
    if postmortem is None:
        return [CREATE] if can_write(user, incident) else []
    names = []
    if can_write(user, incident):
        names.append(EDIT)
        if postmortem.status == PostmortemStatus.DRAFT:
            names.append(SUBMIT)
    if can_sign(user, incident, postmortem, state, approvals):
        names.append(APPROVE)
    if can_review(user, incident, postmortem, requirements):
        names.append(REQUEST_CHANGES)
    if can_share(user, incident, signed):
        names.append(SHARE)
    return names
