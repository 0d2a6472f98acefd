"""Everything a post-mortem computes from the records, in one place: the page, the API, the
frozen versions and the exports all call `report(incident)` (one rule, one place).

It reads the other apps through their models and selectors, never writes: the incident and
its timeline (phases, key events, the chain's head), statements (kinds, channels, approval
latency), listening (first mention, signal, volume and sentiment per hour, the reaction to
each statement, detractors), the reply queue (coverage, median time to answer, defenders),
evidence (items) and playbooks (tasks done late). A constant number of queries whatever
the size of the incident (tested): each read is one grouped query or bounded.

Times are seconds (None when the records do not allow the figure); shares are in [0, 1].
"""

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from statistics import median

from django.db.models import Count, F, Max, Min, Q
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from incidents import selectors as incident_selectors
from incidents.crisiscenter.choices import CAME_DUE, PromiseOutcome
from incidents.crisiscenter.models import UpdatePromise
from incidents.evidence.models import EvidenceItem
from incidents.listening import selectors as listening_selectors
from incidents.listening.choices import Sentiment
from incidents.listening.models import Mention, MentionMatch, Signal, Watch
from incidents.localtime import shown
from incidents.models import EntryKind, Incident, Membership, Status, TimelineEntry
from incidents.people import display_name
from incidents.playbooks.models import Task
from incidents.replies import selectors as reply_selectors
from incidents.replies.choices import AuthorType, Outcome
from incidents.replies.models import Triage
from statements.choices import Channel, Decision, StatementKind, StatementStatus
from statements.models import Review, Statement

# Bounds: what one report reads at most.
MAX_CHART_BUCKETS = 14 * 24  # a fortnight of hours; longer incidents get wider buckets
MAX_REACTIONS = 30  # published statements whose reaction is measured (the earliest)
MAX_KEY_EVENTS = 1000
MAX_PEOPLE = 10  # defenders and detractors listed
MAX_SUBMISSIONS = 5000
MAX_APPROVALS = 5000
REACTION_WINDOW = timedelta(hours=1)
# A bucket's negative share counts only with this many scored mentions in it.
MIN_SCORED = 5


@dataclass
class Phase:
    key: str
    label: str
    at: datetime
    detail: str = ""
    late: bool | None = None  # the first public response against its deadline


@dataclass
class Window:
    mentions: int = 0
    negative: int = 0
    scored: int = 0

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.scored if self.scored else None


@dataclass
class StatementFigure:
    id: int
    kind: str
    channel: str
    title: str
    published_at: datetime | None
    approval_seconds: float | None
    before: Window | None = None
    after: Window | None = None


@dataclass
class ApproverFigure:
    name: str
    approvals: int
    median_seconds: float | None


@dataclass
class Count_:
    value: str
    label: str
    count: int


@dataclass
class Metrics:
    detect_seconds: float | None = None
    detect_from_signal: bool = False
    declare_seconds: float | None = None
    first_response_seconds: float | None = None
    first_response_due_at: datetime | None = None
    first_response_met: bool | None = None
    statements_total: int = 0
    statements_by_kind: list[Count_] = field(default_factory=list)
    statements_by_channel: list[Count_] = field(default_factory=list)
    approval_median_seconds: float | None = None
    approvers: list[ApproverFigure] = field(default_factory=list)
    mentions: int = 0
    replies_needing: int = 0
    replies_answered: int = 0
    reply_coverage: float | None = None
    reply_median_seconds: float | None = None
    evidence_items: int = 0
    tasks: int = 0
    tasks_done_late: int = 0
    tasks_open_overdue: int = 0
    baseline_negative_share: float | None = None
    peak_negative_share: float | None = None
    recovery_seconds: float | None = None
    recovered: bool | None = None  # None: not enough mention data to tell
    # The crisis page's promised updates (crisiscenter.UpdatePromise): of those that came
    # due (kept on time, late or missed), how many were kept on time; moved or withdrawn
    # before their time are not broken promises and are counted apart.
    promises_due: int = 0
    promises_kept: int = 0
    promises_late: int = 0
    promises_missed: int = 0
    promises_moved: int = 0
    # Share of voice over the crisis window (the series'): the brand watches' mentions over
    # the conversation of their topic watches (theirs included); None: not known (no topic
    # watch, or it matched nothing in the window). `share_of_voice_unset`: a brand watch
    # of the incident with no topic watch ("" when none).
    share_of_voice: float | None = None
    share_of_voice_mentions: int = 0
    share_of_voice_conversation: int = 0
    share_of_voice_unset: str = ""

    @property
    def promises_kept_share(self) -> float | None:
        return self.promises_kept / self.promises_due if self.promises_due else None


