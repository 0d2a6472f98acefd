"""Every write on statements. Same path as incidents: check, lock, write, record on the
timeline, publish live after commit. Locks are always taken incident first, then statement,
so two actions can never wait on each other in opposite orders."""

import logging

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents import chains
from incidents import permissions as incident_permissions
from incidents.actions import CLOCK_SKEW, lock_incident, timeline_record
from incidents.errors import InvalidInput, StaleRevision, require
from incidents.models import EntryKind, Incident, Role
from incidents.notifications.actions import notify, per_reader
from incidents.notifications.choices import NotificationKind
from incidents.people import display_name
from incidents.text import one_line

from . import handoffs, permissions, policy, preapproval, rules, selectors
from .limits import is_threadable, normalize, over_limit, split_thread
from .models import (
    CHANNEL_LIMITS,
    MAX_TEXT,
    ApprovalPolicy,
    Channel,
    Decision,
    Escalation,
    IncidentPolicy,
    Language,
    Review,
    Revision,
    Statement,
    StatementKind,
    StatementStatus,
    TemplatePreapproval,
    text_hash,
)

S = StatementStatus
logger = logging.getLogger(__name__)


def _lock(statement: Statement) -> tuple[Incident, Statement]:
    incident = lock_incident(statement.incident)
    statement = Statement.objects.select_for_update().select_related("policy").get(pk=statement.pk)
    statement.incident = incident
    return incident, selectors.load_progress(statement)


def _reload_progress(statement: Statement) -> Statement:
    """Read the statement's reviews and revisions again after this action wrote some, so
    that who is awaited next is judged on what was just written."""
    for attr in ("all_reviews", "_rev"):
        statement.__dict__.pop(attr, None)
    return selectors.load_progress(statement)


def _clean_text(text: str) -> str:
    text = normalize(text)
    if not text:
        raise InvalidInput(_("The statement has no text."))
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            _("A statement is limited to %(n)s characters.") % {"n": f"{MAX_TEXT:,}"}
        )
    return text


def _check_fits(text: str, channel: str) -> None:
    excess = over_limit(text, channel)
    if not excess:
        return
    message = _("%(n)s characters over the %(limit)s-character limit of %(channel)s.") % {
        "n": excess,
        "limit": CHANNEL_LIMITS[channel],
        "channel": Channel(channel).label,
    }
    extra = {}
    if is_threadable(channel):
        thread = split_thread(text, CHANNEL_LIMITS[channel], channel)
        message += " " + _("Split it into a thread of %(n)s posts.") % {"n": len(thread)}
        extra["suggested_thread"] = thread
    raise InvalidInput(message, **extra)


def _data(statement: Statement, **extra) -> dict:
    return {
        "statement": statement.pk,
        # The committee's name for it: ten crisis page texts read alike by kind and channel.
        "title": statement.title,
        "kind": statement.kind,
        "channel": statement.channel,
        "language": statement.language,
        "revision": statement.revision,
        "status": statement.status,
        **extra,
    }


@transaction.atomic
def incident_policy_set(*, incident: Incident, actor, policy: ApprovalPolicy) -> IncidentPolicy:
    """Choose the approval policy of the incident's new statements (lead only). Statements
    already drafted keep theirs: an approval is given under the policy it was asked under.
    The caller records why on the timeline (e.g. the playbook it applied)."""
    incident = lock_incident(incident)
    require(
        incident_permissions.can_lead(actor, incident),
        _("Only the lead can choose the approval policy."),
    )
    chosen, _created = IncidentPolicy.objects.update_or_create(
        incident=incident, defaults={"policy": policy, "set_at": timezone.now(), "set_by": actor}
    )
    return chosen


def default_policy() -> ApprovalPolicy:
    found = ApprovalPolicy.objects.filter(is_default=True).first()
    if found is None:
        raise InvalidInput(_("No default approval policy is configured (see the admin panel)."))
    return found


