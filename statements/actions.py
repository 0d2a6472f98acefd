"""Every write on statements. Same path as incidents: check, lock, write, record on the
timeline, publish live after commit. Locks are always taken incident first, then statement,
so two actions can never wait on each other in opposite orders."""

import logging

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import chains
from incidents import permissions as incident_permissions
from incidents.actions import CLOCK_SKEW, lock_incident, timeline_record
from incidents.errors import InvalidInput, StaleRevision, require
from incidents.models import EntryKind, Incident
from incidents.people import display_name

from . import permissions, policy, rules, selectors, tasks
from .limits import is_threadable, normalize, over_limit, split_thread
from .models import (
    CHANNEL_LIMITS,
    MAX_TEXT,
    ApprovalPolicy,
    Channel,
    Decision,
    IncidentPolicy,
    Language,
    Review,
    Revision,
    Statement,
    StatementKind,
    StatementStatus,
    text_hash,
)

S = StatementStatus
logger = logging.getLogger(__name__)


def _notify_reviewers_after_commit(statement_id: int) -> None:
    def queue():
        try:
            tasks.notify_reviewers.delay(statement_id)
        except Exception:
            # The statement is saved and in the inbox; a broker outage must not turn the
            # committed action into an error page.
            logger.exception("Could not queue reviewer emails for statement %s", statement_id)

    transaction.on_commit(queue)


def _lock(statement: Statement) -> tuple[Incident, Statement]:
    incident = lock_incident(statement.incident)
    statement = Statement.objects.select_for_update().select_related("policy").get(pk=statement.pk)
    statement.incident = incident
    return incident, selectors.load_progress(statement)


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
        "kind": statement.kind,
        "channel": statement.channel,
        "language": statement.language,
        "revision": statement.revision,
        "status": statement.status,
        **extra,
    }


def _approvals(statement: Statement) -> list[Review]:
    return list(
        Review.objects.filter(
            statement=statement, revision=statement.revision, decision=Decision.APPROVED
        )
    )


def _progress(statement: Statement) -> policy.Progress:
    return policy.progress(
        statement.policy, list(statement.policy.requirements.all()), _approvals(statement)
    )


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
) -> Statement:
    """A new draft with its first revision."""
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
        title=" ".join(title.split()),  # one line: it ends up in email subjects
        reply_to_account=reply_to_account.strip(),
        reply_to_url=reply_to_url.strip(),
        corrects=corrects,
        policy=approval_policy or selectors.incident_policy(incident) or default_policy(),
        author=actor,
        text=text,
        revised_by=actor,
        created_at=now,
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
    had_approvals = statement.status == S.APPROVED or bool(statement.approvals)
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
        _notify_reviewers_after_commit(statement.pk)
    return statement


@transaction.atomic
def statement_submit(*, statement: Statement, actor) -> Statement:
    incident, statement = _lock(statement)
    if not rules.check(rules.SUBMIT, actor, statement):
        return statement  # double click
    _check_fits(statement.text, statement.channel)
    statement.status = S.IN_REVIEW
    statement.submitted_at = timezone.now()
    statement.save(update_fields=["status", "submitted_at"])
    timeline_record(
        incident, kind=EntryKind.STATEMENT_SUBMITTED, actor=actor, data=_data(statement)
    )
    _notify_reviewers_after_commit(statement.pk)
    return statement


@transaction.atomic
def statement_approve(
    *, statement: Statement, actor, revision: int, comment: str = ""
) -> Statement:
    """Approve the exact revision the approver read. A second click, or a second approver
    once the policy is met, changes nothing."""
    incident, statement = _lock(statement)
    if not rules.check(rules.APPROVE, actor, statement, revision=revision):
        return statement
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
    progress = _progress(statement)
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
    if not progress.complete:
        _notify_reviewers_after_commit(statement.pk)
    return statement


@transaction.atomic
def statement_request_changes(*, statement: Statement, actor, comment: str) -> Statement:
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput(_("Say what must change: a comment is required."))
    incident, statement = _lock(statement)
    if not rules.check(rules.REQUEST_CHANGES, actor, statement):
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
    return statement


SOCIAL_CHANNELS = (
    Channel.X,
    Channel.FACEBOOK,
    Channel.INSTAGRAM,
    Channel.LINKEDIN,
    Channel.TIKTOK,
    Channel.YOUTUBE,
    Channel.CRISIS_CENTER,
)


def _clean_url(url: str, channel: str) -> str:
    url = (url or "").strip()
    if not url:
        if channel in SOCIAL_CHANNELS:
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
