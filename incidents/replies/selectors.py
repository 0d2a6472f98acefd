"""Reads of the reply queue: the queue of an incident (filtered, ordered, paged) and its
coverage. Constant query counts whatever the number of mentions (tests assert it)."""

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from django.db.models import Count, Exists, F, Min, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import get_language, ngettext

from incidents import extensions
from incidents.evidence.capture import failure_reason
from incidents.evidence.choices import CaptureStatus
from incidents.listening.models import Mention
from statements.choices import StatementKind, StatementStatus

from . import rules
from .choices import ADVICE, ANSWERS, HANDLED, AuthorType, NeedsAnswer, Outcome, QueueView
from .models import MentionCapture, Reply, Triage
from .suggest import Signals, Suggestion, suggest

PAGE_SIZE = 20
# Live claims and replies on their way read for a page: a few per person answering at
# once, far below this.
MAX_LIVE_CLAIMS = 500
MAX_PAGE_SIZE = 100
# Answered items read to compute the median time to answer (the most recent ones).
MEDIAN_SAMPLE = 10_000

# Followers of the brand first, then those who replied to the brand, then reach, then the
# oldest: the order in which the articles say to answer.
QUEUE_ORDER = (
    # Not known (None) counts as not following.
    Coalesce(F("author_follows_brand"), Value(False)).desc(),
    F("reply_to_brand").desc(),
    F("author_followers").desc(nulls_last=True),
    F("posted_at").asc(),
    F("id").asc(),
)


def _triages(incident, **filters):
    return Triage.objects.filter(incident=incident, mention=OuterRef("pk"), **filters)


def queue(
    incident,
    *,
    view=QueueView.TO_ANSWER,
    author_type=None,
    platform=None,
    language=None,
    author=None,
):
    """The incident's attached mentions of one queue view, in QUEUE_ORDER, as a queryset of
    Mention (no triage loaded: `page_items` adds it to a page).

    Views: `to_answer` (triaged "needs an answer", still open), `to_triage` (no type yet or
    the need undecided, still open), `defenders` (typed supporter / defender, whatever the
    outcome), `handled` (any outcome but open, or triaged as needing no answer: nothing is
    left to do but, if wanted, record why not). Filters: `author_type` (AuthorType; the
    confirmed type), `platform`, `language` ("" = not known), `author` (a handle, with or
    without "@", whatever the case: that person's posts, in every view, so that "N posts
    here" shows them all; with `platform`, one person)."""
    qs = Mention.objects.filter(incident=incident)
    if author:
        qs = qs.filter(_handle_is(author))
    elif view == QueueView.TO_ANSWER:
        qs = qs.filter(
            Exists(_triages(incident, needs_answer=NeedsAnswer.YES, outcome=Outcome.OPEN))
        )
    elif view == QueueView.TO_TRIAGE:
        decided = _triages(incident).filter(
            ~Q(author_type="") & ~Q(needs_answer=NeedsAnswer.UNDECIDED) | ~Q(outcome=Outcome.OPEN)
        )
        qs = qs.filter(~Exists(decided))
    elif view == QueueView.DEFENDERS:
        qs = qs.filter(Exists(_triages(incident, author_type=AuthorType.DEFENDER)))
    elif view == QueueView.HANDLED:
        qs = qs.filter(Exists(_handled(_triages(incident))))
    if author_type:
        qs = qs.filter(Exists(_triages(incident, author_type=author_type)))
    if platform:
        qs = qs.filter(platform=platform)
    if language is not None:
        qs = qs.filter(language=language)
    return qs.order_by(*QUEUE_ORDER)


def _handle_is(handle: str) -> Q:
    """The posts whose handle is this one as `rules.author_of` reads it ("@Anti_KX" and
    "anti_kx" are one author), found by the database whatever their case."""
    handle = handle.strip().lstrip("@")
    return Q(author_handle__iexact=handle) | Q(author_handle__iexact=f"@{handle}")