@transaction.atomic
def statement_create(
    *,
    incident: Incident,
    actor,
    kind: str,
    channel: str,
    language: str,
    text: str,
    title: str = "",
    reply_to_account: str = "",
    reply_to_url: str = "",
    corrects: Statement | None = None,
    approval_policy: ApprovalPolicy | None = None,
    template_id: int | None = None,
    template_text: str = "",
) -> Statement:
    """A new draft with its first revision. `template_id` and `template_text`: the
    template `text` was rendered from (statements.drafting), remembered by their hashes so
    that a reply still word for word that rendering can be approved in advance
    (statements.preapproval)."""
    for value, choices, label in (
        (kind, StatementKind, _("kind")),
        (channel, Channel, _("channel")),
        (language, Language, _("language")),
    ):
        if value not in choices.values:
            raise InvalidInput(_("Unknown %(what)s: %(value)s") % {"what": label, "value": value})
    text = _clean_text(text)
    if kind == StatementKind.REPLY and not (reply_to_account.strip() or reply_to_url.strip()):
        raise InvalidInput(_("An individual reply names the account or the post it answers."))
    if kind == StatementKind.CORRECTION and corrects is None:
        raise InvalidInput(_("A correction says which published statement it corrects."))
    if corrects is not None and (
        corrects.incident_id != incident.pk or corrects.status != S.PUBLISHED
    ):
        raise InvalidInput(_("Only a published statement of this incident can be corrected."))
    incident = lock_incident(incident)
    require(
        permissions.can_draft(actor, incident),
        str(permissions.NOT_A_DRAFTER),
    )
    now = timezone.now()
    statement = Statement.objects.create(
        incident=incident,
        kind=kind,
        channel=channel,
        language=language,
        title=one_line(title),  # one line: it ends up in email subjects
        reply_to_account=reply_to_account.strip(),
        reply_to_url=reply_to_url.strip(),
        corrects=corrects,
        policy=approval_policy or selectors.incident_policy(incident) or default_policy(),
        author=actor,
        text=text,
        revised_by=actor,
        created_at=now,
        template_id=template_id,
        template_fingerprint=preapproval.fingerprint(template_text) if template_id else "",
        rendered_hash=text_hash(text) if template_id else "",
    )
    first = Revision.objects.create(
        statement=statement,
        number=1,
        text=text,
        author=actor,
        created_at=now,
        content_hash=text_hash(text),
    )
    chains.anchor_fold(chains.chain_name(chains.REVISIONS, statement.pk), first.digest())
    chains.open_chain(chains.chain_name(chains.REVIEWS, statement.pk))
    timeline_record(
        incident,
        kind=EntryKind.STATEMENT_DRAFTED,
        actor=actor,
        data=_data(statement, corrects=corrects.pk if corrects else None),
    )
    return statement


@transaction.atomic
def statement_edit(*, statement: Statement, actor, text: str, base_revision: int) -> Statement:
    """Save new text as the next revision. `base_revision` is the revision the editor
    started from: if someone saved in between, refuse with their text (no lost update).
    Editing after submission voids every approval: the new text needs a new review."""
    text = _clean_text(text)
    incident, statement = _lock(statement)
    rules.check(rules.EDIT, actor, statement)
    if base_revision != statement.revision:
        current = Revision.objects.select_related("author").get(
            statement=statement, number=statement.revision
        )
        raise StaleRevision(
            _(
                "%(name)s saved revision %(n)s while you were editing revision %(base)s. "
                "Their text is below: merge your changes into it and save again."
            )
            % {
                "name": display_name(current.author),
                "n": current.number,
                "base": base_revision,
            },
            current_revision=current.number,
            current_text=current.text,
        )
    if text == statement.text:
        return statement
    had_approvals = rules.edit_voids_approval(statement)
    old_status = statement.status
    statement.revision += 1
    statement.text = text
    statement.revised_by = actor
    if statement.status == S.APPROVED:
        statement.status = S.IN_REVIEW
        statement.approved_at = None
    now = timezone.now()
    revision = Revision.objects.create(
        statement=statement,
        number=statement.revision,
        text=text,
        author=actor,
        created_at=now,
        content_hash=text_hash(text),
    )
    chains.anchor_fold(chains.chain_name(chains.REVISIONS, statement.pk), revision.digest())
    statement.save(update_fields=["revision", "text", "revised_by", "status", "approved_at"])
    timeline_record(
        incident,
        kind=EntryKind.STATEMENT_REVISED,
        actor=actor,
        data=_data(statement, approvals_voided=had_approvals, old_status=old_status),
    )
    if statement.status == S.IN_REVIEW:
        # The approvers read another text: they are asked again, for this revision.
        handoffs.review_requested(_reload_progress(statement), actor=actor)
    return statement


