"""Every write of a post-mortem. Keyword-only, `actor=`; each call is one transaction that
locks the incident (incidents.actions.lock_incident), then the post-mortem row, checks
rules.py on the fresh rows, writes, and records what the cell should see on the timeline.

Optimistic concurrency: the written parts are saved against the `base_version` the editor
started from (the post-mortem's `text_version`), an action item against its `version`. A
save from an older version is refused with a Conflict (409) naming who saved since and
when: two editors never silently overwrite each other. Saving the same text again writes
nothing.

Any change of content (parts, an item's action, owner or due date) moves `revision` on,
which voids the approvals given, and brings a post-mortem in review or signed off back to
draft (a signed-off version stays as it was; signing off again makes a new one). Closing
or reopening an item is follow-up, not content: it changes neither.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Prefetch, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents import actions as incident_actions
from incidents.chains import canonical_hash
from incidents.errors import Conflict, InvalidInput, NotAllowed, StaleRevision
from incidents.localtime import shown
from incidents.models import EntryKind, Incident, Membership, Role, Status
from incidents.notifications.actions import (
    announce_to,
    notifications_settled,
    notify,
    per_reader,
)
from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import Notification
from incidents.people import display_name
from incidents.selectors import with_freeze
from incidents.text import nfc
from statements import actions as statement_actions
from statements import selectors as statement_selectors
from statements.choices import Channel, Language, StatementKind, StatementStatus

from . import figures, rules
from .choices import Decision, ItemStatus, Part, PostmortemStatus
from .models import (
    COMMENT_MAX,
    MAX_ITEMS,
    PART_MAX,
    REASON_MAX,
    TITLE_MAX,
    ActionItem,
    LessonsStatement,
    Postmortem,
    PostmortemApproval,
    PostmortemVersion,
)

PARTS = tuple(Part.values)


def _invalid(message: str, field: str | None = None) -> InvalidInput:
    """A refused value; `field` names it (`errors`, as the API's field errors do) so the
    page shows the message beside the field, the typed values kept."""
    return InvalidInput(message, errors={field: [message]}) if field else InvalidInput(message)


def _bounded(value: str, limit: int, what: str, field: str | None = None) -> str:
    value = nfc(value or "").strip()
    if len(value) > limit:
        raise _invalid(
            _("%(what)s is limited to %(n)s characters (%(len)s now).")
            % {"what": what, "n": f"{limit:,}", "len": f"{len(value):,}"},
            field,
        )
    return value


def _locked(postmortem: Postmortem) -> tuple[Incident, Postmortem]:
    incident = incident_actions.lock_incident(postmortem.incident)
    postmortem = Postmortem.objects.select_for_update().get(pk=postmortem.pk)
    postmortem.incident = incident
    return incident, postmortem


def _record(incident, kind, actor, *, key_event=False, **data):
    incident_actions.timeline_record(
        incident, kind=kind, actor=actor, data=data, key_event=key_event
    )


def _content_changed(postmortem: Postmortem, actor, now) -> None:
    """A change of content: a new revision (approvals given are void), back to draft."""
    postmortem.revision += 1
    postmortem.updated_by = actor
    postmortem.updated_at = now
    if postmortem.status != PostmortemStatus.DRAFT:
        postmortem.status = PostmortemStatus.DRAFT
        postmortem.submitted_at = None


@transaction.atomic
def postmortem_create(*, incident: Incident, actor) -> Postmortem:
    """Start the incident's post-mortem (the lead; any time, as a draft). Asking again
    returns the one that exists."""
    incident = incident_actions.lock_incident(incident)
    rules.require_write(actor, incident)
    existing = Postmortem.objects.filter(incident=incident).first()
    if existing is not None:
        return existing
    now = timezone.now()
    postmortem = Postmortem.objects.create(
        incident=incident, created_by=actor, created_at=now, updated_by=actor, updated_at=now
    )
    _record(incident, EntryKind.POSTMORTEM_STARTED, actor, postmortem=postmortem.pk)
    return postmortem


@transaction.atomic
def postmortem_write(*, postmortem: Postmortem, actor, base_version: int, **parts) -> Postmortem:
    """Save written parts (any of summary, went_well, went_wrong, lucky, factors; each at
    most PART_MAX characters) from `base_version`. Refused with a Conflict when someone
    saved since that version."""
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise InvalidInput(_("Unknown part: %(value)s") % {"value": sorted(unknown)[0]})
    labels = dict(Part.choices)
    cleaned = {name: _bounded(value, PART_MAX, labels[name]) for name, value in parts.items()}
    incident, postmortem = _locked(postmortem)
    rules.require_write(actor, incident)
    changed = {k: v for k, v in cleaned.items() if getattr(postmortem, k) != v}
    if not changed:
        return postmortem
    if base_version != postmortem.text_version:
        raise StaleRevision(
            _(
                "%(name)s saved this post-mortem at %(time)s, after you opened it: your text "
                "was not saved. Copy it, reload the page and merge."
            )
            % {
                "name": display_name(postmortem.updated_by),
                "time": shown(postmortem.updated_at, "TIME_FORMAT"),
            },
            current_version=postmortem.text_version,
            saved_by=display_name(postmortem.updated_by),
        )
    for name, value in changed.items():
        setattr(postmortem, name, value)
    postmortem.text_version += 1
    _content_changed(postmortem, actor, timezone.now())
    postmortem.save()
    return postmortem


def _check_owner(incident: Incident, owner) -> None:
    members = Membership.objects.active().filter(incident=incident, user=owner)
    if owner is None or not members.exclude(role=Role.OBSERVER).exists():
        raise _invalid(
            _("An action's owner must be a member of the crisis cell (not an observer)."),
            "owner",
        )


def _check_due(due_date) -> date:
    if not isinstance(due_date, date):
        raise _invalid(_("A due date is required."), "due_date")
    if due_date < timezone.localdate():
        raise _invalid(_("The due date cannot be in the past."), "due_date")
    return due_date


@transaction.atomic
def item_add(*, postmortem: Postmortem, actor, title: str, owner, due_date: date) -> ActionItem:
    """Add an action item: its action (at most TITLE_MAX characters), an owner from the
    cell and a due date not in the past (the lead; at most MAX_ITEMS per post-mortem)."""
    title = _bounded(title, TITLE_MAX, _("The action"), "title")
    if not title:
        raise _invalid(_("Say what is to be done."), "title")
    due_date = _check_due(due_date)
    incident, postmortem = _locked(postmortem)
    rules.require_write(actor, incident)
    _check_owner(incident, owner)
    if ActionItem.objects.filter(postmortem=postmortem).count() >= MAX_ITEMS:
        raise InvalidInput(_("A post-mortem holds at most %(n)s action items.") % {"n": MAX_ITEMS})
    now = timezone.now()
    item = ActionItem.objects.create(
        postmortem=postmortem,
        title=title,
        owner=owner,
        due_date=due_date,
        created_by=actor,
        created_at=now,
    )
    _content_changed(postmortem, actor, now)
    postmortem.save()
    _record(
        incident,
        EntryKind.ACTION_ITEM_ADDED,
        actor,
        item=item.pk,
        title=title,
        owner=display_name(owner),
        due_date=due_date.isoformat(),
    )
    return item


@transaction.atomic
def item_update(
    *,
    item: ActionItem,
    actor,
    base_version: int,
    title: str | None = None,
    owner=None,
    due_date: date | None = None,
    status: str | None = None,
    reason: str = "",
) -> ActionItem:
    """Change an action item from `base_version`: its action, owner or due date (the lead),
    or its status: done, dropped (a reason is required) or open again (the lead or its
    owner). Refused with a Conflict when someone changed it since that version."""
    if status is not None and status not in ItemStatus.values:
        raise InvalidInput(_("Unknown status: %(value)s") % {"value": status})
    reason = _bounded(reason, REASON_MAX, _("The reason"), "reason")
    if title is not None:
        title = _bounded(title, TITLE_MAX, _("The action"), "title")
        if not title:
            raise _invalid(_("Say what is to be done."), "title")
    incident, postmortem = _locked(item.postmortem)
    item = ActionItem.objects.select_for_update().select_related("owner").get(pk=item.pk)
    content = {}
    if title is not None and title != item.title:
        content["title"] = title
    if owner is not None and owner.pk != item.owner_id:
        content["owner"] = owner
    if due_date is not None and due_date != item.due_date:
        content["due_date"] = due_date
    closing = status is not None and (
        status != item.status or (status == ItemStatus.DROPPED and reason and reason != item.reason)
    )
    if content:
        rules.require_write(actor, incident)
    if closing:
        rules.require_close_item(actor, incident, item)
    if not content and not closing:
        return item
    if base_version != item.version:
        raise StaleRevision(
            _("Someone changed this action since you opened it: reload the page and try again."),
            current_version=item.version,
        )
    if "owner" in content:
        _check_owner(incident, content["owner"])
    if "due_date" in content:
        _check_due(content["due_date"])
    for name, value in content.items():
        setattr(item, name, value)
    now = timezone.now()
    if closing:
        if status == ItemStatus.DROPPED and not reason:
            raise _invalid(_("Say why this action is dropped."), "reason")
        item.status = status
        item.reason = reason if status == ItemStatus.DROPPED else ""
        item.closed_by = actor if status != ItemStatus.OPEN else None
        item.closed_at = now if status != ItemStatus.OPEN else None
    item.version += 1
    item.save()
    if content:
        _content_changed(postmortem, actor, now)
        postmortem.save()
    if closing:
        _record(
            incident,
            EntryKind.ACTION_ITEM_CLOSED,
            actor,
            item=item.pk,
            title=item.title,
            status=item.status,
            reason=item.reason,
            owner=display_name(item.owner),
        )
    return item


def _policy_rows(incident):
    policy = statement_selectors.incident_policy(incident) or statement_actions.default_policy()
    return policy, list(policy.requirements.all())


@transaction.atomic
def postmortem_submit(*, postmortem: Postmortem, actor) -> Postmortem:
    """Ask for sign-off (the lead): under the incident's approval policy (its playbook's,
    else the default one). Refused when the cell's approvers cannot meet the policy,
    naming what is missing. Submitting what is in review already does nothing."""
    incident, postmortem = _locked(postmortem)
    rules.require_write(actor, incident)
    if postmortem.status == PostmortemStatus.IN_REVIEW:
        return postmortem
    if postmortem.status == PostmortemStatus.SIGNED_OFF:
        raise Conflict(_("This version is signed off already: change it to start a new one."))
    if not postmortem.summary:
        raise InvalidInput(_("Write the summary before asking for sign-off."))
    policy, requirements = _policy_rows(incident)
    approvers = _approvers(incident)
    # Resubmitted unchanged after changes were asked, the approvals of this revision still
    # count: those the policy awaits now are asked, not its first step again.
    given = list(postmortem.approvals.filter(revision=postmortem.revision))
    postmortem.policy = policy
    refusal = rules.stall(postmortem, requirements, given, approvers)
    if refusal:
        raise Conflict(refusal)
    postmortem.status = PostmortemStatus.IN_REVIEW
    postmortem.submitted_at = timezone.now()
    postmortem.save()
    _record(
        incident,
        EntryKind.POSTMORTEM_SUBMITTED,
        actor,
        postmortem=postmortem.pk,
        revision=postmortem.revision,
        policy=policy.name,
    )
    _ask_the_approvers(
        incident, postmortem, rules.progress(postmortem, requirements, given), approvers, actor
    )
    return postmortem


def _approvers(incident) -> list[Membership]:
    """The cell's active approver memberships, users loaded."""
    return list(
        Membership.objects.active()
        .filter(incident=incident, role=Role.APPROVER, user__is_active=True)
        .select_related("user")
    )