def _handled(triages):
    """The triages with nothing left to answer: decided, or needing no answer (a troll
    triaged "no" stays reachable there to record "no public answer" and why); defenders
    not yet thanked stay in their own view only."""
    return triages.filter(
        ~Q(outcome=Outcome.OPEN)
        | Q(needs_answer=NeedsAnswer.NO) & ~Q(author_type=AuthorType.DEFENDER)
    )


def view_counts(incident) -> dict[str, int]:
    """How many mentions each queue view holds, and `attached` (all): one query."""
    triage = _triages(incident)
    decided = triage.filter(
        ~Q(author_type="") & ~Q(needs_answer=NeedsAnswer.UNDECIDED) | ~Q(outcome=Outcome.OPEN)
    )
    row = Mention.objects.filter(incident=incident).aggregate(
        attached=Count("pk"),
        to_answer=Count(
            "pk",
            filter=Q(Exists(triage.filter(needs_answer=NeedsAnswer.YES, outcome=Outcome.OPEN))),
        ),
        to_triage=Count("pk", filter=~Q(Exists(decided))),
        defenders=Count("pk", filter=Q(Exists(triage.filter(author_type=AuthorType.DEFENDER)))),
        handled=Count("pk", filter=Q(Exists(_handled(triage)))),
    )
    return {name: row[name] for name in ("attached", *QueueView.values)}


@dataclass
class Item:
    """One mention of a queue page: the mention, its triage (None: not triaged yet), how
    many posts its author has in the incident, and the suggestion."""

    mention: Mention
    triage: Triage | None
    author_posts: int
    suggestion: Suggestion
    # The mention's live reply (not withdrawn), with its statement; None when none.
    reply: Reply | None = None
    # How to handle its type (advice_text), and for a defender the known ambassador of the
    # incident's contacts they are (ambassador_for), else None.
    advice: str = ""
    ambassador: extensions.Ambassador | None = None
    # The live claims of the incident (rules.live_claims), for rules.author_holder, and its
    # replies on their way (rules.pending_replies), for rules.author_reply.
    claims: list = field(default_factory=list)
    pending: list = field(default_factory=list)

    def author_held(self, user):
        """The claim someone other than `user` holds on another post of this author."""
        return rules.author_holder(user, self.mention, self.claims)

    @property
    def author_pending(self):
        """A reply on its way to this author on another of their posts."""
        return rules.author_reply(self.mention, self.pending)

    @property
    def author_type(self) -> str:
        """The confirmed type, else the suggested one."""
        return (self.triage and self.triage.author_type) or self.suggestion.author_type


def advice_text(advice: dict, author_type: str) -> str:
    """The handling advice shown for an author type, in the active language (the one
    place that decides it, for the page and the API): the incident's playbook's when it
    wrote one in that language (`advice`: incidents.extensions.handling_advice), else the
    default (choices.ADVICE, translated)."""
    language = (get_language() or "en").split("-")[0]
    written = advice.get(author_type)
    text = written.get(language, "") if isinstance(written, dict) else ""
    return text or str(ADVICE.get(author_type, ""))


def handle_key(handle: str) -> str:
    """A handle as ambassadors are matched: without the leading "@", case-insensitive."""
    return (handle or "").strip().lstrip("@").casefold()


def ambassador_for(ambassadors, mention) -> extensions.Ambassador | None:
    """The known ambassador (incidents.extensions.ambassadors_of) who wrote this mention:
    same handle (handle_key) and, when the contact names a platform, the mention's
    platform; None when nobody matches. The first in the contacts' order wins."""
    key = handle_key(mention.author_handle)
    if not key:
        return None
    for ambassador in ambassadors:
        if handle_key(ambassador.handle) == key and ambassador.platform in ("", mention.platform):
            return ambassador
    return None


@dataclass(frozen=True)
class AuthorCounts:
    posts: int = 1  # their posts attached to the incident
    answered: int = 0  # of those, answered (ANSWERS)