@transaction.atomic
def statement_submit(*, statement: Statement, actor) -> Statement:
    """Send for approval; the approvers it waits for are notified. Refused (NobodyToApprove,
    409) while a step of its policy has nobody in the cell to sign it off, with the
    functions missing and whom the playbook roster suggests adding."""
    incident, statement = _lock(statement)
    if not rules.check(rules.SUBMIT, actor, statement):
        return statement  # double click
    _check_fits(statement.text, statement.channel)
    check = preapproval.check_reply(statement)
    statement.status = S.IN_REVIEW
    statement.submitted_at = timezone.now()
    statement.save(update_fields=["status", "submitted_at"])
    timeline_record(
        incident,
        kind=EntryKind.STATEMENT_SUBMITTED,
        actor=actor,
        data=_data(statement, preapproved=bool(check and check.applies)),
    )
    if check is not None and check.applies:
        return _approve_in_advance(incident, statement, check, actor=actor)
    handoffs.review_requested(statement, actor=actor)
    return statement


def _approve_in_advance(incident, statement: Statement, check, *, actor) -> Statement:
    """A reply whose text is its template's rendering, signed in advance: each signature
    that meets the policy becomes a review of this revision (decision "approved in
    advance", at the time it is applied, naming the template and when it was signed), and
    the statement is approved, recorded on the timeline without an actor (the approvers
    signed before the text existed; the submitter approved nothing)."""
    now = timezone.now()
    for signature in check.signers:
        review = Review.objects.create(
            statement=statement,
            revision=statement.revision,
            reviewer=signature.approver,
            function=signature.function,
            decision=Decision.PREAPPROVED,
            comment=_("Reply template “%(name)s”, approved in advance on %(when)s (UTC).")
            % {
                "name": check.template_name,
                "when": signature.approved_at.strftime("%Y-%m-%d %H:%M"),
            },
            created_at=now,
        )
        chains.anchor_fold(chains.chain_name(chains.REVIEWS, statement.pk), review.digest())
    statement = _reload_progress(statement)
    if not statement.progress.complete:  # cannot happen: check_reply read the same rows
        handoffs.review_requested(statement, actor=actor)
        return statement
    statement.status = S.APPROVED
    statement.approved_at = now
    statement.save(update_fields=["status", "approved_at"])
    names = preapproval.signers_sentence(check.signers)
    timeline_record(
        incident,
        kind=EntryKind.STATEMENT_APPROVED,
        actor=None,
        text=_("Approved in advance by %(names)s (template “%(name)s”).")
        % {"names": names, "name": check.template_name},
        data=_data(
            statement,
            fully_approved=True,
            preapproved={
                "template": statement.template_id,
                "template_name": check.template_name,
                "approvers": [s.approver_id for s in check.signers],
                "names": names,
                "submitted_by": actor.pk,
            },
        ),
    )
    handoffs.ready_to_publish(statement, actor=actor)
    return statement


# --- Reply templates approved in advance ------------------------------------------------------


def _template_data(state, **extra) -> dict:
    return {
        "template": state.template.pk,
        "template_name": state.template.name,
        "language": state.template.language,
        "fingerprint": state.fingerprint,
        **extra,
    }


@transaction.atomic
def template_preapprove(
    *, incident: Incident, template_id: int, actor, fingerprint: str
) -> TemplatePreapproval | None:
    """Sign a reply template's exact text in advance, as an approver of the cell whose
    function the incident's policy awaits (the same steps as a statement's approvals).
    `fingerprint` is the SHA-256 of the text the approver read (`preapproval.fingerprint`):
    a text changed since is refused (StaleRevision, 409), as an approval of an old revision
    is. A second click is a no-op (None)."""
    incident = lock_incident(incident)
    state = preapproval.template_state(incident, template_id)
    if state is None:
        raise InvalidInput(_("This incident has no reply template with this id."))
    if fingerprint != state.fingerprint:
        raise StaleRevision(
            _("The template's text changed while you were reading it: read it again."),
            fingerprint=state.fingerprint,
        )
    if state.signed_by(actor) is not None:
        return None
    refusal = preapproval.preapprove_refusal(actor, incident, state)
    require(refusal is None, refusal or "")
    function = permissions.approver_function(actor, incident)
    try:
        with transaction.atomic():
            signature = TemplatePreapproval.objects.create(
                incident=incident,
                template_id=template_id,
                template_name=state.template.name[:150],
                fingerprint=state.fingerprint,
                text=state.template.text,
                approver=actor,
                function=function,
                approved_at=timezone.now(),
            )
    except IntegrityError:  # the same signature raced in through another connection
        return None
    complete = preapproval.template_state(incident, template_id).preapproved
    timeline_record(
        incident,
        kind=EntryKind.TEMPLATE_PREAPPROVED,
        actor=actor,
        text=state.template.text,
        data=_template_data(state, function=function, complete=complete),
    )
    return signature