@dataclass
class Member:
    name: str
    role: str
    role_label: str
    joined_at: datetime
    left_at: datetime | None


@dataclass
class Author:
    handle: str
    name: str
    platform: str
    followers: int | None
    mentions: int = 0
    thanked: bool = False


@dataclass
class Bucket:
    start: datetime
    mentions: int
    negative: int
    scored: int

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.scored if self.scored >= MIN_SCORED else None


@dataclass
class KeyEvent:
    seq: int
    at: datetime
    kind: str
    kind_label: str
    text: str
    actor: str
    hash: str
    change: str = ""  # what the entry changed, in words: "Active → Resolved", "Severity 2 → 3"


def _change(entry: TimelineEntry) -> str:
    """A status or severity change in words, as the timeline shows it (its text is only the
    lead's note): "Status changed" alone did not say from what to what."""
    data = entry.data or {}
    old, new = data.get("old"), data.get("new")
    if entry.kind in (EntryKind.STATUS_CHANGED, EntryKind.REOPENED) and new in Status.values:
        before = Status(old).label if old in Status.values else "?"
        return f"{before} → {Status(new).label}"
    if entry.kind == EntryKind.SEVERITY_CHANGED and old is not None and new is not None:
        return _("Severity %(old)s → %(new)s") % {"old": old, "new": new}
    return ""


@dataclass
class Report:
    incident: Incident
    phases: list[Phase]
    metrics: Metrics
    statements: list[StatementFigure]
    series: list[Bucket]
    bucket_hours: int
    members: list[Member]
    defenders: list[Author]
    detractors: list[Author]
    key_events: list[KeyEvent]
    key_events_total: int
    head_count: int | None
    head_hash: str | None
    has_mentions: bool = False


def _seconds(start, end) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return median(values) if values else None


