"""Every write of the reply queue. Keyword-only, `actor=`; each call is one transaction
that locks the incident (incidents.actions.lock_incident: concurrent actions on the same
incident queue there, so two people claiming the same mention at once are served one
after the other: the first wins, the second is told who has it), checks the rules on the
fresh rows (replies/rules.py), writes the triage row and ONE timeline entry.

Double clicks are no-ops that write nothing and return False: claiming what you already
hold, releasing what nobody holds, deciding the outcome already recorded, thanking twice.

Errors: InvalidInput (400: unknown type, missing reason, text too long), NotAllowed (403:
observers, staff outside the cell), Conflict (409: someone else holds the claim, the
mention is already handled or no longer attached to the incident).

Replies are statements: `reply_write` creates one through statements' own action and binds
it to the mention; `reply_published` (a timeline follower) marks the mention answered when
it is published, whatever published it; `review_batch` runs statements' single approval
action once per item.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from incidents import actions as incident_actions
from incidents.errors import Conflict, DomainError, InvalidInput, NotAllowed
from incidents.evidence import actions as evidence_actions
from incidents.evidence import capture as evidence_capture
from incidents.evidence.choices import CaptureStatus, EvidenceKind
from incidents.listening.models import Mention, shown_handle
from incidents.models import EntryKind, Incident
from incidents.people import display_name
from incidents.text import TITLE_MAX, nfc, parse_id
from statements import actions as statement_actions
from statements import drafting, preapproval
from statements.choices import Channel, Language, StatementKind, StatementStatus
from statements.models import Statement
from statements.permissions import NOT_A_DRAFTER

from . import rules
from .choices import (
    ANSWERS,
    DECISIONS,
    AuthorType,
    CaptureTarget,
    NeedsAnswer,
    Outcome,
    ReviewDecision,
)
from .models import NOTE_MAX, REASON_MAX, MentionCapture, Reply, Triage

EXCERPT = 140
PENDING_CAPTURE = (CaptureStatus.QUEUED, CaptureStatus.RUNNING)


def _describe(mention: Mention) -> dict:
    """What the timeline keeps of the mention (the post may be deleted on the platform)."""
    return {
        "id": mention.pk,
        "platform": mention.platform,
        "author": shown_handle(mention.author_handle, mention.platform),
        "url": mention.url,
        "text": mention.text[:EXCERPT],
    }


def _bounded(value, limit: int, what: str) -> str:
    value = nfc(value)
    if len(value) > limit:
        raise InvalidInput(
            _("The %(what)s is limited to %(n)s characters (%(len)s now).")
            % {"what": what, "n": limit, "len": len(value)}
        )
    return value


def _locked(incident: Incident, mention: Mention, actor) -> tuple[Incident, Mention, Triage]:
    """Lock the incident, check the actor may work the queue, and return the mention (still
    attached to this incident) with its triage row (created, open and untyped, if none)."""
    incident = incident_actions.lock_incident(incident)
    rules.require_work(actor, incident)
    mention = Mention.objects.filter(pk=mention.pk, incident=incident).first()
    if mention is None:
        raise Conflict(_("This mention is no longer attached to this incident."))
    triage = (
        Triage.objects.select_for_update(of=("self",))
        .select_related("claimed_by")
        .filter(incident=incident, mention=mention)
        .first()
    )
    if triage is None:
        triage = Triage.objects.create(incident=incident, mention=mention)
    return incident, mention, triage


def _record(incident, kind, actor, mention, **data):
    incident_actions.timeline_record(
        incident, kind=kind, actor=actor, data={"mention": _describe(mention), **data}
    )


@transaction.atomic
def triage_set(
    *,
    incident: Incident,
    mention: Mention,
    actor,
    author_type: str,
    needs_answer: str,
    note: str = "",
    suggested: str = "",
) -> Triage:
    """Set who wrote the mention and whether it needs an answer, with an optional note (at
    most NOTE_MAX characters). `suggested` is the type the page showed (recorded, so the
    timeline says whether the suggestion was confirmed). The same values again write
    nothing."""
    if author_type not in AuthorType.values:
        raise InvalidInput(_("Unknown author type: %(value)s") % {"value": author_type})
    if needs_answer not in NeedsAnswer.values:
        raise InvalidInput(_("Unknown answer need: %(value)s") % {"value": needs_answer})
    if suggested and suggested not in AuthorType.values:
        suggested = ""
    note = _bounded(note, NOTE_MAX, _("note"))
    incident, mention, triage = _locked(incident, mention, actor)
    if (triage.author_type, triage.needs_answer, triage.note) == (author_type, needs_answer, note):
        return triage
    old_type = triage.author_type
    triage.author_type = author_type
    triage.needs_answer = needs_answer
    triage.note = note
    triage.triaged_by = actor
    triage.triaged_at = timezone.now()
    triage.save(update_fields=["author_type", "needs_answer", "note", "triaged_by", "triaged_at"])
    _record(
        incident,
        EntryKind.MENTION_TRIAGED,
        actor,
        mention,
        author_type=author_type,
        old_type=old_type,
        needs_answer=needs_answer,
        note=note,
        suggested=suggested,
    )
    return triage


@transaction.atomic
def claim(*, incident: Incident, mention: Mention, actor) -> bool:
    """Say "I am answering this person". False when the actor already holds it. Refused
    (Conflict, naming them) while someone else's claim is younger than
    rules.CLAIM_MINUTES; an older one is taken over, and the entry says from whom. A handled
    mention cannot be claimed."""
    incident, mention, triage = _locked(incident, mention, actor)
    if triage.outcome != Outcome.OPEN:
        raise Conflict(
            _("Already handled: %(outcome)s.") % {"outcome": Outcome(triage.outcome).label}
        )
    if triage.claimed_by_id == actor.pk:
        return False
    now = timezone.now()
    rules.require_not_held_by_other(actor, triage, now)
    rules.require_author_not_held_by_other(actor, incident, mention, now)
    previous = triage.claimed_by
    triage.claimed_by = actor
    triage.claimed_at = now
    triage.save(update_fields=["claimed_by", "claimed_at"])
    data = {"taken_over_from": display_name(previous)} if previous else {}
    _record(incident, EntryKind.MENTION_CLAIMED, actor, mention, **data)
    return True


@transaction.atomic
def release(*, incident: Incident, mention: Mention, actor) -> bool:
    """Give a claim back. False when nobody holds it. The claimer or the lead may; anyone
    who may claim may release a stale claim."""
    incident, mention, triage = _locked(incident, mention, actor)
    if triage.claimed_by_id is None:
        return False
    if not rules.can_release(actor, incident, triage):
        raise NotAllowed(
            _("Only %(name)s or the lead can release it.")
            % {"name": display_name(triage.claimed_by)}
        )
    claimer = display_name(triage.claimed_by)
    triage.claimed_by = None
    triage.claimed_at = None
    triage.save(update_fields=["claimed_by", "claimed_at"])
    _record(incident, EntryKind.MENTION_RELEASED, actor, mention, claimer=claimer)
    return True


def _conclude(triage: Triage, actor, outcome: str, reason: str) -> None:
    triage.outcome = outcome
    triage.outcome_reason = reason
    triage.decided_by = actor
    triage.decided_at = timezone.now()
    triage.claimed_by = None  # dealt with: nobody is answering any more
    triage.claimed_at = None
    if outcome in ANSWERS and triage.needs_answer == NeedsAnswer.UNDECIDED:
        # Answering someone says they needed it: the coverage counts them (it stayed "—"
        # when replies were written straight from the "To triage" tab).
        triage.needs_answer = NeedsAnswer.YES
    triage.save(
        update_fields=[
            "outcome",
            "outcome_reason",
            "decided_by",
            "decided_at",
            "claimed_by",
            "claimed_at",
            "needs_answer",
        ]
    )


@transaction.atomic
def decide(*, incident: Incident, mention: Mention, actor, outcome: str, reason: str) -> bool:
    """Record that this person gets no public answer: `outcome` is one of choices.DECISIONS
    (deliberately not answered, answered privately, handed to customer service), with a `reason`
    (required, at most REASON_MAX characters). False when that outcome is already recorded;
    Conflict when another outcome is, or when someone else is answering this person."""
    if outcome not in DECISIONS:
        raise InvalidInput(_("Unknown decision: %(value)s") % {"value": outcome})
    reason = _bounded(reason, REASON_MAX, _("reason"))
    if not reason:
        raise InvalidInput(_("Say why: a reason is required."))
    incident, mention, triage = _locked(incident, mention, actor)
    if triage.outcome == outcome:
        return False
    if triage.outcome != Outcome.OPEN:
        raise Conflict(
            _("Already handled: %(outcome)s.") % {"outcome": Outcome(triage.outcome).label}
        )
    rules.require_not_held_by_other(actor, triage)
    rules.require_author_not_held_by_other(actor, incident, mention)
    _conclude(triage, actor, outcome, reason)
    _record(incident, EntryKind.REPLY_DECIDED, actor, mention, outcome=outcome, reason=reason)
    return True


@transaction.atomic
def thank(*, incident: Incident, mention: Mention, actor, note: str = "") -> bool:
    """Record that a supporter / defender was thanked (an optional `note`: how). Only for a
    mention triaged as a defender; False when already thanked."""
    note = _bounded(note, REASON_MAX, _("note"))
    incident, mention, triage = _locked(incident, mention, actor)
    if triage.author_type != AuthorType.DEFENDER:
        raise InvalidInput(_("Only a mention triaged as a supporter / defender can be thanked."))
    if triage.outcome == Outcome.THANKED:
        return False
    if triage.outcome != Outcome.OPEN:
        raise Conflict(
            _("Already handled: %(outcome)s.") % {"outcome": Outcome(triage.outcome).label}
        )
    rules.require_not_held_by_other(actor, triage)
    _conclude(triage, actor, Outcome.THANKED, note)
    _record(incident, EntryKind.DEFENDER_THANKED, actor, mention, note=note)
    return True


# --- Replies: statements bound to a mention ----------------------------------------------

# A batch review holds at most this many decisions (each one is a whole approval action).
MAX_BATCH = 50
COMMENT_MAX = 5_000


def live_reply(triage: Triage) -> Reply | None:
    """The mention's reply that is not withdrawn (draft to published), with its statement;
    None when there is none."""
    return (
        Reply.objects.filter(triage=triage)
        .exclude(statement__status=StatementStatus.WITHDRAWN)
        .select_related("statement")
        .first()
    )


def reply_channel(mention: Mention) -> str | None:
    """The statement channel of the mention's platform; None when statements are not
    published there (a forum, the press...)."""
    return mention.platform if mention.platform in Channel.values else None


def reply_language(mention: Mention) -> str:
    """The mention's language when statements are written in it, else the site's."""
    if mention.language in Language.values:
        return mention.language
    site = settings.LANGUAGE_CODE[:2]
    return site if site in Language.values else Language.EN


def mention_values(mention: Mention) -> dict[str, str]:
    """What a reply template's placeholders are filled with ("" where the mention lacks
    it: the template then refuses to render, naming the placeholder)."""
    handle = mention.author_handle.strip()
    if handle and not handle.startswith("@"):
        handle = "@" + handle
    return {
        "author.handle": handle,
        "author.name": mention.author_name.strip(),
        "mention.url": mention.url.strip(),
    }


@dataclass
class FromTemplate:
    """A reply template rendered for one mention: the text, and the template it came from
    (its text is what an advance approval was given on)."""

    template_id: int
    template_text: str
    text: str


def render_reply(incident: Incident, mention: Mention, template_id: int) -> FromTemplate:
    """The incident's reply template `template_id` filled in with this mention's values.
    InvalidInput when the incident has no such reply template, or a placeholder has no
    data (the message names it)."""
    template = next((t for t in preapproval.reply_templates(incident) if t.pk == template_id), None)
    if template is None:
        raise InvalidInput(_("This incident has no reply template with this id."))
    draft = drafting.draft_from_template(incident, template_id, mention_values(mention))
    return FromTemplate(template_id=template.pk, template_text=template.text, text=draft["text"])


@transaction.atomic
def reply_write(
    *,
    incident: Incident,
    mention: Mention,
    actor,
    text: str = "",
    channel: str = "",
    template: int | None = None,
) -> Statement:
    """Start the reply to this mention: a draft statement of kind "individual reply" on
    the incident (statements.actions.statement_create: its checks and timeline entry),
    replying to the mention's author and post, on the mention's platform (`channel` only
    when the platform is not a statement channel), in the mention's language when it is
    one of statements' (else the site's), bound to the mention, which the actor now claims
    (a `mention_claimed` entry when they did not hold it).

    `template`: one of the incident's reply templates, filled in with the mention's values
    (`render_reply`) instead of `text`; the statement remembers it, so that submitted
    unchanged it may be approved in advance (statements.preapproval).

    Refused: NotAllowed (those who do not draft statements), Conflict (the mention is
    handled, someone else holds it, or it already has a live reply: its statement id is
    in `statement`), InvalidInput (no text, no channel, a template that cannot render)."""
    incident, mention, triage = _locked(incident, mention, actor)
    if not rules.can_reply(actor, incident):
        raise NotAllowed(str(NOT_A_DRAFTER))
    # Rendering is a few string replacements: nothing slow under the lock.
    rendered = render_reply(incident, mention, template) if template is not None else None
    if rendered is not None:
        text = rendered.text
    if triage.outcome != Outcome.OPEN:
        raise Conflict(
            _("Already handled: %(outcome)s.") % {"outcome": Outcome(triage.outcome).label}
        )
    rules.require_not_held_by_other(actor, triage)
    rules.require_author_not_held_by_other(actor, incident, mention)
    rules.require_no_author_reply(incident, mention)
    existing = live_reply(triage)
    if existing is not None:
        raise Conflict(
            _("This person already has a reply (%(status)s): work on it, or withdraw it first.")
            % {"status": StatementStatus(existing.statement.status).label},
            statement=existing.statement_id,
        )
    channel = reply_channel(mention) or channel
    if channel not in Channel.values:
        raise InvalidInput(
            _("Statements are not published on %(platform)s: choose the channel of the reply.")
            % {"platform": mention.get_platform_display()}
        )
    handle = mention.author_handle or mention.author_name
    statement = statement_actions.statement_create(
        incident=incident,
        actor=actor,
        kind=StatementKind.REPLY,
        channel=channel,
        language=reply_language(mention),
        text=text,
        # A handle may be as long as the title may (TITLE_MAX): cut, never refused by the database.
        title=Truncator(
            _("Reply to %(who)s") % {"who": handle or mention.get_platform_display()}
        ).chars(TITLE_MAX),
        reply_to_account=handle[:200],
        reply_to_url=mention.url if len(mention.url) <= 500 else "",
        template_id=rendered.template_id if rendered else None,
        template_text=rendered.template_text if rendered else "",
    )
    now = timezone.now()
    Reply.objects.create(triage=triage, statement=statement, created_by=actor, created_at=now)
    if triage.claimed_by_id != actor.pk:
        previous = triage.claimed_by
        triage.claimed_by = actor
        triage.claimed_at = now
        triage.save(update_fields=["claimed_by", "claimed_at"])
        data = {"taken_over_from": display_name(previous)} if previous else {}
        _record(incident, EntryKind.MENTION_CLAIMED, actor, mention, reply=statement.pk, **data)
    return statement


def reply_published(entry, incident) -> None:
    """Timeline follower (registered in apps.py): when a statement bound to a mention is
    published, by whatever path, the mention is answered: the triage's outcome becomes
    "answered" with the publisher and the publication time (the median time to answer runs
    from the post to it), its claim ends, and a `reply_decided` entry says so. Runs inside
    the publishing action, under its incident lock. A mention already handled otherwise
    (decided while the reply was on its way) keeps its decision."""
    if entry.kind != EntryKind.STATEMENT_PUBLISHED or entry.data.get("kind") != StatementKind.REPLY:
        return
    reply = (
        Reply.objects.select_related("triage", "triage__mention", "statement")
        .filter(statement_id=entry.data.get("statement"), triage__incident=incident)
        .first()
    )
    if reply is None or reply.triage.outcome != Outcome.OPEN:
        return
    triage, statement = reply.triage, reply.statement
    _conclude(triage, entry.actor, Outcome.ANSWERED, "")
    triage.decided_at = statement.published_at
    triage.save(update_fields=["decided_at"])
    _record(
        incident,
        EntryKind.REPLY_DECIDED,
        entry.actor,
        triage.mention,
        outcome=Outcome.ANSWERED,
        reason="",
        statement=statement.pk,
        url=statement.published_url,
    )


def _batch_item(raw, n: int) -> tuple[int, int, str, str]:
    statement, revision = parse_id(raw.get("statement")), parse_id(raw.get("revision"))
    if statement is None or revision is None:
        raise InvalidInput(
            _("Item %(n)s: a statement id and a revision number are required.") % {"n": n}
        )
    decision = raw.get("decision", "")
    if decision not in ReviewDecision.values:
        raise InvalidInput(
            _("Item %(n)s: unknown decision “%(value)s”.") % {"n": n, "value": decision}
        )
    comment = nfc(raw.get("comment") or "")
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(
            _("Item %(n)s: a comment is limited to %(max)s characters.")
            % {"n": n, "max": COMMENT_MAX}
        )
    if decision == ReviewDecision.REQUEST_CHANGES and not comment:
        raise InvalidInput(_("Item %(n)s: say what must change: a comment is required.") % {"n": n})
    return statement, revision, decision, comment


def review_batch(*, incident: Incident, actor, items: list[dict]) -> list[dict]:
    """Approve or return several replies of the incident at once. `items`: at most
    MAX_BATCH dicts {statement: id, revision: the number the approver read, decision:
    "approve" | "request_changes", comment: required to return, at most COMMENT_MAX}.

    Each decision is statements' own single action (statement_approve /
    statement_request_changes: four-eyes, the policy's functions and steps, the exact
    revision), in its own transaction: one refused item (text changed since it was read,
    the actor wrote it, not awaited...) is reported and the others go through.

    Returns one dict per item, in order: {statement, ok, status, revision, error} (`error`
    "" when ok; `status` and `revision` as the statement now is, None when not found).
    Raises before doing anything: InvalidInput (no items, too many, an item malformed or
    twice), NotAllowed (not an approver of the cell)."""
    if not items:
        raise InvalidInput(_("Choose at least one reply."))
    if len(items) > MAX_BATCH:
        raise InvalidInput(
            _("At most %(n)s replies at once (%(given)s given).")
            % {"n": MAX_BATCH, "given": len(items)}
        )
    parsed = [_batch_item(raw, n) for n, raw in enumerate(items, 1)]
    ids = [p[0] for p in parsed]
    if len(set(ids)) != len(ids):
        raise InvalidInput(_("A reply appears twice in the batch."))
    if not rules.can_review(actor, incident):
        raise NotAllowed(_("Only approvers of the cell review statements."))
    found = {
        s.pk: s
        for s in Statement.objects.filter(
            pk__in=ids, incident=incident, kind=StatementKind.REPLY
        ).select_related("incident")
    }
    results = []
    for statement_id, revision, decision, comment in parsed:
        statement = found.get(statement_id)
        if statement is None:
            results.append(
                {
                    "statement": statement_id,
                    "ok": False,
                    "status": None,
                    "revision": None,
                    "error": _("No reply %(id)s in this incident.") % {"id": statement_id},
                }
            )
            continue
        try:
            if decision == ReviewDecision.APPROVE:
                statement = statement_actions.statement_approve(
                    statement=statement, actor=actor, revision=revision, comment=comment
                )
            else:
                statement = statement_actions.statement_request_changes(
                    statement=statement, actor=actor, comment=comment, revision=revision
                )
        except DomainError as exc:
            current = Statement.objects.filter(pk=statement_id).values("status", "revision").first()
            results.append(
                {
                    "statement": statement_id,
                    "ok": False,
                    "status": current["status"],
                    "revision": current["revision"],
                    "error": exc.message,
                }
            )
        else:
            results.append(
                {
                    "statement": statement_id,
                    "ok": True,
                    "status": statement.status,
                    "revision": statement.revision,
                    "error": "",
                }
            )
    return results


@dataclass
class CaptureRequest:
    """What `mention_capture` did: `queued`, the MentionCaptures it asked for now; `kept`,
    the ones already queued, running or done that it left alone; `skipped`, [(target,
    reason)] for a page without an address or one the server may not open."""

    queued: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


def _capture_description(target: str, mention: Mention) -> str:
    values = {"author": mention.author_handle or mention.author_name or "?", "id": mention.pk}
    if target == CaptureTarget.POST:
        return _("Post by %(author)s (mention #%(id)s, from the reply queue)") % values
    return _("Profile of %(author)s (mention #%(id)s, from the reply queue)") % values


@transaction.atomic
def mention_capture(
    *, incident: Incident, mention: Mention, actor, again: bool = False
) -> CaptureRequest:
    """Capture the mention's post and its author's profile page as evidence: one URL
    capture of the evidence locker (`evidence_capture_request`: its SSRF checks, size
    limits, worker, hashed items and timeline entries) per page with an address the server
    may open, each recorded as a MentionCapture.

    Idempotent: a page whose last capture is queued, running or done is not asked for
    again; a failed one is. `again=True` (the person explicitly asks for a fresh copy)
    captures the done ones once more, never one still pending.

    Errors: NotAllowed (403) for whoever may not add evidence (rules.can_capture);
    Conflict (409) when the mention is no longer attached to the incident; InvalidInput
    (400) when neither page can be captured (no address, or one refused: its reason)."""
    if not rules.can_capture(actor, incident):
        raise NotAllowed(_("Only members of the cell who can write may add evidence."))
    result = CaptureRequest()
    wanted = []
    # Checked before any lock: the address check resolves the host name (DNS).
    for target, url in (
        (CaptureTarget.POST, mention.url),
        (CaptureTarget.PROFILE, mention.author_url),
    ):
        if not url:
            result.skipped.append((target, _("No address for this page.")))
            continue
        try:
            wanted.append((target, evidence_capture.check_url(url)))
        except InvalidInput as exc:
            result.skipped.append((target, exc.message))
    if not wanted:
        raise InvalidInput(
            _("Nothing to capture: %(reasons)s")
            % {"reasons": " ".join(f"{CaptureTarget(t).label}: {r}" for t, r in result.skipped)}
        )
    incident = incident_actions.lock_incident(incident)
    if not Mention.objects.filter(pk=mention.pk, incident=incident).exists():
        raise Conflict(_("This mention is no longer attached to this incident."))
    latest = {}
    for capture in (
        MentionCapture.objects.filter(incident=incident, mention=mention)
        .select_related("job")
        .order_by("pk")
    ):
        latest[capture.target] = capture
    for target, url in wanted:
        previous = latest.get(target)
        status = previous.job.status if previous else None
        if status in PENDING_CAPTURE or (status == CaptureStatus.DONE and not again):
            result.kept.append(previous)
            continue
        job = evidence_actions.evidence_capture_request(
            incident=incident,
            actor=actor,
            url=url,
            kind=EvidenceKind.POST if target == CaptureTarget.POST else EvidenceKind.PROFILE,
            platform=mention.platform,
            description=_capture_description(target, mention),
        )
        result.queued.append(
            MentionCapture.objects.create(
                incident=incident, mention=mention, target=target, job=job
            )
        )
    return result
