"""Who hears of each hand-off, and what they are told: the bell notifications (and, through
the notifications app, the e-mail and chat messages) that the actions write with
`incidents.notifications.actions.notify`, inside their own transaction, so that a
notification exists exactly when the event that caused it does.

Only actions call these: statements/actions.py for the statement's workflow, and the cell's
actions in incidents/actions.py through `incidents.extensions.cell_changed` (registered in
statements/apps.py: the core cannot import the notifications). Nobody is notified of their
own action, with one exception: the lead who removes the last approver for a function a
statement waits on is told, like any lead, that it now waits on nobody (a problem to fix,
not news of what they did).

Subjects and the words around people's own are written in each reader's language
(`per_reader`), whoever acted. They say only what the kind's label and the incident, shown beside
them by the bell and in every message ("Approval needed: “Holding statement” (revision 2,
X / Twitter) — Recall rumour"), do not."""

from django.urls import reverse
from django.utils.translation import gettext as _

from incidents.models import Membership, Role
from incidents.notifications.actions import notifications_settled, notify, per_reader
from incidents.notifications.choices import NotificationKind
from incidents.people import display_name

from . import outlets, rules, selectors
from .models import Statement

Kind = NotificationKind
# Roles whose holder has work to do when they get it (an observer only watches).
WORKING_ROLES = (Role.LEAD, Role.DRAFTER, Role.APPROVER, Role.SPOKESPERSON)
COMMENT_IN_SUBJECT = 80


def statement_url(statement: Statement) -> str:
    return reverse("statement-detail", args=[statement.pk])


def _others(users, actor) -> list:
    """Active people other than the actor, each once."""
    seen, kept = set(), []
    for user in users:
        if user is None or not user.is_active or user.pk in seen:
            continue
        if actor is not None and user.pk == actor.pk:
            continue
        seen.add(user.pk)
        kept.append(user)
    return kept


def _send(statement: Statement, *, users, kind, subject, body="", actor=None) -> int:
    users = _others(users, actor)
    if not users:
        return 0
    return notify(
        users=users,
        kind=kind,
        subject=subject,
        url=statement_url(statement),
        incident=statement.incident,
        body=body,
        actor=actor,
    )


def _role_holders(statement: Statement, *roles) -> list:
    return [m.user for m in rules.cell_of(statement.incident) if m.role in roles]


# --- The statement's workflow -------------------------------------------------------------------


def acted(statement: Statement, *, actor) -> int:
    """The actor reviewed or published the statement: what their bell held about it
    ("Approval needed", "Ready to publish") is done."""
    return notifications_settled(user=actor, url=statement_url(statement))


def review_requested(statement: Statement, *, actor, users=None) -> int:
    """The approvers the statement waits for now (or `users`): the text to approve."""
    users = rules.awaited_holders(statement) if users is None else users
    subject = per_reader(
        lambda: (
            _("“%(what)s” (revision %(n)s, %(channel)s)")
            % {
                "what": statement,
                "n": statement.revision,
                "channel": statement.get_channel_display(),
            }
        )
    )
    return _send(
        statement,
        users=users,
        kind=Kind.REVIEW_REQUESTED,
        subject=subject,
        body=statement.text,
        actor=actor,
    )


def changes_requested(statement: Statement, *, actor, comment: str) -> int:
    """The author and whoever saved the current revision, with the comment."""
    short = comment if len(comment) <= COMMENT_IN_SUBJECT else comment[:COMMENT_IN_SUBJECT] + "…"
    subject = per_reader(
        lambda: (
            _("“%(what)s”, by %(name)s: %(comment)s")
            % {"what": statement, "name": display_name(actor), "comment": short}
        )
    )
    return _send(
        statement,
        users=[statement.author, statement.revised_by],
        kind=Kind.CHANGES_REQUESTED,
        subject=subject,
        body=comment,
        actor=actor,
    )


def ready_to_publish(statement: Statement, *, actor) -> int:
    """The cell's spokespeople (and its lead when the policy lets the lead publish); nobody
    for a text an app shows once approved (a crisis page's section: nothing to publish),
    nor while an app refuses its publication (an update while its page is dark: told when
    the page goes live)."""
    if outlets.shown_on_approval(statement) or outlets.publish_refusal(statement):
        return 0
    subject = per_reader(
        lambda: (
            _("“%(what)s”, on %(channel)s")
            % {"what": statement, "channel": statement.get_channel_display()}
        )
    )
    return _send(
        statement,
        users=rules.publishers(statement),
        kind=Kind.READY_TO_PUBLISH,
        subject=subject,
        body=statement.text,
        actor=actor,
    )