@transaction.atomic
def template_preapproval_withdraw(
    *, incident: Incident, template_id: int, actor, reason: str = ""
) -> int:
    """Withdraw one's own standing signatures on a reply template (on its current text or
    an earlier one). Replies already approved keep their reviews; the next ones made from
    it go through review until it is signed again. Returns how many were withdrawn (0: a
    double click)."""
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise InvalidInput(_("Say why in 500 characters or fewer."))
    incident = lock_incident(incident)
    state = preapproval.template_state(incident, template_id)
    if state is None:
        raise InvalidInput(_("This incident has no reply template with this id."))
    mine = state.standing_of(actor)
    if not mine:
        return 0
    now = timezone.now()
    TemplatePreapproval.objects.filter(pk__in=[s.pk for s in mine]).update(
        withdrawn_at=now, withdrawn_by=actor
    )
    timeline_record(
        incident,
        kind=EntryKind.TEMPLATE_PREAPPROVAL_WITHDRAWN,
        actor=actor,
        text=reason,
        data=_template_data(state, was_complete=state.preapproved),
    )
    return len(mine)


@transaction.atomic
def preapproved_replies_set(*, incident: Incident, actor, enabled: bool) -> IncidentPolicy:
    """Whether replies made from templates approved in advance skip review in this
    incident (lead only; recorded on the timeline). Without a policy of its own the
    incident gets the default one, which it followed already."""
    incident = lock_incident(incident)
    require(
        incident_permissions.can_lead(actor, incident),
        _("Only the lead decides whether pre-approved replies skip review."),
    )
    chosen = IncidentPolicy.objects.filter(incident=incident).first()
    if chosen is None:
        chosen = IncidentPolicy.objects.create(
            incident=incident, policy=default_policy(), set_at=timezone.now(), set_by=actor
        )
    if chosen.preapproved_replies == enabled:
        return chosen
    chosen.preapproved_replies = enabled
    chosen.save(update_fields=["preapproved_replies"])
    timeline_record(
        incident,
        kind=EntryKind.PREAPPROVED_REPLIES_SET,
        actor=actor,
        data={"enabled": enabled, "policy": chosen.policy.name},
    )
    return chosen


@transaction.atomic
def statement_approve(
    *, statement: Statement, actor, revision: int, comment: str = ""
) -> Statement:
    """Approve the exact revision the approver read. A second click, or a second approver
    once the policy is met, changes nothing. Completing a step notifies the next step's
    approvers; completing the policy, those who publish."""
    incident, statement = _lock(statement)
    if not rules.check(rules.APPROVE, actor, statement, revision=revision):
        return statement
    step_before = statement.progress.awaited_step
    function = permissions.approver_function(actor, incident)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                statement=statement,
                revision=revision,
                reviewer=actor,
                function=function,
                decision=Decision.APPROVED,
                comment=comment.strip(),
                created_at=timezone.now(),
            )
    except IntegrityError:  # the same approval raced in through another connection
        return statement
    chains.anchor_fold(chains.chain_name(chains.REVIEWS, statement.pk), review.digest())
    statement = _reload_progress(statement)
    progress = statement.progress
    if progress.complete and statement.status != S.APPROVED:
        statement.status = S.APPROVED
        statement.approved_at = timezone.now()
        statement.save(update_fields=["status", "approved_at"])
    timeline_record(
        incident,
        kind=EntryKind.STATEMENT_APPROVED,
        actor=actor,
        text=comment.strip(),
        data=_data(statement, function=function, fully_approved=progress.complete),
    )
    if progress.complete:
        handoffs.ready_to_publish(statement, actor=actor)
    elif progress.awaited_step != step_before:
        handoffs.review_requested(statement, actor=actor)
    handoffs.acted(statement, actor=actor)
    return statement