def _ask_the_approvers(incident, postmortem, state, approvers, actor) -> int:
    """The `approvers` (`_approvers`) whose function the policy awaits now (`state`) are
    told, in the bell and by their channels ("Approval needed"): at submission the first
    step's, after each approval the next step's. Without it the post-mortem waited on
    people who did not know. Returns how many."""
    awaited = {r.function for r in state.awaited}
    users = [
        m.user
        for m in approvers
        if ("" in awaited or m.function in awaited) and m.user_id != actor.pk
    ]
    return _notify_about(
        incident,
        postmortem,
        users=users,
        kind=NotificationKind.REVIEW_REQUESTED,
        actor=actor,
        # Once per submission: resubmitted unchanged after changes were asked, the same
        # revision is asked for again.
        key=f"review:{postmortem.submitted_at.timestamp()}",
    )


def _tell_the_lead(incident, postmortem, actor, *, kind, key, body="") -> int:
    """What the approvers decided goes back to the post-mortem's writer, the lead (bell and
    their channels): changes asked (with the comment; the lead heard nothing and the
    post-mortem sat in draft), or the sign-off (the lead had to reload the page to learn
    that the lessons could be shared)."""
    leads = [
        m.user
        for m in Membership.objects.active()
        .filter(incident=incident, role=Role.LEAD)
        .select_related("user")
        if m.user_id != actor.pk
    ]
    return _notify_about(
        incident,
        postmortem,
        users=leads,
        kind=kind,
        actor=actor,
        key=key,
        body=body,
    )


