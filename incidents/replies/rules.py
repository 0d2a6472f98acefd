"""Who may do what in the reply queue: one place, used by the actions (their guards), the
page (which buttons show) and the API (`available_actions` in each item).

- Reading the queue and the coverage: whoever may see the incident
  (incidents.permissions.can_view: the cell, and staff read-only).
- Triage, claim, decide, thank: the incident's cell except observers, the rule of the
  timeline (incidents.rules WRITE_TIMELINE): each of these writes a timeline entry.
- A claim: one person at a time. Someone else's claim is refused, naming them, unless it
  is older than CLAIM_MINUTES (they may have left): then anyone who may claim takes it
  over, and the timeline says so. An author with several posts is one person: claiming,
  deciding or writing a reply on one of them is refused while someone else holds another,
  and writing a reply while another to them is on its way (drafted to approved). The
  claimer or the lead may release it; anyone may release a claim gone stale.
- Deciding (no answer, privately, customer service) or thanking while someone else holds a
  live claim is refused: they are answering that person.
- Writing a reply (a statement of kind "individual reply" bound to the mention): those
  who draft statements (statements.permissions.can_draft: the cell but observers), on an
  open mention that nobody else holds and that has no live reply (draft, in review,
  changes requested, approved or published) yet.
- Batch review: approvers of the cell (statements' rule); each decision then goes through
  statements' own checks (four-eyes, the policy's functions, the exact revision).
"""

from datetime import timedelta

from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import permissions
from incidents import rules as incident_rules
from incidents.errors import Conflict
from incidents.evidence import rules as evidence_rules
from incidents.listening.models import MAX_HANDLE
from incidents.localtime import shown
from incidents.people import display_name
from statements import permissions as statement_permissions
from statements.choices import StatementStatus

from .choices import AuthorType, Outcome
from .models import Reply, Triage

CLAIM_MINUTES = 30

TRIAGE = "triage"
CLAIM = "claim"
RELEASE = "release"
DECIDE = "decide"
THANK = "thank"
REPLY = "reply"
ACTIONS = (TRIAGE, CLAIM, RELEASE, DECIDE, THANK, REPLY)


def can_view(user, incident) -> bool:
    return permissions.can_view(user, incident)


def can_work(user, incident) -> bool:
    """Triage, claim, decide, thank: the cell except observers."""
    return permissions.can_write_timeline(user, incident)


def require_work(user, incident) -> None:
    incident_rules.require(user, incident, incident_rules.WRITE_TIMELINE)


def can_reply(user, incident) -> bool:
    """Write a reply: those who draft statements."""
    return statement_permissions.can_draft(user, incident)


def can_review(user, incident) -> bool:
    """Review replies in a batch: the approvers of the cell."""
    return statement_permissions.approver_function(user, incident) is not None


def claim_is_stale(triage, now=None) -> bool:
    now = now or timezone.now()
    return triage.claimed_at is not None and now - triage.claimed_at > timedelta(
        minutes=CLAIM_MINUTES
    )


def held_by_other(user, triage, now=None) -> bool:
    """Someone else holds a live claim on this triage."""
    return (
        triage is not None
        and triage.claimed_by_id is not None
        and triage.claimed_by_id != user.pk
        and not claim_is_stale(triage, now)
    )


def require_not_held_by_other(user, triage, now=None) -> None:
    if held_by_other(user, triage, now):
        raise Conflict(
            _("%(name)s is answering this person (since %(time)s).")
            % {
                "name": display_name(triage.claimed_by),
                "time": shown(triage.claimed_at, "TIME_FORMAT", zone=True),
            },
            claimed_by=display_name(triage.claimed_by),
        )


def author_key(mention) -> tuple[str, str] | None:
    """Who a post is by, as one person: its platform and handle, without "@", whatever the
    case ("@Anti_KX" and "anti_kx" are one author). None without a handle."""
    return author_of(mention.platform, mention.author_handle)


def author_filter(value: str | None) -> str:
    """The handle a queue's author filter names ("" for none): stripped, without "@".
    Raises ValidationError past MAX_HANDLE characters (the page ignores it, the API
    answers 400)."""
    handle = (value or "").strip().lstrip("@")
    MaxLengthValidator(MAX_HANDLE)(handle)
    return handle


def author_of(platform: str, author_handle: str | None) -> tuple[str, str] | None:
    """`author_key` from a post's platform and handle (a row read without its mention)."""
    handle = (author_handle or "").strip().lstrip("@").lower()
    return (platform, handle) if handle else None


