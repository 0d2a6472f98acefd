"""Replies approved in advance: the one rule, used by the actions, the pages and the API.

The approvers the incident's approval policy names sign a reply template's exact text in
advance (`TemplatePreapproval`, one row per signature, on the SHA-256 of the text they
read). A reply made from that template (the reply queue renders it with the mention's
values and records the template and both hashes on the statement) whose text is still
word for word what the template gave is approved when it is submitted, if the incident's
policy lets pre-approved replies skip review (`IncidentPolicy.preapproved_replies`). Any
other edit, a template changed since, withdrawn signatures, or a policy switched off: the
normal review.

Templates are the playbooks app's; statements reach them through `drafting` only."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from incidents.people import display_name

from . import drafting, permissions, policy
from .models import (
    ApprovalPolicy,
    IncidentPolicy,
    Statement,
    StatementKind,
    TemplatePreapproval,
    text_hash,
)
from .rules import AND, function_label, joined_functions


def fingerprint(text: str) -> str:
    """What a signature is given on: the SHA-256 of the template's text as typed."""
    return text_hash(text)


def reply_templates(incident) -> list:
    """The incident's reply templates (objects with id, name, kind, channel, language,
    text), in the playbook's order. One query."""
    return [t for t in drafting.templates_of(incident) if t.kind == StatementKind.REPLY]


def incident_settings(incident) -> tuple[ApprovalPolicy | None, bool]:
    """The approval policy of the incident's new statements (its playbook's, else the
    default one; None when none is configured) and whether pre-approved replies skip review
    (on when the incident has no policy of its own). Two queries."""
    chosen = (
        IncidentPolicy.objects.filter(incident=incident)
        .select_related("policy")
        .prefetch_related("policy__requirements")
        .first()
    )
    if chosen is not None:
        return chosen.policy, chosen.preapproved_replies
    default = (
        ApprovalPolicy.objects.filter(is_default=True).prefetch_related("requirements").first()
    )
    return default, True


@dataclass
class TemplateState:
    """Where one reply template stands: the standing signatures on its current text, those
    left on an earlier text (the template changed since: they no longer count), and the
    policy's progress over the current ones."""

    template: object
    fingerprint: str
    signatures: list[TemplatePreapproval] = field(default_factory=list)
    outdated: list[TemplatePreapproval] = field(default_factory=list)
    progress: policy.Progress | None = None
    enabled: bool = True  # the incident lets pre-approved replies skip review

    @property
    def preapproved(self) -> bool:
        return bool(self.signatures) and self.progress is not None and self.progress.complete

    @property
    def signers(self) -> list[TemplatePreapproval]:
        """The signatures that meet the policy (each meets one requirement)."""
        return [signature for _requirement, signature in self.progress.met] if self.progress else []

    def signed_by(self, user) -> TemplatePreapproval | None:
        return next((s for s in self.signatures if s.approver_id == user.pk), None)

    def standing_of(self, user) -> list[TemplatePreapproval]:
        return [s for s in [*self.signatures, *self.outdated] if s.approver_id == user.pk]


def template_states(
    incident, templates: list | None = None, *, approval_policy=None, enabled=None
) -> list[TemplateState]:
    """Each reply template's state, in order. Four queries for any number of templates
    (the templates, the policy, its requirements, the signatures); one without any."""
    templates = reply_templates(incident) if templates is None else templates
    if not templates:
        return []
    if approval_policy is None or enabled is None:
        current, on = incident_settings(incident)
        approval_policy = approval_policy or current
        enabled = on if enabled is None else enabled
    requirements = list(approval_policy.requirements.all()) if approval_policy else []
    rows = list(
        TemplatePreapproval.objects.filter(
            incident=incident,
            template_id__in=[t.pk for t in templates],
            withdrawn_at__isnull=True,
        )
        .select_related("approver")
        .order_by("approved_at", "id")
    )
    states = []
    for template in templates:
        mark = fingerprint(template.text)
        mine = [r for r in rows if r.template_id == template.pk]
        current = [r for r in mine if r.fingerprint == mark]
        state = TemplateState(
            template=template,
            fingerprint=mark,
            signatures=current,
            outdated=[r for r in mine if r.fingerprint != mark],
            enabled=enabled,
        )
        if approval_policy is not None:
            state.progress = policy.progress(approval_policy, requirements, current)
        states.append(state)
    return states


def template_state(incident, template_id: int, **kwargs) -> TemplateState | None:
    template = next((t for t in reply_templates(incident) if t.pk == template_id), None)
    if template is None:
        return None
    return template_states(incident, [template], **kwargs)[0]


def signers_sentence(signatures) -> str:
    """ "Inès Bernard (Legal) and David Keller (Communications)"."""
    names = [
        f"{display_name(s.approver)} ({function_label(s.function)})"
        if s.function
        else display_name(s.approver)
        for s in signatures
    ]
    if len(names) <= 1:
        return "".join(names)
    return str(AND) % {"first": ", ".join(names[:-1]), "last": names[-1]}