def cell_changed(incident, *, actor, started, ended) -> None:
    """incidents.extensions' cell hook (under the incident lock, in the action's
    transaction): an approver leaving (or changing role) while the post-mortem is in review
    may leave it waiting on nobody; its lead is told, with whom to add."""
    if not any(m.role == Role.APPROVER for m in ended):
        return
    postmortem = (
        Postmortem.objects.filter(incident=incident, status=PostmortemStatus.IN_REVIEW)
        .select_related("policy")
        .first()
    )
    if postmortem is None or postmortem.policy is None:
        return
    approvals = list(postmortem.approvals.filter(revision=postmortem.revision))
    refusal = rules.stall(
        postmortem, list(postmortem.policy.requirements.all()), approvals, _approvers(incident)
    )
    if refusal:
        # The acting lead too: a problem to fix, not news of what they did (as statements).
        leads = Membership.objects.active().filter(incident=incident, role=Role.LEAD)
        _notify_about(
            incident,
            postmortem,
            users=[m.user for m in leads.select_related("user")],
            kind=NotificationKind.ESCALATED,
            actor=actor,
            key=f"stall:{'-'.join(str(m.pk) for m in ended)}",
            body=refusal,
        )


def _notify_about(incident, postmortem, *, users, kind, actor, key, body="") -> int:
    """A notification about this revision of the post-mortem, linking to its page; once per
    revision and `key` (a submission, a request for changes, a sign-off)."""
    revision = postmortem.revision
    return notify(
        users=users,
        kind=kind,
        subject=per_reader(
            lambda: (
                _("Post-mortem of “%(incident)s” (revision %(n)s)")
                % {"incident": incident.title, "n": revision}
            )
        ),
        body=body,
        url=reverse("postmortem", args=[incident.pk]),
        incident=incident,
        actor=actor,
        key=f"postmortem:{postmortem.pk}:revision:{revision}:{key}",
    )