def _authors(incident, mentions) -> dict[tuple[str, str], AuthorCounts]:
    """How many posts attached to the incident each author of `mentions` wrote, and how
    many of them were answered, by `rules.author_key` ("@Anti_KX" and "anti_kx" are one
    author). One query: the database finds the candidates whatever their case; the rule
    groups them."""
    handles = {key[1] for key in map(rules.author_key, mentions) if key}
    if not handles:
        return {}
    candidates = Q()
    for handle in handles:
        candidates |= _handle_is(handle)
    answered = Triage.objects.filter(incident=incident, mention=OuterRef("pk"), outcome__in=ANSWERS)
    counts: dict[tuple[str, str], AuthorCounts] = {}
    rows = (
        Mention.objects.filter(candidates, incident=incident)
        .values("platform", "author_handle")
        .annotate(n=Count("pk"), answered=Count("pk", filter=Q(Exists(answered))))
    )
    for row in rows:
        key = rules.author_of(row["platform"], row["author_handle"])
        known = counts.get(key, AuthorCounts(posts=0))
        counts[key] = AuthorCounts(known.posts + row["n"], known.answered + row["answered"])
    return counts


def page_items(incident, mentions) -> list[Item]:
    """A page of queue mentions (a list, already sliced) with their triage (and claimer,
    triager, decider), their live reply (with its statement), their authors' post counts,
    the incident's live claims and replies on their way (an author is one person) and the
    handling advice of their types: six queries whatever the page size, one more when a
    defender is on the page (the incident's known ambassadors)."""
    mentions = list(mentions)
    ids = [m.pk for m in mentions]
    triages = {
        t.mention_id: t
        for t in Triage.objects.filter(incident=incident, mention_id__in=ids).select_related(
            "claimed_by", "triaged_by", "decided_by"
        )
    }
    authors = _authors(incident, mentions)
    replies = {}
    if triages:
        for reply in (
            Reply.objects.filter(triage__in=list(triages.values()))
            .exclude(statement__status=StatementStatus.WITHDRAWN)
            .select_related("statement")
            .order_by("created_at", "id")
        ):
            replies[reply.triage_id] = reply  # the newest wins
    claims = list(rules.live_claims(incident)[:MAX_LIVE_CLAIMS])
    pending = list(rules.pending_replies(incident)[:MAX_LIVE_CLAIMS])
    items = []
    for mention in mentions:
        author = authors.get(rules.author_key(mention), AuthorCounts())
        triage = triages.get(mention.pk)
        # Answered on another post, or a reply on its way there.
        answered_here = triage is not None and triage.outcome in ANSWERS
        answered = author.answered > answered_here or (
            rules.author_reply(mention, pending) is not None
        )
        items.append(
            Item(
                mention=mention,
                triage=triage,
                author_posts=author.posts,
                suggestion=suggest(
                    Signals.of(mention, author_posts=author.posts, author_answered=answered)
                ),
                reply=replies.get(triages[mention.pk].pk) if mention.pk in triages else None,
                claims=claims,
                pending=pending,
            )
        )
    if not items:
        return items
    advice = extensions.handling_advice(incident)
    defenders = [item for item in items if item.author_type == AuthorType.DEFENDER]
    known = extensions.ambassadors_of(incident) if defenders else []
    for item in items:
        item.advice = advice_text(advice, item.author_type)
    for item in defenders:
        item.ambassador = ambassador_for(known, item.mention)
    return items


def item(incident, mention) -> Item:
    """One mention as a queue item (six queries at most)."""
    return page_items(incident, [mention])[0]