@transaction.atomic
def statement_request_changes(
    *, statement: Statement, actor, comment: str, revision: int | None = None
) -> Statement:
    """Send the text back with a comment (required). `revision`, when given, is the one
    the approver read: a newer one is refused (StaleRevision, 409), as for an approval."""
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput(_("Say what must change: a comment is required."))
    incident, statement = _lock(statement)
    if not rules.check(rules.REQUEST_CHANGES, actor, statement, revision=revision):
        return statement
    function = permissions.approver_function(actor, incident)
    review = Review.objects.create(
        statement=statement,
        revision=statement.revision,
        reviewer=actor,
        function=function,
        decision=Decision.CHANGES_REQUESTED,
        comment=comment,
        created_at=timezone.now(),
    )
    chains.anchor_fold(chains.chain_name(chains.REVIEWS, statement.pk), review.digest())
    statement.status = S.CHANGES_REQUESTED
    statement.approved_at = None
    statement.save(update_fields=["status", "approved_at"])
    timeline_record(
        incident,
        kind=EntryKind.STATEMENT_CHANGES_REQUESTED,
        actor=actor,
        text=comment,
        data=_data(statement, function=function),
    )
    handoffs.changes_requested(statement, actor=actor, comment=comment)
    handoffs.acted(statement, actor=actor)
    return statement


SOCIAL_CHANNELS = (
    Channel.X,
    Channel.FACEBOOK,
    Channel.INSTAGRAM,
    Channel.LINKEDIN,
    Channel.TIKTOK,
    Channel.YOUTUBE,
    Channel.MASTODON,
    Channel.BLUESKY,
)
# The crisis center channel needs no address: publishing puts the statement on the incident's
# public crisis page (incidents.crisiscenter), which says where.


def needs_post_address(channel: str) -> bool:
    """Publishing on this channel records the address of the post (a social network's);
    the publish form asks for it before sending (static/js: the browser's own check)."""
    return channel in SOCIAL_CHANNELS


def _clean_url(url: str, channel: str) -> str:
    url = (url or "").strip()
    if not url:
        if needs_post_address(channel):
            raise InvalidInput(_("Give the address (URL) of the published post."))
        return ""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise InvalidInput(_("“%(url)s” is not a valid web address.") % {"url": url}) from None
    return url


@transaction.atomic
def statement_publish(
    *, statement: Statement, actor, url: str = "", published_at=None, revision: int | None = None
) -> Statement:
    """Record that the approved text went out, where and when. The first public statement
    stops the incident's first-response countdown."""
    url = _clean_url(url, statement.channel)
    now = timezone.now()
    published_at = published_at or now
    if published_at > now + CLOCK_SKEW:
        raise InvalidInput(_("The publication time cannot be in the future."))
    incident, statement = _lock(statement)
    if not rules.check(rules.PUBLISH, actor, statement, revision=revision, url=url):
        return statement  # double click: same person, same address
    # The form gives minutes: a post made in the minute of the approval is fine.
    if published_at < statement.approved_at.replace(second=0, microsecond=0):
        raise InvalidInput(_("The publication time is before the statement was approved."))
    statement.status = S.PUBLISHED
    statement.published_at = published_at
    statement.published_url = url
    statement.published_by = actor
    statement.save(update_fields=["status", "published_at", "published_url", "published_by"])
    first = statement.is_public and incident.first_response_at is None
    if first:
        incident.first_response_at = published_at
        incident.save(update_fields=["first_response_at", "updated_at"])
    timeline_record(
        incident,
        kind=EntryKind.STATEMENT_PUBLISHED,
        actor=actor,
        occurred_at=published_at,
        key_event=True,
        text=url,
        data=_data(
            statement,
            url=url,
            first_response=first,
            first_response_minutes=incident.first_response_minutes if first else None,
            deadline_met=incident.first_response_met if first else None,
        ),
    )
    handoffs.published(statement, actor=actor)
    handoffs.acted(statement, actor=actor)
    return statement