@transaction.atomic
def postmortem_review(
    *, postmortem: Postmortem, actor, revision: int, decision: str, comment: str = ""
) -> Postmortem:
    """An approver's decision on the exact `revision` they read: approve (counted when the
    policy awaits their function now) or ask for changes (a comment is required; back to
    draft). Once the policy is met the post-mortem is signed off and frozen as a new
    version. Approving the same revision twice does nothing."""
    if decision not in Decision.values:
        raise InvalidInput(_("Unknown decision: %(value)s") % {"value": decision})
    comment = _bounded(comment, COMMENT_MAX, _("The comment"))
    if decision == Decision.CHANGES_REQUESTED and not comment:
        raise InvalidInput(_("Say what should change."))
    # An approval may complete the sign-off, which freezes the figures: computed here, before
    # the incident's lock (about twenty reads), not while the cell waits on it.
    report = figures.as_json(figures.report(postmortem.incident))
    incident, postmortem = _locked(postmortem)
    function = rules.approver_function(actor, incident)
    if function is None:
        raise NotAllowed(_("Only the approvers of the cell sign off the post-mortem."))
    if postmortem.status != PostmortemStatus.IN_REVIEW:
        raise Conflict(_("This post-mortem is not waiting for sign-off."))
    if revision != postmortem.revision:
        raise StaleRevision(
            _("The post-mortem changed since you read it: reload it and review it again."),
            current_revision=postmortem.revision,
        )
    approvals = list(postmortem.approvals.filter(revision=revision))  # every decision
    signed = any(a.reviewer_id == actor.pk for a in rules.standing(postmortem, approvals))
    if decision == Decision.APPROVED and signed:
        return postmortem  # approving the same revision twice does nothing
    # Having signed, one may still send it back: a late concern must be able to stop it.
    requirements = list(postmortem.policy.requirements.all())
    before = rules.progress(postmortem, requirements, approvals)
    if decision == Decision.CHANGES_REQUESTED and not rules.can_review(
        actor, incident, postmortem, requirements
    ):
        raise NotAllowed(_("The policy does not ask for your sign-off on this post-mortem."))
    if decision == Decision.APPROVED:
        state = before
        if not state.can_sign(function):
            raise NotAllowed(rules.not_yours_now(function, state))
    now = timezone.now()
    decided = {"revision": revision, "decision": decision, "comment": comment}
    review = PostmortemApproval.objects.create(
        postmortem=postmortem, reviewer=actor, function=function, created_at=now, **decided
    )
    approvals.append(review)
    state = rules.progress(postmortem, requirements, approvals)
    if decision == Decision.CHANGES_REQUESTED:
        postmortem.status = PostmortemStatus.DRAFT
        postmortem.submitted_at = None
        if signed:
            # They withdraw their own signature: a new revision (approvals given are void,
            # as after an edit), so that resubmitted it is theirs to give again and it can
            # never be signed off over their objection.
            postmortem.revision += 1
        postmortem.save()
    _record(
        incident,
        EntryKind.POSTMORTEM_REVIEWED,
        actor,
        postmortem=postmortem.pk,
        complete=state.complete,
        **decided,
    )
    if decision == Decision.APPROVED and state.complete:
        version = _sign_off(incident, postmortem, actor, approvals, now, report)
        _tell_the_lead(
            incident,
            postmortem,
            actor,
            kind=NotificationKind.SIGNED_OFF,
            key=f"signed:{version.number}",
        )
    elif decision == Decision.APPROVED and state.awaited_step != before.awaited_step:
        # A step of an ordered policy is met: the next one's approvers are asked now.
        _ask_the_approvers(incident, postmortem, state, _approvers(incident), actor)
    if decision == Decision.CHANGES_REQUESTED:
        _tell_the_lead(
            incident,
            postmortem,
            actor,
            kind=NotificationKind.CHANGES_REQUESTED,
            key=f"changes:{review.pk}",  # each request, even on the same revision
            body=comment,
        )
    # Their "Approval needed" about it is done.
    notifications_settled(user=actor, url=reverse("postmortem", args=[incident.pk]))
    return postmortem


