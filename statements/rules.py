"""What a user may do with a statement now: the one rule behind the actions' guards, the
statement page's forms and the API's `available_actions`.

Each action has one check here. `available_actions` runs every check without raising;
the action runs its own check on the locked, fresh row and gets the refusal it answers
with (NotAllowed 403, TransitionNotAllowed 409, StaleRevision 409), or False when the
request repeats what is already done (a double click: a no-op, not an error).

The checks read rows already loaded: the viewer's membership (from the incident's
prefetched cell, or given), the policy's requirements, the current approvals and the
revision authors (`selectors.attach_progress`). A list costs no query per statement."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from incidents.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    StaleRevision,
    TransitionNotAllowed,
    require,
)
from incidents.models import Membership
from incidents.people import display_name

from . import permissions, policy
from .models import EDITABLE_STATUSES, Statement, StatementStatus

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


def _edit(a: _Asking) -> bool:
    require(permissions.drafts(a.role), _("Observers cannot edit statements."))
    if a.statement.status not in EDITABLE_STATUSES:
        raise TransitionNotAllowed(
            _("A %(status)s statement cannot be edited; write a new one (a correction).")
            % {"status": a.statement.get_status_display().lower()}
        )
    return True


def _submit(a: _Asking) -> bool:
    require(permissions.drafts(a.role), _("Only cell members who draft can submit a statement."))
    if a.statement.status == S.IN_REVIEW:
        return False  # double click
    if a.statement.status not in (S.DRAFT, S.CHANGES_REQUESTED):
        raise TransitionNotAllowed(
            _("Only a draft or a statement with requested changes can be submitted.")
        )
    return True


def _reviewer(a: _Asking) -> None:
    require(a.function is not None, _("Only approvers of the cell review statements."))
    require(
        not permissions.wrote(a.user, a.statement),
        _("You wrote this text: someone else must review it (four-eyes rule)."),
    )


def _approve(a: _Asking, revision: int | None = None) -> bool:
    """A second click, or a second approver once the policy is met, changes nothing."""
    _reviewer(a)
    statement = a.statement
    if revision is not None and revision != statement.revision:
        raise StaleRevision(
            _("The text changed since you read it (now revision %(n)s). Read it again.")
            % {"n": statement.revision},
            current_revision=statement.revision,
            current_text=statement.text,
        )
    progress = statement.progress
    already = any(r.reviewer_id == a.user.pk for r in statement.approvals)
    if already or (statement.status == S.APPROVED and progress.complete):
        return False
    # APPROVED but incomplete: the policy was tightened in the admin after approval.
    if statement.status not in (S.IN_REVIEW, S.APPROVED):
        raise TransitionNotAllowed(_("Only a statement in review can be approved."))
    if not progress.can_sign(a.function):
        raise NotAllowed(
            _("Your approval is not the one this statement waits for now: %(who)s.")
            % {"who": ", ".join(str(r) for r in progress.missing)}
        )
    return True


def _request_changes(a: _Asking) -> bool:
    """An approver the policy asks for may send the text back while it is in review, and
    also once approved until it is published: a late legal concern must be able to stop
    publication."""
    _reviewer(a)
    require(
        policy.asks_for(list(a.statement.policy.requirements.all()), a.function),
        _("This statement's approval policy does not ask for your function."),
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
        _("Only the spokesperson publishes statements.")
        if not statement.policy.allow_lead_publish
        else _("Only the spokesperson or the lead publishes statements."),
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
    return True


def _withdraw(a: _Asking) -> bool:
    require(
        permissions.withdraws(a.user, a.role, a.statement),
        _("Only the author or the lead can withdraw a statement."),
    )
    if a.statement.status == S.WITHDRAWN:
        return False
    if a.statement.status == S.PUBLISHED:
        raise TransitionNotAllowed(
            _("A published statement is never withdrawn: publish a correction instead.")
        )
    return True


def _correct(a: _Asking) -> bool:
    require(
        permissions.drafts(a.role),
        str(permissions.NOT_A_DRAFTER),
    )
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


def _asking(user, statement: Statement, member) -> _Asking:
    if member is LOOKUP:
        member = permissions.membership(user, statement.incident)
    return _Asking(
        user=user,
        statement=statement,
        role=member.role if member else None,
        function=permissions.function_of(member),
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
    asking = _asking(user, statement, member)
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