@transaction.atomic
def statement_withdraw(*, statement: Statement, actor, reason: str = "") -> Statement:
    """Abandon a statement that was not published. Its revisions and reviews stay."""
    incident, statement = _lock(statement)
    if not rules.check(rules.WITHDRAW, actor, statement):
        return statement
    old_status = statement.status
    statement.status = S.WITHDRAWN
    statement.withdrawn_at = timezone.now()
    statement.save(update_fields=["status", "withdrawn_at"])
    timeline_record(
        incident,
        kind=EntryKind.STATEMENT_WITHDRAWN,
        actor=actor,
        text=(reason or "").strip(),
        data=_data(statement, old_status=old_status),
    )
    return statement


# --- Approval deadlines: escalation (Celery beat, every minute) -------------------------------


def _backups(entries, functions: list[str], statement: Statement) -> list[tuple[str, str, object]]:
    """(name, e-mail, user or None) of the roster's backups for these functions ("": any
    approver), each once; not those who wrote the text (four-eyes: they cannot sign)."""
    found, seen = [], set()
    for entry in entries:
        fits = entry.function in functions or (
            "" in functions and (entry.role == Role.APPROVER or entry.function)
        )
        if not fits or not entry.backup_name:
            continue
        user = entry.backup_user
        if user is not None and permissions.wrote(user, statement):
            continue
        key = (entry.backup_name, entry.backup_email)
        if key not in seen:
            seen.add(key)
            found.append((entry.backup_name, entry.backup_email, user))
    return found


def _names(people) -> str:
    return ", ".join(f"{name} ({email})" if email else name for name, email, *_rest in people)