def _sign_off(incident, postmortem, actor, approvals, now, report) -> PostmortemVersion:
    """Freeze the whole post-mortem as its next version (append-only) and record it."""
    number = (
        PostmortemVersion.objects.filter(postmortem=postmortem)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
        or 0
    ) + 1
    content = document(
        postmortem, approvals=approvals, signed_off_at=now, number=number, report=report
    )
    version = PostmortemVersion.objects.create(
        postmortem=postmortem,
        number=number,
        revision=postmortem.revision,
        content=content,
        content_hash=canonical_hash(content),
        signed_off_at=now,
    )
    postmortem.status = PostmortemStatus.SIGNED_OFF
    postmortem.signed_off_at = now
    postmortem.save()
    _record(
        incident,
        EntryKind.POSTMORTEM_SIGNED_OFF,
        actor,
        key_event=True,
        postmortem=postmortem.pk,
        version=number,
        content_hash=version.content_hash,
    )
    return version


def document(postmortem: Postmortem, *, approvals, signed_off_at, number, report) -> dict:
    """What a version freezes (JSON): the written parts, the action items, the approvals of
    the signed revision, and `report`, the computed figures as they were when the last
    approval was given (figures.as_json)."""
    items = ActionItem.objects.filter(postmortem=postmortem).select_related("owner")
    return {
        "version": number,
        "revision": postmortem.revision,
        "signed_off_at": signed_off_at.isoformat(),
        "incident": {"id": postmortem.incident_id, "title": postmortem.incident.title},
        "parts": {name: getattr(postmortem, name) for name in PARTS},
        "items": [
            {
                "id": item.pk,
                "title": item.title,
                "owner": display_name(item.owner),
                "due_date": item.due_date.isoformat(),
                "status": item.status,
                "reason": item.reason,
            }
            for item in items
        ],
        "approvals": [
            {
                "reviewer": display_name(a.reviewer),
                "function": a.function,
                "at": a.created_at.isoformat(),
            }
            for a in rules.standing(postmortem, approvals)
        ],
        "figures": report,
    }