# --- Who may sign a template in advance ---------------------------------------------------

PREAPPROVE = "preapprove"
WITHDRAW = "withdraw_preapproval"


def preapprove_refusal(user, incident, state: TemplateState) -> str | None:
    """Why this user may not sign this template in advance now, or None when they may:
    an approver of the cell whose function the policy still awaits on its current text
    (the same steps as a statement's approval), who has not signed it yet."""
    function = permissions.approver_function(user, incident)
    if function is None:
        return _("Only the cell's approvers approve reply templates in advance.")
    if state.progress is None:
        return _("No approval policy is configured (see the admin panel).")
    if state.signed_by(user) is not None:
        return _("You have already approved this text in advance.")
    if state.progress.complete:
        return _("This template is already approved in advance.")
    blanks = drafting.unfilled_blanks(state.template.text)
    if blanks:
        # Filled in by hand, a reply from it changes the text, and goes through review:
        # the advance approval promised what it could not keep.
        return _(
            "This template still holds %(blanks)s, filled in by hand in each reply (which "
            "then goes through review): replace it with a placeholder or with words first."
        ) % {"blanks": ", ".join(blanks)}
    if not state.progress.can_sign(function):
        awaited = [r.function for r in state.progress.awaited]
        return _("The approval policy awaits %(what)s for this template now.") % {
            "what": joined_functions(awaited, state.progress.mode)
        }
    return None


def available_actions(user, incident, state: TemplateState) -> list[str]:
    found = []
    if preapprove_refusal(user, incident, state) is None:
        found.append(PREAPPROVE)
    if state.standing_of(user):
        found.append(WITHDRAW)
    return found


# --- A reply made from a template: approved in advance or not -----------------------------


@dataclass
class ReplyCheck:
    """What the statement page and the API say about a statement made from a template, and
    whether submitting it approves it at once (`applies`)."""

    template_name: str
    applies: bool
    sentence: str
    state: TemplateState | None = None

    @property
    def signers(self) -> list[TemplatePreapproval]:
        return self.state.signers if self.state and self.applies else []

    def as_json(self) -> dict:
        return {
            "template": self.state.template.pk if self.state else None,
            "template_name": self.template_name,
            "applies": self.applies,
            "detail": self.sentence,
            "approved_in_advance_by": [
                {"id": s.approver_id, "name": display_name(s.approver), "function": s.function}
                for s in self.signers
            ],
        }


def check_reply(statement: Statement) -> ReplyCheck | None:
    """None for a statement not made from a template. Otherwise whether its current text
    is approved in advance: a reply, still word for word the template's rendering (only
    the placeholders filled), from a template whose text has not changed since and whose
    signatures meet the statement's policy, none of them by someone who wrote the text
    (four-eyes), in an incident that lets pre-approved replies skip review. Reads the
    statement's revision authors when the selectors loaded them; about five queries."""
    if statement.template_id is None or statement.kind != StatementKind.REPLY:
        return None
    incident = statement.incident
    _current, enabled = incident_settings(incident)
    state = template_state(
        incident, statement.template_id, approval_policy=statement.policy, enabled=enabled
    )
    if state is None:
        return ReplyCheck(
            "", False, _("The template this reply was made from is gone: it goes through review.")
        )
    name = state.template.name

    def refused(sentence: str) -> ReplyCheck:
        return ReplyCheck(name, False, sentence % {"name": name}, state)

    if not state.preapproved:
        return refused(
            _("Made from “%(name)s”, which is not approved in advance: it goes through review.")
        )
    if state.fingerprint != statement.template_fingerprint:
        return refused(
            _("The template “%(name)s” changed after this reply was made: it goes through review.")
        )
    if not enabled:
        return refused(
            _(
                "Made from “%(name)s”, approved in advance, but this incident's policy sends "
                "every reply through review."
            )
        )
    if text_hash(statement.text) != statement.rendered_hash:
        return refused(
            _(
                "Made from “%(name)s”, approved in advance, but the text was changed: it goes "
                "through the normal review."
            )
        )
    writers = [s for s in state.signers if permissions.wrote(s.approver, statement)]
    if writers:
        return ReplyCheck(
            name,
            False,
            _(
                "%(names)s approved “%(name)s” in advance and also wrote this reply: it goes "
                "through review (four-eyes rule)."
            )
            % {"names": signers_sentence(writers), "name": name},
            state,
        )
    return ReplyCheck(
        name,
        True,
        _(
            "Made from “%(name)s”, approved in advance by %(names)s: submitted as it is, it is "
            "approved at once. Any change other than its placeholders sends it through review."
        )
        % {"name": name, "names": signers_sentence(state.signers)},
        state,
    )