def published(statement: Statement, *, actor) -> int:
    """The whole cell but the publisher, with where it was posted."""
    subject = per_reader(
        lambda: (
            _("“%(what)s”, on %(channel)s by %(name)s")
            % {
                "what": statement,
                "channel": statement.get_channel_display(),
                "name": display_name(actor),
            }
        )
    )
    body = "\n\n".join(part for part in (statement.published_url, statement.text) if part)
    return _send(
        statement,
        users=[m.user for m in rules.cell_of(statement.incident)],
        kind=Kind.PUBLISHED,
        subject=subject,
        body=body,
        actor=actor,
    )


def waits_on_nobody(statement: Statement, gaps, *, actor) -> int:
    """The incident's lead(s): the statement in review can no longer be approved by the
    cell, and whom to add (the roster's people for the function)."""
    subject = per_reader(
        lambda: (
            _("“%(what)s” waits on nobody: %(why)s")
            % {"what": statement, "why": " ".join(rules.gap_sentence(gap) for gap in gaps)}
        )
    )
    body = per_reader(lambda: rules.stall_refusal(statement, gaps, leads=True).message)
    leads = _role_holders(statement, Role.LEAD)
    # The acting lead too: see the module's docstring.
    return _send(statement, users=leads, kind=Kind.ESCALATED, subject=subject, body=body)


def _shortfalls(gaps) -> dict[str, int]:
    return {gap.function: gap.short for gap in gaps}


def newly_stalled(before: dict[int, dict[str, int]], statements, cell) -> list:
    """(statement, gaps) of the statements whose shortfall grew since `before`."""
    found = []
    for statement in statements:
        gaps = rules.approval_gaps(statement, cell)
        was = before.get(statement.pk, {})
        if any(short > was.get(function, 0) for function, short in _shortfalls(gaps).items()):
            found.append((statement, gaps))
    return found


def shortfalls(statements, cell=None) -> dict[int, dict[str, int]]:
    """Each statement's unmet sign-offs by function, for a later `newly_stalled`."""
    return {s.pk: _shortfalls(rules.approval_gaps(s, cell)) for s in statements}


# --- The cell (incidents.extensions.cell_changed) ---------------------------------------------


def _joined_the_cell(member: Membership, prior: Membership | None, incident, actor) -> None:
    if member.role == Role.LEAD:
        line = "lead"
    elif prior is None:
        line = "added"
    elif member.role in WORKING_ROLES and (member.role, member.function) != (
        prior.role,
        prior.function,
    ):
        line = "role"
    else:
        return  # an observer now, or nothing that changes their work

    def what() -> dict:
        return {
            "incident": incident.title,
            "role": member.role_display,
            "name": display_name(actor) if actor is not None else _("The system"),
        }

    def subject() -> str:
        if line == "lead":
            return _("You are now the lead")
        if line == "added":
            return _("You are %(role)s, added by %(name)s") % what()
        return _("Your role is now %(role)s") % what()

    notify(
        users=[member.user],
        kind=Kind.ADDED_TO_CELL,
        subject=per_reader(subject),
        url=reverse("incident-room", args=[incident.pk]),
        incident=incident,
        body=per_reader(
            lambda: _("%(name)s put you in the crisis cell of “%(incident)s” as %(role)s.") % what()
        ),
        actor=actor,
    )


def cell_changed(incident, *, actor, started, ended) -> None:
    """After a member is added, changes role or leaves, or the lead hands over (under the
    incident lock, in the action's transaction):

    - each person who got work is told (added, a working role, the lead);
    - a new approver hears of the statements in review that wait for their function;
    - the lead hears of each statement in review that this change leaves waiting on nobody.
    """
    cell = list(Membership.objects.active().filter(incident=incident).select_related("user"))
    incident.active_memberships = cell  # the rules read the cell from here
    ended_by_user = {m.user_id: m for m in ended}
    for member in started:
        if actor is None or member.user_id != actor.pk:
            _joined_the_cell(member, ended_by_user.get(member.user_id), incident, actor)
    in_review = selectors.statements_in_review(incident)
    if not in_review:
        return
    for member in started:
        if member.role != Role.APPROVER or (actor is not None and member.user_id == actor.pk):
            continue
        for statement in in_review:
            if member.user in rules.awaited_holders(statement, cell):
                review_requested(statement, actor=actor, users=[member.user])
    started_ids = {m.pk for m in started}
    before = [m for m in cell if m.pk not in started_ids] + [m for m in ended if m.user.is_active]
    stalls = newly_stalled(shortfalls(in_review, before), in_review, cell)
    for statement, gaps in stalls:
        waits_on_nobody(statement, gaps, actor=actor)


def policy_stall_check(statements, before, *, actor) -> int:
    """After an approval policy was edited: tell the leads of the statements (in review,
    under that policy) that it left waiting on nobody. Returns how many."""
    stalls = newly_stalled(before, statements, None)
    for statement, gaps in stalls:
        waits_on_nobody(statement, gaps, actor=actor)
    return len(stalls)