# --- Sharing what we learned (a public statement of the crisis center channel) -------------


def lessons_languages() -> list[str]:
    """The languages a "what we learned" statement may be started in: the crisis page's."""
    return [code for code in settings.CRISIS_CENTER_LANGUAGES if code in Language.values]


def lessons_text(content: dict) -> str:
    """A start for the drafter, from a signed-off version's `content`: its summary, what
    went well and wrong, and the action items' titles (dropped ones left out), under
    headings in the active language. The drafter edits it before it is submitted."""
    parts = content.get("parts", {})
    blocks = [_("What we learned")]
    for name, heading in (
        ("summary", ""),
        ("went_well", _("What went well")),
        ("went_wrong", _("What went wrong")),
    ):
        text = (parts.get(name) or "").strip()
        if text:
            blocks.append(f"{heading}\n{text}" if heading else text)
    items = [
        item["title"]
        for item in content.get("items", [])
        if item.get("status") != ItemStatus.DROPPED
    ]
    if items:
        blocks.append(_("What we are changing") + "\n" + "\n".join(f"- {t}" for t in items))
    return "\n\n".join(blocks)


@transaction.atomic
def lessons_statement_start(
    *, postmortem: Postmortem, actor, language: str
) -> tuple[LessonsStatement, bool]:
    """Start the public "what we learned" statement in `language`: a draft update of the
    crisis center channel (statements.actions.statement_create: its rules, policy and
    timeline), pre-filled from the last signed-off version, linked to the post-mortem.
    Returns (the link, with its statement; created): when one in that language exists and
    is not withdrawn, that one (no duplicate; the incident lock orders concurrent starts)."""
    if language not in lessons_languages():
        raise InvalidInput(_("The crisis page is not written in that language."))
    incident, postmortem = _locked(postmortem)
    version = (
        PostmortemVersion.objects.filter(postmortem=postmortem)
        .only("number", "content")
        .order_by("-number")
        .first()
    )
    rules.require_share(actor, incident, version is not None)
    existing = (
        LessonsStatement.objects.filter(postmortem=postmortem, statement__language=language)
        .exclude(statement__status=StatementStatus.WITHDRAWN)
        .select_related("statement")
        .order_by("-pk")
        .first()
    )
    if existing is not None:
        return existing, False
    with translation.override(language):
        text = lessons_text(version.content)
        title = _("What we learned (post-mortem v%(n)s)") % {"n": version.number}
    statement = statement_actions.statement_create(
        incident=incident,
        actor=actor,
        kind=StatementKind.UPDATE,
        channel=Channel.CRISIS_CENTER,
        language=language,
        text=text,
        title=title,
    )
    link = LessonsStatement.objects.create(
        postmortem=postmortem,
        statement=statement,
        version=version.number,
        created_by=actor,
        created_at=timezone.now(),
    )
    return link, True