@transaction.atomic
def statement_escalate(*, statement: Statement, now=None) -> Escalation | None:
    """Escalate the awaited step of a statement in review whose deadline has passed: alert
    the playbook roster's backups for the awaited function(s) (ESCALATED notification; a
    backup without an account is named, with their e-mail, to the lead) and the incident's
    lead(s), and record it on the timeline. The system acts: no actor.

    Once per statement, revision and step (the `Escalation` row, unique): returns None when
    there is nothing (more) to escalate — not in review, no deadline, not late yet, or
    already escalated."""
    now = now or timezone.now()
    incident, statement = _lock(statement)
    progress = statement.progress
    if statement.status != S.IN_REVIEW or statement.deadline_at is None:
        return None
    if statement.deadline_at > now:
        return None
    step = progress.awaited_step
    if Escalation.objects.filter(
        statement=statement, revision=statement.revision, step=step
    ).exists():
        return None
    functions = list(dict.fromkeys(r.function for r in progress.awaited))
    cell = rules.cell_of(incident)
    leads = [m.user for m in cell if m.role == Role.LEAD]
    members = {m.user_id for m in cell}
    backups = _backups(rules.roster(incident), functions, statement)
    has_account = [b for b in backups if b[2] is not None and b[2].is_active]
    unreachable = [b for b in backups if b not in has_account]
    # A backup who leads this cell cannot sign (a lead is no approver): not "alerted" as a
    # backup; the lead is told to find another approver.
    leading = [b for b in has_account if b[2] in leads]
    reachable = [b for b in has_account if b not in leading]
    started = policy.step_started_at(
        progress, submitted_at=statement.submitted_at, revised_at=statement.revised_at
    )
    waited = int((now - started).total_seconds() // 60)
    deadline = policy.step_deadline_minutes(progress)

    def facts() -> dict:
        return {
            "what": rules.joined_functions(functions, progress.mode),
            "statement": str(statement),
            "waited": waited,
            "deadline": deadline,
        }

    def told() -> tuple[str, str]:
        """What happened, in sentences (the timeline, the lead's message), and the bell's
        one line (who is late, who was alerted, whom the lead must call), in the active
        language."""
        sentences = [
            _(
                "Approval by %(what)s is late on “%(statement)s” (waiting for %(waited)s min, "
                "deadline %(deadline)s min)."
            )
            % facts()
        ]
        if reachable:
            sentences.append(
                ngettext(
                    "Backup %(names)s has been alerted.",
                    "Backups %(names)s have been alerted.",
                    len(reachable),
                )
                % {"names": _names(reachable)}
            )
            outside = [b for b in reachable if b[2].pk not in members]
            if outside:
                sentences.append(
                    _("Add %(names)s to the cell as approver for %(what)s so they can sign.")
                    % {"names": _names(outside), "what": facts()["what"]}
                )
        if unreachable:
            sentences.append(
                _("%(names)s (backup) has no account here: call them.")
                % {"names": _names(unreachable)}
            )
        if leading:
            sentences.append(
                _(
                    "%(names)s (backup) leads this cell and cannot sign: add another approver "
                    "for %(what)s."
                )
                % {"names": ", ".join(name for name, *_rest in leading), "what": facts()["what"]}
            )
        if not backups:
            sentences.append(_("The playbook roster names no backup for %(what)s.") % facts())
        headline = (
            _(
                "Approval by %(what)s is late on “%(statement)s” (%(waited)s min, deadline "
                "%(deadline)s min)"
            )
            % facts()
        )
        if reachable:
            headline = ngettext(
                "%(headline)s; backup %(names)s has been alerted",
                "%(headline)s; backups %(names)s have been alerted",
                len(reachable),
            ) % {"headline": headline, "names": ", ".join(name for name, *_rest in reachable)}
        if unreachable:
            headline = _("%(headline)s; call %(names)s (no account here)") % {
                "headline": headline,
                "names": _names(unreachable),
            }
        if leading and not reachable and not unreachable:
            headline = _("%(headline)s; add another approver") % {"headline": headline}
        return " ".join(sentences), headline

    def to_the_leads() -> str:
        stall = rules.approval_stall(statement, viewer=leads[0] if leads else None)
        return " ".join(part for part in (told()[0], stall) if part)

    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                statement=statement,
                revision=statement.revision,
                step=step,
                functions=functions,
                deadline_at=statement.deadline_at,
                escalated_at=now,
                alerted=[
                    {"name": name, "email": email, "user": user.pk}
                    for name, email, user in reachable
                ],
            )
    except IntegrityError:  # another sweep, through another connection, was first
        return None
    backup_users = [user for _name, _email, user in reachable if user not in leads]
    if backup_users:
        notify(
            users=backup_users,
            kind=NotificationKind.ESCALATED,
            subject=per_reader(
                lambda: (
                    _("Approval by %(what)s is late on “%(statement)s”: you are the backup")
                    % facts()
                )
            ),
            url=handoffs.statement_url(statement),
            incident=incident,
            now=now,
            body=per_reader(
                lambda: (
                    _(
                        "You stand in for %(what)s in this incident's committee. If you are not in "
                        "its cell yet, the lead has been asked to add you as approver."
                    )
                    % facts()
                    + "\n\n"
                    + statement.text
                )
            ),
        )
    if leads:
        notify(
            users=leads,
            kind=NotificationKind.ESCALATED,
            subject=per_reader(lambda: told()[1]),
            url=handoffs.statement_url(statement),
            incident=incident,
            now=now,
            body=per_reader(to_the_leads),
        )
    timeline_record(
        incident,
        kind=EntryKind.STATEMENT_ESCALATED,
        actor=None,
        text=told()[0],  # in the active language: the site's, for the sweep
        data=_data(
            statement,
            step=step,
            functions=functions,
            deadline_minutes=deadline,
            waited_minutes=waited,
            alerted=[user.pk for user in backup_users],
            unreachable=[name for name, _email, _user in unreachable],
        ),
    )
    return escalation


def approvals_escalate_late(*, now=None) -> int:
    """The sweep: escalate every statement whose awaited step is past its deadline, each in
    its own transaction (`statement_escalate`). Idempotent: running it twice escalates once.
    Returns how many were escalated."""
    now = now or timezone.now()
    count = 0
    for statement in selectors.late_for_escalation(now):
        try:
            if statement_escalate(statement=statement, now=now) is not None:
                count += 1
        except Exception:
            # One statement's failure (its incident gone, say) must not stop the others.
            logger.exception("Could not escalate statement %s", statement.pk)
    return count


# --- Approval policies edited in the admin --------------------------------------------------


def approval_policy_before_edit(policy: ApprovalPolicy) -> dict:
    """What each statement in review under this policy lacks now, for
    `approval_policy_edited` to compare with once the edit is saved."""
    return handoffs.shortfalls(selectors.statements_in_review_under(policy))


@transaction.atomic
def approval_policy_edited(*, policy: ApprovalPolicy, actor, before: dict) -> int:
    """After an approval policy's requirements were edited (admin panel): the leads of each
    statement in review under it that the change leaves waiting on nobody are told what is
    missing (ESCALATED). Returns how many statements."""
    return handoffs.policy_stall_check(
        selectors.statements_in_review_under(policy), before, actor=actor
    )