def live_claims(incident, now=None):
    """The incident's open triages someone holds a live claim on (claimer and mention
    loaded), for author_holder. One query."""
    now = now or timezone.now()
    return (
        Triage.objects.filter(
            incident=incident,
            # A post detached since holds nobody: its claim cannot be released any more.
            mention__incident=incident,
            outcome=Outcome.OPEN,
            claimed_by__isnull=False,
            claimed_at__gt=now - timedelta(minutes=CLAIM_MINUTES),
        )
        .select_related("claimed_by", "mention")
        .order_by("claimed_at", "pk")
    )


def author_holder(user, mention, claims):
    """The live claim (a Triage from `claims`, live_claims) someone other than `user` holds
    on another post of this mention's author, or None: an author with several posts is one
    person to answer."""
    key = author_key(mention)
    if key is None:
        return None
    for triage in claims:
        if (
            triage.mention_id != mention.pk
            and triage.claimed_by_id != user.pk
            and author_key(triage.mention) == key
        ):
            return triage
    return None


def pending_replies(incident):
    """The incident's replies still on their way (drafted to approved: not published nor
    withdrawn), with their statement and mention, for author_reply. One query."""
    return (
        # A post detached since answers nobody here: its reply holds nobody either.
        Reply.objects.filter(triage__incident=incident, triage__mention__incident=incident)
        .exclude(statement__status__in=(StatementStatus.PUBLISHED, StatementStatus.WITHDRAWN))
        .select_related("statement", "triage__mention")
        .order_by("created_at", "pk")
    )


def author_reply(mention, replies):
    """A reply on its way to this mention's author on another of their posts (from
    `replies`, pending_replies), or None: one reply to a person at a time, whoever drafted
    it (after a release, a second one went out too)."""
    key = author_key(mention)
    if key is None:
        return None
    for reply in replies:
        other = reply.triage.mention
        if other.pk != mention.pk and author_key(other) == key:
            return reply
    return None


def require_no_author_reply(incident, mention) -> None:
    """Writing a reply while another to the same author is on its way: refused, with its
    status. One query; none for a post without a handle."""
    if author_key(mention) is None:
        return
    reply = author_reply(mention, pending_replies(incident))
    if reply is not None:
        raise Conflict(
            _(
                "%(who)s already has a reply on its way on another of their posts "
                "(%(status)s): work on that one, or withdraw it first."
            )
            % {
                "who": mention.author_handle_shown,
                "status": StatementStatus(reply.statement.status).label,
            },
            statement=reply.statement_id,
        )


def require_author_not_held_by_other(user, incident, mention, now=None) -> None:
    """Claiming or answering a post while someone else answers its author on another post:
    refused, naming them. One query; none for a post without a handle."""
    if author_key(mention) is None:
        return
    other = author_holder(user, mention, live_claims(incident, now))
    if other is not None:
        raise Conflict(
            _("%(name)s is answering %(who)s on another of their posts (since %(time)s).")
            % {
                "name": display_name(other.claimed_by),
                "who": mention.author_handle_shown,
                "time": shown(other.claimed_at, "TIME_FORMAT", zone=True),
            },
            claimed_by=display_name(other.claimed_by),
        )


def can_release(user, incident, triage, now=None) -> bool:
    return (
        triage is not None
        and triage.claimed_by_id is not None
        and can_work(user, incident)
        and (
            triage.claimed_by_id == user.pk
            or permissions.can_lead(user, incident)
            or claim_is_stale(triage, now)
        )
    )


def available_actions(
    user, incident, triage, now=None, reply=None, author_held=None, author_pending=None
) -> list[str]:
    """What `user` may do on this mention of the queue now (`triage` may be None: not
    triaged yet; `reply` its live reply, None when none; `author_held` the claim someone
    else holds on another post of its author, author_holder; `author_pending` a reply on
    its way to the author on another post, author_reply), in ACTIONS order. Reads only
    loaded rows (the incident's prefetched cell, the triage with its claimer)."""
    if not can_work(user, incident):
        return []
    now = now or timezone.now()
    names = [TRIAGE]
    open_ = triage is None or triage.outcome == Outcome.OPEN
    other = held_by_other(user, triage, now)
    mine = triage is not None and triage.claimed_by_id == user.pk
    if open_ and not other and not mine and author_held is None:
        names.append(CLAIM)
    if can_release(user, incident, triage, now):
        names.append(RELEASE)
    if open_ and not other and author_held is None:
        names.append(DECIDE)
    if (
        triage is not None
        and triage.author_type == AuthorType.DEFENDER
        and triage.outcome == Outcome.OPEN
        and not other
    ):
        names.append(THANK)
    if (
        open_
        and not other
        and author_held is None
        and author_pending is None
        and reply is None
        and can_reply(user, incident)
    ):
        names.append(REPLY)
    return names


def can_capture(user, incident) -> bool:
    """Capture a mention's post and profile as evidence: whoever may add evidence to the
    incident (the evidence locker's rule)."""
    return evidence_rules.can_add_evidence(user, incident)