# --- Action-item reminders (Celery beat; tasks.py) ------------------------------------------

# An open action item is reminded to its owner from this many days before its due date,
# then every day until it is done or dropped — after the incident is closed too.
REMIND_DAYS_BEFORE = 2
# Items reminded per run at most (the most overdue first); the rest wait for the next run.
REMIND_BATCH = 500


def _reminded(prefix: str, today: date) -> Exists:
    """Whether the row's reminder of `today` was sent (its notification key is
    "<prefix>:<pk>:<date>"): reminded rows are left out by the query itself, since a batch
    taken first and filtered after would hand the same first rows to every run of the day."""
    return Exists(
        Notification.objects.filter(
            key=Concat(Value(f"{prefix}:"), Cast(OuterRef("pk"), CharField()), Value(f":{today}"))
        )
    )


def _reminder_key(item: ActionItem, today: date) -> str:
    return f"action_item:{item.pk}:{today.isoformat()}"


def reminder_text(item: ActionItem, today: date) -> str:
    what = {"action": item.title, "incident": item.postmortem.incident.title}
    if item.due_date < today:
        return _("Overdue action: “%(action)s” — post-mortem of %(incident)s") % what
    if item.due_date == today:
        return _("Action due today: “%(action)s” — post-mortem of %(incident)s") % what
    return _("Action due soon: “%(action)s” — post-mortem of %(incident)s") % what