@dataclass
class Coverage:
    """The reply coverage of an incident. Counts are of the mentions still attached to it.

    `needing`: triaged "needs an answer"; `answered`: of those, handled (answered, answered
    privately, handed to customer service, or decided "no answer"); `percent`: answered /
    needing (None when nothing needs an answer); `open_by_type` and `open_by_platform`:
    [(value, n)] of the open ones, largest first; `oldest_open_at`: the posting time of the
    oldest open one (None when none); `median_seconds`: median time from posting to the
    outcome over the answered ones (None when none); `attached`, `to_triage`,
    `defenders`, `thanked`."""

    attached: int = 0
    to_triage: int = 0
    needing: int = 0
    answered: int = 0
    open: int = 0
    defenders: int = 0
    thanked: int = 0
    open_by_type: list = field(default_factory=list)
    open_by_platform: list = field(default_factory=list)
    oldest_open_at: datetime | None = None
    median_seconds: float | None = None

    @property
    def percent(self) -> int | None:
        return round(100 * self.answered / self.needing) if self.needing else None

    @property
    def oldest_open_seconds(self) -> int | None:
        if self.oldest_open_at is None:
            return None
        return max(0, int((timezone.now() - self.oldest_open_at).total_seconds()))


def coverage(incident, counts: dict | None = None) -> Coverage:
    """The incident's coverage (see Coverage): four queries whatever the number of mentions
    (three when the caller already read `view_counts`)."""
    counts = counts if counts is not None else view_counts(incident)
    triages = Triage.objects.filter(incident=incident, mention__incident=incident)
    needing = triages.filter(needs_answer=NeedsAnswer.YES)
    open_ = needing.filter(outcome=Outcome.OPEN)
    totals = triages.aggregate(
        needing=Count("pk", filter=Q(needs_answer=NeedsAnswer.YES)),
        answered=Count("pk", filter=Q(needs_answer=NeedsAnswer.YES, outcome__in=HANDLED)),
        open=Count("pk", filter=Q(needs_answer=NeedsAnswer.YES, outcome=Outcome.OPEN)),
        thanked=Count("pk", filter=Q(outcome=Outcome.THANKED)),
        oldest=Min(
            "mention__posted_at", filter=Q(needs_answer=NeedsAnswer.YES, outcome=Outcome.OPEN)
        ),
    )
    by_type: dict[str, int] = {}
    by_platform: dict[str, int] = {}
    for row in open_.values("author_type", "mention__platform").annotate(n=Count("pk")):
        by_type[row["author_type"]] = by_type.get(row["author_type"], 0) + row["n"]
        platform = row["mention__platform"]
        by_platform[platform] = by_platform.get(platform, 0) + row["n"]
    durations = [
        (decided - posted).total_seconds()
        for decided, posted in needing.filter(outcome__in=HANDLED, decided_at__isnull=False)
        .order_by("-decided_at")
        .values_list("decided_at", "mention__posted_at")[:MEDIAN_SAMPLE]
    ]
    return Coverage(
        attached=counts["attached"],
        to_triage=counts[QueueView.TO_TRIAGE],
        needing=totals["needing"],
        answered=totals["answered"],
        open=totals["open"],
        defenders=counts[QueueView.DEFENDERS],
        thanked=totals["thanked"],
        open_by_type=sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0])),
        open_by_platform=sorted(by_platform.items(), key=lambda kv: (-kv[1], kv[0])),
        oldest_open_at=totals["oldest"],
        median_seconds=median(durations) if durations else None,
    )


# A batch review page lists at most this many replies (the batch's own bound).
REVIEW_LIMIT = 50


def replies_in_review(incident) -> list[Reply]:
    """The incident's replies in review (oldest submitted first, at most REVIEW_LIMIT),
    each with its statement (and author, sharing `incident`) and the mention it answers.
    One query (the statements' approval progress is the caller's: statements.selectors)."""
    replies = list(
        Reply.objects.filter(
            triage__incident=incident,
            statement__kind=StatementKind.REPLY,
            statement__status=StatementStatus.IN_REVIEW,
        )
        .select_related("statement__author", "triage__mention")
        .order_by("statement__submitted_at", "statement_id")[:REVIEW_LIMIT]
    )
    for reply in replies:
        reply.statement.incident = incident
    return replies