def _counts(rows, key, enumeration) -> list[Count_]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row[key]] += row["n"]
    labels = dict(enumeration.choices)
    return [
        Count_(value, str(labels.get(value, value)), n)
        for value, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def report(incident: Incident) -> Report:
    """The post-mortem's computed part for `incident` (see the module's docstring)."""
    metrics = Metrics()
    phases: list[Phase] = []

    # The lifecycle, from the timeline: acknowledgement is the first move to "active".
    # One query over a bounded set of kinds.
    lifecycle = list(
        TimelineEntry.objects.filter(
            incident=incident,
            kind__in=(
                EntryKind.STATUS_CHANGED,
                EntryKind.STATEMENT_SUBMITTED,
                EntryKind.PROMOTION_FREEZE_SET,
                EntryKind.PROMOTION_FREEZE_LIFTED,
            ),
        )
        .order_by("seq")
        .values("kind", "occurred_at", "data")[:MAX_SUBMISSIONS]
    )
    acknowledged = next(
        (
            e["occurred_at"]
            for e in lifecycle
            if e["kind"] == EntryKind.STATUS_CHANGED and e["data"].get("new") == Status.ACTIVE
        ),
        None,
    )
    submissions = {
        (e["data"].get("statement"), e["data"].get("revision")): e["occurred_at"]
        for e in lifecycle
        if e["kind"] == EntryKind.STATEMENT_SUBMITTED
    }

    # Listening: the first mention, the signal, the volume per hour.
    totals = Mention.objects.filter(incident=incident).aggregate(
        n=Count("id"), first=Min("posted_at"), last=Max("posted_at")
    )
    metrics.mentions = totals["n"]
    signal = (
        Signal.objects.filter(incident=incident).order_by("opened_at").first()
        if totals["n"]
        else None
    )
    if totals["first"] is not None:
        phases.append(Phase("first_mention", _("First mention"), totals["first"]))
    if signal is not None:
        phases.append(
            Phase(
                "signal",
                _("Signal from listening"),
                signal.opened_at,
                detail=str(signal.get_kind_display()),
            )
        )
    # Listening detected it only if its signal came first: a signal linked to an incident
    # the committee had already seen (declared by hand) did not.
    if signal is not None and (
        incident.detected_at is None or signal.opened_at <= incident.detected_at
    ):
        metrics.detect_seconds = _seconds(totals["first"], signal.opened_at)
        metrics.detect_from_signal = True
    else:
        metrics.detect_seconds = _seconds(totals["first"], incident.detected_at)
    if metrics.detect_seconds is not None:
        metrics.detect_seconds = max(0.0, metrics.detect_seconds)
    phases.append(Phase("detected", _("Detected"), incident.detected_at))
    phases.append(Phase("declared", _("Declared"), incident.declared_at))
    metrics.declare_seconds = max(0.0, _seconds(incident.detected_at, incident.declared_at))
    if acknowledged is not None:
        phases.append(Phase("acknowledged", _("Acknowledged (active)"), acknowledged))
    metrics.first_response_due_at = incident.first_response_due_at
    if incident.first_response_at is not None:
        metrics.first_response_seconds = _seconds(incident.declared_at, incident.first_response_at)
        metrics.first_response_met = incident.first_response_met
        phases.append(
            Phase(
                "first_response",
                _("First public response"),
                incident.first_response_at,
                late=not incident.first_response_met,
            )
        )

    # Statements: counts by kind and channel (one grouped query), the published ones with
    # their approval latency (one query), each approval's latency per approver (one).
    by_kind_channel = list(
        Statement.objects.filter(incident=incident)
        .exclude(status=StatementStatus.WITHDRAWN)
        .values("kind", "channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    metrics.statements_total = sum(row["n"] for row in by_kind_channel)
    metrics.statements_by_kind = _counts(by_kind_channel, "kind", StatementKind)
    metrics.statements_by_channel = _counts(by_kind_channel, "channel", Channel)
    published = list(
        Statement.objects.filter(incident=incident, status=StatementStatus.PUBLISHED)
        .exclude(kind=StatementKind.REPLY)
        .order_by("published_at", "id")
        .only("id", "kind", "channel", "title", "published_at", "submitted_at", "approved_at")[
            :MAX_REACTIONS
        ]
    )
    statements = [
        StatementFigure(
            id=s.pk,
            kind=s.kind,
            channel=s.channel,
            title=s.title,
            published_at=s.published_at,
            approval_seconds=_seconds(s.submitted_at, s.approved_at),
        )
        for s in published
    ]
    metrics.approval_median_seconds = _median(s.approval_seconds for s in statements)
    for s in statements:
        if incident.first_response_at is None or s.published_at != incident.first_response_at:
            phases.append(
                Phase(
                    f"statement-{s.id}",
                    _("Statement published"),
                    s.published_at,
                    detail=f"{StatementKind(s.kind).label} · {Channel(s.channel).label}",
                )
            )
    approvals = (
        Review.objects.filter(statement__incident=incident, decision=Decision.APPROVED)
        .order_by("created_at")
        .values(
            "statement_id",
            "revision",
            "created_at",
            "reviewer_id",
            "reviewer__first_name",
            "reviewer__last_name",
            "reviewer__username",
        )[:MAX_APPROVALS]
    )
    per_approver: dict[int, list] = defaultdict(list)
    names: dict[int, str] = {}
    for row in approvals:
        names[row["reviewer_id"]] = (
            f"{row['reviewer__first_name']} {row['reviewer__last_name']}".strip()
            or row["reviewer__username"]
        )
        submitted = submissions.get((row["statement_id"], row["revision"]))
        per_approver[row["reviewer_id"]].append(_seconds(submitted, row["created_at"]))
    metrics.approvers = sorted(
        (
            ApproverFigure(names[pk], len(values), _median(values))
            for pk, values in per_approver.items()
        ),
        key=lambda a: a.name,
    )

    # Volume and sentiment per bucket (one grouped query), the peak, the recovery.
    window = _window(incident, totals)
    series, hours = _series(incident, window)
    _share_of_voice(metrics, incident, window)
    if series:
        peak = max(series, key=lambda b: (b.mentions, -b.start.timestamp()))
        if peak.mentions:
            # The bucket's busiest stretch is inside it: shown from its start, never before
            # the first mention.
            detail = _("%(n)s mentions in the hour from %(t)s") % {
                "n": peak.mentions,
                "t": shown(peak.start, "TIME_FORMAT"),
            }
            if hours > 1:
                detail = _("%(n)s mentions in %(h)s hours") % {"n": peak.mentions, "h": hours}
            phases.append(
                Phase("peak", _("Peak of volume"), max(peak.start, totals["first"]), detail)
            )
        _recovery(metrics, series, signal, incident)
    _reactions(incident, statements)

    # The promotion freeze: each time it was set and lifted (normal posting resumed).
    freeze_labels = {
        EntryKind.PROMOTION_FREEZE_SET: _("Promotion freeze set"),
        EntryKind.PROMOTION_FREEZE_LIFTED: _("Promotion freeze lifted: normal posting resumed"),
    }
    for e in lifecycle:
        if e["kind"] in freeze_labels:
            phases.append(Phase(e["kind"], freeze_labels[e["kind"]], e["occurred_at"]))
    if incident.resolved_at is not None and incident.status in (Status.RESOLVED, Status.CLOSED):
        phases.append(Phase("resolved", _("Resolved"), incident.resolved_at))
    if incident.closed_at is not None and incident.status == Status.CLOSED:
        phases.append(Phase("closed", _("Closed"), incident.closed_at))
    phases.sort(key=lambda p: p.at)

    # The reply queue: coverage and median time to answer (its own selector), defenders.
    coverage = reply_selectors.coverage(incident)
    metrics.replies_needing = coverage.needing
    metrics.replies_answered = coverage.answered
    metrics.reply_coverage = coverage.answered / coverage.needing if coverage.needing else None
    metrics.reply_median_seconds = coverage.median_seconds
    defenders = [
        Author(
            handle=row["mention__author_handle"],
            name=row["mention__author_name"],
            platform=row["mention__platform"],
            followers=row["mention__author_followers"],
            thanked=row["outcome"] == Outcome.THANKED,
        )
        for row in Triage.objects.filter(
            incident=incident, mention__incident=incident, author_type=AuthorType.DEFENDER
        )
        .order_by("-mention__author_followers", "id")
        .values(
            "mention__author_handle",
            "mention__author_name",
            "mention__platform",
            "mention__author_followers",
            "outcome",
        )[:MAX_PEOPLE]
    ]
    detractors = [
        Author(
            handle=row["author_handle"],
            name=row["name"] or "",
            platform=row["platform"],
            followers=row["followers"],
            mentions=row["n"],
        )
        for row in Mention.objects.filter(incident=incident, sentiment=Sentiment.NEGATIVE)
        .exclude(author_handle="")
        .values("author_handle", "platform")
        .annotate(n=Count("id"), followers=Max("author_followers"), name=Max("author_name"))
        .order_by("-followers", "-n", "author_handle")[:MAX_PEOPLE]
    ]

    # Evidence and the checklist.
    metrics.evidence_items = EvidenceItem.objects.filter(incident=incident).count()
    tasks = Task.objects.filter(incident=incident).aggregate(
        n=Count("id"),
        late=Count("id", filter=Q(completed_at__isnull=False, completed_at__gt=F("due_at"))),
        overdue=Count("id", filter=Q(completed_at__isnull=True, due_at__lt=Now())),
    )
    metrics.tasks = tasks["n"]
    metrics.tasks_done_late = tasks["late"]
    metrics.tasks_open_overdue = tasks["overdue"]

    # People, key events, the chain's head.
    _promises(metrics, incident)
    members = [
        Member(
            name=display_name(m.user),
            role=m.role,
            role_label=str(m.role_display),
            joined_at=m.added_at,
            left_at=m.left_at,
        )
        for m in Membership.objects.filter(incident=incident)
        .select_related("user")
        .order_by("added_at", "id")[:200]
    ]
    # In the order they happened: an observation back-dated when it was noted later (the
    # journalist's call of 14:00, written at 16:00) takes its place among the others.
    key_qs = incident_selectors.timeline_for(incident, key_events_only=True).order_by(
        "occurred_at", "seq"
    )
    key_events = [
        KeyEvent(
            seq=e.seq,
            at=e.occurred_at,
            kind=e.kind,
            kind_label=str(e.get_kind_display()),
            text=e.text,
            actor=display_name(e.actor) if e.actor else "",
            hash=e.hash,
            change=_change(e),
        )
        for e in key_qs[:MAX_KEY_EVENTS]
    ]
    key_total = len(key_events) if len(key_events) < MAX_KEY_EVENTS else key_qs.order_by().count()
    head = incident_selectors.chain_head(incident)
    return Report(
        incident=incident,
        phases=phases,
        metrics=metrics,
        statements=statements,
        series=series,
        bucket_hours=hours,
        members=members,
        defenders=defenders,
        detractors=detractors,
        key_events=key_events,
        key_events_total=key_total,
        head_count=head.count if head else None,
        head_hash=head.hash if head else None,
        has_mentions=bool(totals["n"]),
    )


def _promises(metrics: Metrics, incident) -> None:
    """The crisis page's promised updates by outcome: one grouped query."""
    counts = dict(
        UpdatePromise.objects.filter(page__incident=incident)
        .values_list("outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    metrics.promises_kept = counts.get(PromiseOutcome.KEPT, 0)
    metrics.promises_late = counts.get(PromiseOutcome.LATE, 0)
    metrics.promises_missed = counts.get(PromiseOutcome.MISSED, 0)
    metrics.promises_moved = counts.get(PromiseOutcome.MOVED, 0) + counts.get(
        PromiseOutcome.WITHDRAWN, 0
    )
    metrics.promises_due = sum(counts.get(outcome, 0) for outcome in CAME_DUE)


def _window(incident, totals) -> tuple[datetime, datetime] | None:
    """The crisis window of the volumes (the series, the share of voice): from an hour
    before the first mention or the detection to an hour after the last mention (or the
    first response, if later): the conversation, not the quiet days before the incident is
    closed. None without mentions."""
    if not totals["n"]:
        return None
    start = min(totals["first"], incident.detected_at) - timedelta(hours=1)
    ends = [totals["last"], incident.first_response_at]
    return start, max(e for e in ends if e is not None) + timedelta(hours=1)


def _share_of_voice(metrics: Metrics, incident, window) -> None:
    """The brand's share of its topic's conversation over the crisis window: the mentions
    matched by the incident's brand watches (the watches its mentions matched, less those
    that are another watch's topic) over the mentions matched by them or by their topic
    watches (Watch.topic_watch), each mention counted once. One aggregate query over the
    matches (index match_watch_newest); not known without a topic watch or when the topic
    watches matched nothing in the window (`share_of_voice_unset` then names a brand watch
    with no topic watch, for the hint)."""
    if window is None:
        return
    brand = (
        Watch.objects.filter(
            pk__in=MentionMatch.objects.filter(mention__incident=incident).values("watch_id")
        )
        .exclude(pk__in=Watch.objects.filter(topic_watch__isnull=False).values("topic_watch_id"))
        .values("pk")
    )
    topic = Watch.objects.filter(pk__in=brand, topic_watch__isnull=False).values("topic_watch_id")
    in_brand, in_topic = Q(watch_id__in=brand), Q(watch_id__in=topic)
    row = MentionMatch.objects.filter(
        in_brand | in_topic, posted_at__gte=window[0], posted_at__lt=window[1]
    ).aggregate(
        brand=Count("mention_id", distinct=True, filter=in_brand),
        topic=Count("mention_id", distinct=True, filter=in_topic),
        conversation=Count("mention_id", distinct=True),
        unset=Min("watch__name", filter=in_brand & Q(watch__topic_watch__isnull=True)),
    )
    metrics.share_of_voice_unset = row["unset"] or ""
    if row["topic"]:
        metrics.share_of_voice_mentions = row["brand"]
        metrics.share_of_voice_conversation = row["conversation"]
        metrics.share_of_voice = row["brand"] / row["conversation"]


def _series(incident, window) -> tuple[list[Bucket], int]:
    """Hourly (or wider) buckets over the crisis window (_window)."""
    if window is None:
        return [], 1
    start, end = window
    span_hours = max(1, int(-(-(end - start).total_seconds() // 3600)))
    hours = max(1, -(-span_hours // MAX_CHART_BUCKETS))
    rows = listening_selectors.incident_series(incident, start, end, timedelta(hours=hours))
    return [Bucket(b.start, b.mentions, b.negative, b.scored) for b in rows], hours


def _recovery(metrics: Metrics, series: list[Bucket], signal, incident) -> None:
    """The negative share's peak and the time it took to come back to the baseline: the
    signal's baseline, else the share before detection (enough scored mentions only)."""
    baseline = signal.baseline_negative_share if signal is not None else None
    if baseline is None:
        before = [b for b in series if b.start < incident.detected_at]
        scored = sum(b.scored for b in before)
        if scored >= MIN_SCORED:
            baseline = sum(b.negative for b in before) / scored
    shares = [(b, b.negative_share) for b in series if b.negative_share is not None]
    if not shares:
        return
    peak, peak_share = max(shares, key=lambda pair: (pair[1], -pair[0].start.timestamp()))
    metrics.peak_negative_share = peak_share
    metrics.baseline_negative_share = baseline
    if baseline is None:
        return
    back = next(
        (b for b, share in shares if b.start > peak.start and share <= baseline + 1e-9), None
    )
    metrics.recovered = back is not None
    metrics.recovery_seconds = _seconds(peak.start, back.start) if back else None


def _reactions(incident, statements: list[StatementFigure]) -> None:
    """Mentions and negative share in the hour before and the hour after each published
    statement: one query with two counts per statement and window (at most MAX_REACTIONS)."""
    timed = [s for s in statements if s.published_at is not None]
    if not timed:
        return
    annotations = {}
    for s in timed:
        for side, lo, hi in (
            ("b", s.published_at - REACTION_WINDOW, s.published_at),
            ("a", s.published_at, s.published_at + REACTION_WINDOW),
        ):
            window = Q(posted_at__gte=lo, posted_at__lt=hi)
            annotations[f"n{side}{s.id}"] = Count("id", filter=window)
            annotations[f"g{side}{s.id}"] = Count(
                "id", filter=window & Q(sentiment=Sentiment.NEGATIVE)
            )
            annotations[f"s{side}{s.id}"] = Count(
                "id", filter=window & ~Q(sentiment=Sentiment.UNKNOWN)
            )
    row = Mention.objects.filter(incident=incident).aggregate(**annotations)
    for s in timed:
        s.before = Window(row[f"nb{s.id}"], row[f"gb{s.id}"], row[f"sb{s.id}"])
        s.after = Window(row[f"na{s.id}"], row[f"ga{s.id}"], row[f"sa{s.id}"])


def as_json(report: Report) -> dict:
    """The report as JSON-ready data: the API's `figures` and a frozen version's."""

    def window(w: Window | None):
        return None if w is None else {**asdict(w), "negative_share": w.negative_share}

    def when(value):
        return value.isoformat() if value is not None else None

    m = report.metrics
    metrics = asdict(m)
    metrics["first_response_due_at"] = when(m.first_response_due_at)
    metrics["promises_kept_share"] = m.promises_kept_share
    return {
        "phases": [{**asdict(p), "at": when(p.at)} for p in report.phases],
        "metrics": metrics,
        "statements": [
            {
                **{k: v for k, v in asdict(s).items() if k not in ("before", "after")},
                "published_at": when(s.published_at),
                "before": window(s.before),
                "after": window(s.after),
            }
            for s in report.statements
        ],
        "series": {
            "bucket_hours": report.bucket_hours,
            "buckets": [
                {
                    "start": when(b.start),
                    "mentions": b.mentions,
                    "negative": b.negative,
                    "scored": b.scored,
                }
                for b in report.series
            ],
        },
        "members": [
            {**asdict(p), "joined_at": when(p.joined_at), "left_at": when(p.left_at)}
            for p in report.members
        ],
        "defenders": [asdict(a) for a in report.defenders],
        "detractors": [asdict(a) for a in report.detractors],
        "key_events": [{**asdict(e), "at": when(e.at)} for e in report.key_events],
        "key_events_total": report.key_events_total,
        "timeline_head": {"count": report.head_count, "hash": report.head_hash},
    }