def items_send_reminders(*, now=None) -> int:
    """Remind each open action item past or within REMIND_DAYS_BEFORE days of its due date
    to its owner (the bell, and e-mail or chat as their notification settings say), at most
    once per item and day: the notification's key names the item and the day, and `notify`
    skips a key already sent (a second run the same day, or two at once, send nothing).
    Items done or dropped are never reminded, nor owners no longer in the cell; the
    incident's status does not matter (the follow-up outlives the crisis). Returns how many
    reminders were sent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    items = list(
        ActionItem.objects.filter(
            status=ItemStatus.OPEN,
            due_date__lte=today + timedelta(days=REMIND_DAYS_BEFORE),
            owner__is_active=True,
        )
        # Only to an owner who may still read the incident (incidents.permissions.can_view):
        # one removed from the cell was reminded daily of an item they could not open.
        .filter(
            Q(owner__is_staff=True)
            | Exists(
                Membership.objects.active().filter(
                    incident_id=OuterRef("postmortem__incident_id"), user_id=OuterRef("owner_id")
                )
            )
        )
        .exclude(_reminded(f"{NotificationKind.ACTION_ITEM_DUE}:action_item", today))
        .select_related("owner", "postmortem__incident")
        .order_by("due_date", "pk")[:REMIND_BATCH]
    )
    sent_today = set(
        Notification.objects.filter(
            key__in=[f"{NotificationKind.ACTION_ITEM_DUE}:{_reminder_key(i, today)}" for i in items]
        ).values_list("key", flat=True)
    )
    sent = 0
    notified: set[int] = set()
    for item in items:
        key = _reminder_key(item, today)
        if f"{NotificationKind.ACTION_ITEM_DUE}:{key}" in sent_today:
            continue
        incident = item.postmortem.incident
        with transaction.atomic():
            count = notify(
                users=[item.owner],
                kind=NotificationKind.ACTION_ITEM_DUE,
                subject=item.title,
                url=reverse("postmortem", args=[incident.pk]) + f"#item-{item.pk}",
                incident=incident,
                now=now,
                announce=False,
                body=per_reader(reminder_text, item, today),
                key=key,
            )
        if count:
            sent += 1
            notified.add(item.owner_id)
    announce_to(notified)
    return sent


# --- Going back to work: the promotion freeze after the crisis ------------------------------
# A resolved incident whose promotion freeze still holds reminds its lead to lift it and
# resume normal posting (silence for good is the other mistake): at once when it is resolved
# (the timeline follower below) and then once a day (the sweep, Celery beat and the embedded
# scheduler), the bell and their channels, until the lead lifts it (incidents.actions.
# incident_set_promotion_freeze, recorded as "normal posting resumed").

# Incidents reminded per run at most (the longest frozen first); the rest wait for the next.
FREEZE_REMIND_BATCH = 500
AFTER_THE_CRISIS = (Status.RESOLVED, Status.CLOSED)


def _freeze_key(incident_id: int, today: date) -> str:
    return f"promotion_freeze:{incident_id}:{today.isoformat()}"


def _freeze_remind(incident: Incident, lead, *, now, announce: bool) -> int:
    """One reminder to the lead, keyed by the incident and the local day: at most one a
    day, whatever calls it (the resolution, the sweep, two runs at once)."""
    return notify(
        users=[lead],
        kind=NotificationKind.PROMOTION_FREEZE_HOLDS,
        subject=per_reader(lambda: _("Lift the promotion freeze and resume normal posting")),
        url=reverse("incident-room", args=[incident.pk]) + "#promotion-freeze",
        incident=incident,
        now=now,
        announce=announce,
        body=per_reader(
            lambda: (
                _(
                    "“%(incident)s” is resolved but its promotion freeze still holds: once the "
                    "mentions are back to their usual level, lift it in the room and resume normal "
                    "posting. Staying silent for good erases nothing."
                )
                % {"incident": incident.title}
            )
        ),
        key=_freeze_key(incident.pk, timezone.localdate(now)),
    )


def remind_freeze_on_resolution(entry, incident: Incident) -> None:
    """Timeline follower (registered in PostmortemsConfig.ready): an incident moved to
    resolved while its promotion freeze holds reminds its lead at once, in the same
    transaction. Costs no query for any other entry."""
    if (
        entry.kind != EntryKind.STATUS_CHANGED
        or entry.data.get("new") != Status.RESOLVED
        or incident.promotion_frozen_at is None
    ):
        return
    lead = (
        Membership.objects.active()
        .filter(incident=incident, role=Role.LEAD, user__is_active=True)
        .select_related("user")
        .first()
    )
    if lead is not None:
        _freeze_remind(incident, lead.user, now=timezone.now(), announce=True)


def freezes_send_reminders(*, now=None) -> int:
    """Remind the lead of each resolved or closed incident whose promotion freeze still
    holds, at most once per incident and day (the notification's key names the incident and
    the day; `notify` skips a key already sent). Four queries to find the work, whatever the
    number of incidents, then one `notify` each. Returns how many reminders were sent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    incidents = list(
        with_freeze(Incident.objects.filter(status__in=AFTER_THE_CRISIS))
        .filter(freeze_since__isnull=False)
        .exclude(_reminded(f"{NotificationKind.PROMOTION_FREEZE_HOLDS}:promotion_freeze", today))
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.active()
                .filter(role=Role.LEAD, user__is_active=True)
                .select_related("user"),
                to_attr="leads",
            )
        )
        .order_by("freeze_since", "pk")[:FREEZE_REMIND_BATCH]
    )
    sent_today = set(
        Notification.objects.filter(
            key__in=[
                f"{NotificationKind.PROMOTION_FREEZE_HOLDS}:{_freeze_key(i.pk, today)}"
                for i in incidents
            ]
        ).values_list("key", flat=True)
    )
    sent = 0
    notified: set[int] = set()
    for incident in incidents:
        key = f"{NotificationKind.PROMOTION_FREEZE_HOLDS}:{_freeze_key(incident.pk, today)}"
        if key in sent_today or not incident.leads:
            continue
        lead = incident.leads[0].user
        with transaction.atomic():
            count = _freeze_remind(incident, lead, now=now, announce=False)
        if count:
            sent += 1
            notified.add(lead.pk)
    announce_to(notified)
    return sent