@dataclass
class CapturedItem:
    pk: int
    number: int
    content_type: str
    http_status: int | None = None  # what the page answered when captured

    @property
    def label(self) -> str:
        return f"E-{self.number}"


@dataclass
class PageCapture:
    """One page of a mention (CaptureTarget) as captured from the reply queue: the last
    capture asked for (`status` of its job: queued, running, done, failed; `stage`,
    `error`, `requested_at`, `job`), and the evidence items of the newest capture that
    succeeded (`items`: a screenshot and the page archive; [] when none did yet)."""

    target: str
    job: int
    status: str
    stage: str
    error: str
    requested_at: datetime
    items: list = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.status in (CaptureStatus.QUEUED, CaptureStatus.RUNNING)

    @property
    def reason(self) -> str:
        """Why it failed, a plain sentence in the active language ("" unless failed)."""
        return failure_reason(self.error)

    @property
    def http_status(self) -> int | None:
        """The HTTP status the captured page answered (404, 410: probably deleted)."""
        return self.items[0].http_status if self.items else None


@dataclass
class MentionCaptures:
    """The captures of a mention's pages, by target: `post` and `profile` (None: never
    asked for). `pending`: one is still queued or running; `done`: every page asked for
    has evidence."""

    post: PageCapture | None = None
    profile: PageCapture | None = None

    @property
    def pages(self) -> list[PageCapture]:
        return [p for p in (self.post, self.profile) if p is not None]

    @property
    def pending(self) -> bool:
        return any(p.pending for p in self.pages)

    @property
    def done(self) -> bool:
        return bool(self.pages) and all(p.status == CaptureStatus.DONE for p in self.pages)

    @property
    def failed(self) -> bool:
        return any(p.status == CaptureStatus.FAILED for p in self.pages)


def captures_of(incident, mention_ids) -> dict[int, MentionCaptures]:
    """{mention id: MentionCaptures} for these mentions of the incident (a mention never
    captured is absent): one query whatever their number (each capture's items come with
    it). At most two pages per mention, each with at most one capture's items."""
    rows = (
        MentionCapture.objects.filter(incident=incident, mention_id__in=list(mention_ids))
        .order_by("pk", "job__items__number")
        .values_list(
            "mention_id",
            "target",
            "job_id",
            "job__status",
            "job__stage",
            "job__error",
            "job__requested_at",
            "job__items__pk",
            "job__items__number",
            "job__items__content_type",
            "job__items__http_status",
        )
    )
    found: dict[int, MentionCaptures] = {}
    done_items: dict[tuple[int, str], tuple[int, list]] = {}
    for mention_id, target, job, status, stage, error, at, item, number, ctype, http in rows:
        captures = found.setdefault(mention_id, MentionCaptures())
        page = getattr(captures, target)
        if page is None or page.job != job:  # ordered by pk: the last one wins
            page = PageCapture(target, job, status, stage, error, at)
            setattr(captures, target, page)
        if item is not None:
            last_job, items = done_items.get((mention_id, target), (None, []))
            if last_job != job:
                items = []
                done_items[(mention_id, target)] = (job, items)
            items.append(CapturedItem(item, number, ctype, http))
    for (mention_id, target), (_job, items) in done_items.items():
        getattr(found[mention_id], target).items = items
    return found


def loose_ends(incident) -> list[str]:
    """For the lead resolving or closing the incident (incidents.extensions): the people
    triaged as needing an answer who have none yet. One query."""
    n = Triage.objects.filter(
        incident=incident,
        mention__incident=incident,
        needs_answer=NeedsAnswer.YES,
        outcome=Outcome.OPEN,
    ).count()
    if not n:
        return []
    return [
        ngettext(
            "%(n)s person still waits for an answer (the reply queue).",
            "%(n)s people still wait for an answer (the reply queue).",
            n,
        )
        % {"n": n}
    ]
