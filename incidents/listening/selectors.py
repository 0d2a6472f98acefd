"""Reads of the listening app."""

import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.core.cache import caches
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    Lookup,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Substr, TruncHour, TruncMinute
from django.utils.translation import gettext_lazy, ngettext

from incidents import selectors as incident_selectors
from incidents.models import Platform, PromotionFreeze

from . import detection, rules
from .choices import Sentiment, SignalStatus
from .connectors import liveness
from .ingest import post_language
from .matching import Matcher, fold
from .models import CollectorState, ExpectedBurst, Mention, MentionMatch, Signal, Watch
from .terms import words as terms_of


def watches():
    return Watch.objects.all()


def alerted(watch):
    """The people a watch's signals alert: its subscribers who may still read listening
    data (rules.listening_readers; someone who left the team is not sent posts). A query."""
    return rules.listening_readers().filter(pk__in=watch.subscribers.all())


def watch_lines():
    """The Listening page's watches, each with `alerted_count`: how many people its signals
    alert (`alerted`, counted in the same query); the line says when nobody is. One
    query."""
    readers = rules.listening_readers().values("pk")
    return (
        watches()
        .annotate(
            alerted_count=Count("subscribers", filter=Q(subscribers__in=readers), distinct=True)
        )
        .order_by("name")  # a grouped query drops the model's ordering
    )


# A watch's planned campaigns on its page: the next ones, then the recent past ones.
UPCOMING_BURSTS_SHOWN = 50
PAST_BURSTS_SHOWN = 20


@dataclass
class PlannedCampaigns:
    upcoming: list  # running and upcoming, soonest first
    more_upcoming: bool  # more than UPCOMING_BURSTS_SHOWN of them
    past: list  # ended, latest first, at most PAST_BURSTS_SHOWN


def with_upcoming_campaigns(watches, now):
    """`watches` annotated with `upcoming_campaigns`: how many of each one's planned
    campaigns have not ended (a subquery: no extra query)."""
    running = ExpectedBurst.objects.filter(watch=OuterRef("pk"), ends_at__gt=now)
    count = running.order_by().values("watch").annotate(n=Count("pk")).values("n")
    return watches.annotate(upcoming_campaigns=Coalesce(Subquery(count), 0))


@dataclass(frozen=True)
class CampaignFreezes:
    """The promotion freezes a campaigns page names: `incidents` (id, title), those the
    viewer may see (incidents.selectors.incidents_visible_to, the one rule of who sees an
    incident), most recently frozen first, at most FREEZES_SHOWN; `more` when others they
    see hold one too; `unseen` when a freeze holds on an incident they may not see (said
    without naming it, to those who plan campaigns only)."""

    incidents: list[tuple[int, str]]
    more: bool
    unseen: bool

    def __bool__(self) -> bool:
        return bool(self.incidents or self.unseen)

    @property
    def count(self) -> int:
        """How many frozen incidents the notice names, at least (`more` counts one): its
        sentences' singular or plural (with `unseen`, the notice says none of them)."""
        return len(self.incidents) + self.more

    def concerns(self, burst, now) -> bool:
        """Whether planned campaign `burst` runs during a freeze the viewer is told of: one
        holds now and the campaign has not ended (rules.burst_is_open). A freeze has no end
        until it is lifted, so a campaign planned for later is concerned too. No query."""
        return bool(self) and rules.burst_is_open(burst, now)


# Said to whoever saves a campaign that a freeze concerns (the page, the admin): a warning,
# never a refusal (the campaign may be planned for after the freeze). It names no incident:
# the page's notice names those the person may see.
DURING_FREEZE_WARNING = gettext_lazy(
    "A promotion freeze is in force. This campaign is saved, but publish no promotional "
    "post for it until the freeze is lifted: declaring a campaign only keeps its volume "
    "from raising alerts."
)


def campaign_freezes(user, *, planner: bool) -> CampaignFreezes:
    """The freezes holding now for the campaigns pages (incident_selectors.frozen_among, as
    the banner reads them): two queries, the second only for a `planner` (who may change
    watches) and bounded by EXISTS."""
    visible = incident_selectors.incidents_visible_to(user)
    frozen = incident_selectors.frozen_among(visible)
    unseen = (
        planner
        and PromotionFreeze.objects.filter(lifted_at__isnull=True)
        .exclude(incident__in=visible.values("pk"))
        .exists()
    )
    return CampaignFreezes(frozen.incidents, frozen.more, unseen)


def planned_campaigns(watch, now, freezes: CampaignFreezes) -> PlannedCampaigns:
    """A watch's expected bursts as its page lists them, with who declared each and, on
    each running or upcoming one, `during_freeze` (freezes.concerns: the viewer's
    `campaign_freezes`, read once): two queries whatever their number."""
    qs = ExpectedBurst.objects.filter(watch=watch).select_related("created_by")
    upcoming = list(
        qs.filter(ends_at__gt=now).order_by("starts_at", "pk")[: UPCOMING_BURSTS_SHOWN + 1]
    )
    for burst in upcoming:
        burst.during_freeze = freezes.concerns(burst, now)
    past = list(qs.filter(ends_at__lte=now).order_by("-ends_at", "-pk")[:PAST_BURSTS_SHOWN])
    return PlannedCampaigns(
        upcoming=upcoming[:UPCOMING_BURSTS_SHOWN],
        more_upcoming=len(upcoming) > UPCOMING_BURSTS_SHOWN,
        past=past,
    )


# Campaigns read per page for the watches' "running until" (each lasts at most 31 days).
RUNNING_CAMPAIGNS_READ = 200


def running_campaigns(watch_ids, now) -> dict[int, datetime]:
    """{watch id: when its planned campaigns running now end} for the watches with one
    running: the end of the last one that starts before the previous ends, so back-to-back
    or overlapping campaigns read as one. One query (at most RUNNING_CAMPAIGNS_READ rows)."""
    rows = (
        ExpectedBurst.objects.filter(watch__in=watch_ids, ends_at__gt=now)
        .order_by("starts_at", "pk")
        .values_list("watch_id", "starts_at", "ends_at")[:RUNNING_CAMPAIGNS_READ]
    )
    ends = {}
    for watch_id, starts_at, ends_at in rows:
        until = ends.get(watch_id)
        if starts_at <= (until or now):  # running now, or starting before the last ends
            ends[watch_id] = max(ends_at, until or ends_at)
    return ends


def mentions(
    *,
    watch=None,
    platform=None,
    language=None,
    sentiment=None,
    min_followers=None,
    incident=None,
    since=None,
    until=None,
):
    """Mentions newest first, filtered. `language` "" means "not known"."""
    qs = Mention.objects.all()
    if watch is not None:
        qs = qs.filter(id__in=MentionMatch.objects.filter(watch_id=watch).values("mention_id"))
    if platform:
        qs = qs.filter(platform=platform)
    if language is not None:
        qs = qs.filter(language=language)
    if sentiment:
        qs = qs.filter(sentiment=sentiment)
    if min_followers is not None:
        qs = qs.filter(author_followers__gte=min_followers)
    if incident is not None:
        qs = qs.filter(incident=incident)
    if since is not None:
        qs = qs.filter(posted_at__gte=since)
    if until is not None:
        qs = qs.filter(posted_at__lt=until)
    return qs


# Ids per query when checking a whole file against what is stored (SQLite's variable limit).
KNOWN_CHUNK = 1000


# New rows a preview matches against the watches (detecting their language costs ~0.1 ms
# a row): past it, the count of rows matching no watch is estimated from these.
MATCHED_IN_PREVIEW = 5_000


@dataclass(frozen=True)
class ImportCounts:
    """What importing these rows would do, by the ingest's own rule (a post is its platform
    and id): `new` stored, `stored` skipped as already there, `repeated` skipped as an
    earlier row of the same file. new + stored + repeated = the rows that can be read.
    `unmatched`: of the new, those no active watch matches (stored, but on no watch's page
    and in no detection: a file of another brand, a watch switched off), estimated from the
    share of the first `estimated_from` new rows when not 0 (MATCHED_IN_PREVIEW: a
    preview of more new rows). `other`: of the new, those read as Other for a platform
    none of ours (importing.Conversion.as_other)."""

    new: int
    stored: int
    repeated: int
    unmatched: int = 0
    other: int = 0
    estimated_from: int = 0
    # The posts (platform, id) behind `stored` and, of the matched sample, `unmatched`: the
    # preview marks its rows with them (row_status).
    stored_keys: frozenset = field(default=frozenset(), compare=False, repr=False)
    unmatched_keys: frozenset = field(default=frozenset(), compare=False, repr=False)

    def row_status(self, rows) -> list[str]:
        """Each of `rows` (MentionData, in the file's order) as importing would take it:
        "stored" (already there), "repeated" (an earlier row has its id), "unmatched" (new,
        on no watch; known for the matched sample only) or "" (new)."""
        seen, out = set(), []
        for data in rows:
            if data.key in seen:
                out.append("repeated")
            elif data.key in self.stored_keys:
                out.append("stored")
            else:
                out.append("unmatched" if data.key in self.unmatched_keys else "")
            seen.add(data.key)
        return out


def import_counts(mentions, as_other=frozenset()) -> ImportCounts:
    """The preview's counts of an import (the report after it says the same, by
    imported_counts); `as_other`: the keys of the posts read as Other for a platform none
    of ours. One query per KNOWN_CHUNK ids, and one for the active watches; the first
    MATCHED_IN_PREVIEW new posts are matched as the ingest matches them, the first row of
    a repeated id as the ingest keeps it (a language detected only where a watch's
    languages decide)."""
    unique = {}
    for data in mentions:
        unique.setdefault(data.key, data)
    stored = stored_keys(unique)
    new = [data for key, data in unique.items() if key not in stored]
    sample = new[:MATCHED_IN_PREVIEW]
    matcher = Matcher(Watch.objects.filter(is_active=True))
    unmatched = frozenset(
        data.key
        for data in sample
        if not matcher.match(
            text=data.text,
            platform=data.platform,
            language=partial(post_language, data.text, data.language),
            author=data.author_handle,
        )
    )
    estimated = len(new) > len(sample)
    return ImportCounts(
        new=len(new),
        stored=len(stored),
        repeated=len(mentions) - len(unique),
        unmatched=round(len(unmatched) * len(new) / len(sample)) if estimated else len(unmatched),
        other=sum(1 for data in new if data.key in as_other),
        estimated_from=len(sample) if estimated else 0,
        stored_keys=frozenset(stored),
        unmatched_keys=unmatched,
    )


def imported_counts(mentions, result, as_other=frozenset()) -> ImportCounts:
    """The report's counts once `mentions` are ingested (`result`: actions.IngestResult),
    split as the preview's (import_counts, `as_other` the same): its duplicates are the
    rows repeated in the file and those already stored. No query."""
    repeated = len(mentions) - len({data.key for data in mentions})
    return ImportCounts(
        new=result.stored,
        stored=max(0, result.duplicates - repeated),
        repeated=repeated,
        unmatched=result.unmatched,
        other=len(result.keys.intersection(as_other)),
    )


def keys_condition(keys) -> Q:
    """The mentions of these (platform, external id) pairs, as a condition the unique index
    (platform, external_id) answers: each platform's ids together (ids alone, without their
    platform, made every ingest scan the whole table)."""
    by_platform: dict[str, list[str]] = {}
    for platform, external_id in keys:
        by_platform.setdefault(platform, []).append(external_id)
    condition = Q(pk__in=[])
    for platform, ids in sorted(by_platform.items()):
        condition |= Q(platform=platform, external_id__in=sorted(ids))
    return condition


def stored_keys(keys) -> set[tuple[str, str]]:
    """Which of these (platform, external id) pairs are stored already. One query per
    KNOWN_CHUNK pairs."""
    keys = sorted(set(keys))
    found = set()
    for start in range(0, len(keys), KNOWN_CHUNK):
        stored = Mention.objects.filter(keys_condition(keys[start : start + KNOWN_CHUNK]))
        found.update(stored.order_by().values_list("platform", "external_id"))
    return found


def watch_ids_by_mention(mention_ids) -> dict[int, list[int]]:
    """{mention id: [watch ids]} for a page of mentions: one query."""
    found: dict[int, list[int]] = {}
    rows = MentionMatch.objects.filter(mention_id__in=mention_ids).order_by("watch_id")
    for mention_id, watch_id in rows.values_list("mention_id", "watch_id"):
        found.setdefault(mention_id, []).append(watch_id)
    return found


def visible_incident_ids(user, incident_ids) -> set[int]:
    """Which of these incidents `user` may see: a mention names its incident only to them."""
    return set(visible_incident_titles(user, incident_ids))


def visible_incident_titles(user, incident_ids) -> dict[int, str]:
    """{id: title} of these incidents that `user` may see (one query; none for no id)."""
    ids = {i for i in incident_ids if i is not None}
    if not ids:
        return {}
    qs = incident_selectors.incidents_visible_to(user).filter(pk__in=ids)
    return dict(qs.values_list("pk", "title"))


@dataclass(frozen=True)
class Bucket:
    """One time bucket of a watch's stream: [start, start + width)."""

    start: datetime
    mentions: int
    negative: int
    scored: int  # mentions with a sentiment label (the negative share's denominator)

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.scored if self.scored else None


def volume_series(watch_id: int, start: datetime, end: datetime, width: timedelta) -> list[Bucket]:
    """The watch's mentions per bucket of `width` (a whole number of minutes) from `start`
    (inclusive) to `end` (exclusive), empty buckets included, oldest first. One query,
    grouped by minute in the database (MentionMatch's copied posted_at and sentiment)."""
    return _bucketed(MentionMatch.objects.filter(watch_id=watch_id), start, end, width, TruncMinute)


# The listening page and the room's mentions panel (views.py): bounded reads, a constant
# number of queries whatever the number of mentions.

MAX_WATCHES_SHOWN = 50
MAX_OPEN_SIGNALS_SHOWN = 20


def hourly_volumes(watch_ids, start: datetime, hours: int) -> dict[int, list[int]]:
    """{watch id: [mentions per hour]} for `hours` hourly buckets from `start` (truncated to
    the hour, UTC), empty hours included: one query for all the watches (sparklines)."""
    start = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=hours)
    found = {watch_id: [0] * hours for watch_id in watch_ids}
    rows = (
        MentionMatch.objects.filter(watch_id__in=found, posted_at__gte=start, posted_at__lt=end)
        .annotate(hour=TruncHour("posted_at", tzinfo=UTC))
        .values("watch_id", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        index = int((row["hour"] - start) // timedelta(hours=1))
        if 0 <= index < hours:
            found[row["watch_id"]][index] += row["n"]
    return found


def learning(watches, now: datetime) -> dict[int, datetime]:
    """{watch id: when it can first alert} of the watches still learning their usual
    volume (detection.alerts_from): only watches created within that time are looked at,
    in one query (each one's oldest mention, by index)."""
    young = {w.pk: w for w in watches if detection.alerts_from(w.known_since) > now}
    if not young:
        return {}
    oldest = MentionMatch.objects.filter(watch=OuterRef("pk")).order_by("posted_at")
    rows = (
        Watch.objects.filter(pk__in=list(young))
        .annotate(oldest=Subquery(oldest.values("posted_at")[:1]))
        .values_list("pk", "oldest")
    )
    found = {}
    for pk, oldest_posted in rows:
        known = young[pk].known_since
        when = detection.alerts_from(min(known, oldest_posted or known))
        if when > now:
            found[pk] = when
    return found


def open_signals():
    """The open signals, newest first, with their watch (one query; bounded by the caller)."""
    return Signal.objects.filter(status=SignalStatus.OPEN).select_related("watch")


RECENT_SIGNAL_DAYS = 7
MAX_RECENT_SIGNALS_SHOWN = 10


def recent_signals(since: datetime):
    """The signals closed since `since`, newest first (opened), with their watch (one
    query; bounded by the caller): the Listening page's "Recent signals"."""
    return Signal.objects.filter(status=SignalStatus.CLOSED, closed_at__gte=since).select_related(
        "watch"
    )


# The Listening page says when what it shows cannot be trusted: "no open signal" means
# nothing while detection is not running, nor a quiet stream while a collector fails or
# does not run.
DETECTION_LATE = timedelta(minutes=5)  # it runs every minute
COLLECTION_FAILING = timedelta(minutes=15)  # one failed pass, retried, is no news
# Configured sources judged one by one (Mastodon instances first, then feeds, each in the
# order of their setting), in one query: past it, the others are judged together in the
# database (one more query: how many of each collector and platform have a problem, and
# since when), counted in "and N more", their platforms in the notice of missing posts.
MAX_SOURCES = 1000
# Lines of collectors' sources shown (the detector and Bluesky come on top): past it, the
# page says how many more sources have a problem.
MAX_SOURCE_LINES = 20
# Characters of a feed's path shown to those who may read collector states.
MAX_PATH_SHOWN = 200


@dataclass(frozen=True)
class SourceProblem:
    """A source of the Listening page that is not working: `source` ("detector",
    "bluesky", "mastodon", "feed"), `where` (an instance's or a feed's host and port, ""
    else, or when its address does not parse cleanly: `_address`), `late` (the detector
    has not run since `since`), `stopped` (the collector does not seem to run: no news of it
    since `since`, None: never any) or else failing (its last success at `since`, None:
    never), and `error`, the last one recorded (for administrators).
    `ahead`: its last news, at `since`, is dated further in the future than its staleness
    limit (a clock ahead, or a bad record): nothing tells whether it runs.
    `count`: how many of one collector's sources the line says together (every one of
    them stopped: its process, rather than each source); `where` is then "".
    `address`: a feed's address without credentials, query or fragment (for those who may
    read collector states); `position`: its place in its setting (LISTENING_FEEDS,
    LISTENING_MASTODON), from 1, what names it when its address cannot be shown;
    `number` of `of`: several sources of the kind on the same host, this one the
    `number`th in the setting (0 when it is alone there). `platforms`: those whose posts
    it collects (Platform values; a feed's as configured, every feed's of a collector's
    line; None for a feed whose platform is not valid, liveness.feed_platform), none for
    detection."""

    source: str
    where: str
    late: bool
    since: datetime | None
    error: str
    stopped: bool = False
    ahead: bool = False
    count: int = 1
    address: str = field(default="", compare=False)
    position: int = field(default=0, compare=False)
    number: int = field(default=0, compare=False)
    of: int = field(default=0, compare=False)
    platforms: tuple[str | None, ...] = field(default=(), compare=False)

    @property
    def command(self) -> str:
        """The process that collects from this source ("" for detection)."""
        return liveness.COMMANDS.get(self.source, "")

    @property
    def posts_missing(self) -> bool:
        """A collector failing or stopped: its posts miss from the stream and the alerts."""
        return self.source != detection.STATE_NAME


class SourceProblems(list):
    """source_problems' lines, with what they leave out: `more`, the sources with a
    problem past MAX_SOURCE_LINES, and those past MAX_SOURCES (judged together, not
    named). What the pages that show posts say of them (the stream's notice and empty
    state, the room's mentions panel: listening/_source_notice.html):
    `platforms_missing`, the platforms whose posts may be missing (a collector failing
    or stopped, every line's, those past MAX_SOURCE_LINES and MAX_SOURCES too; None for a
    feed whose platform is not valid), and `missing_since`, the earliest moment one of
    those collectors was last known to work (None: never, or unknown), with
    `missing_stopped`, whether that collector stopped (no news of it since) rather than
    failed: the notice says it with the signals panel's verb for that line."""

    more = 0
    platforms_missing: frozenset[str | None] = frozenset()
    missing_since: datetime | None = None
    missing_stopped = False

    def missing_on(self, platforms=None) -> "MissingPosts":
        """The posts that may be missing from a list: those of the platforms concerned, in
        Platform's order, among `platforms` when given (what a stream's filters can show;
        None: every one), and those of a feed whose platform is not valid, whatever the
        filters (it collects nothing; its posts could be of any platform)."""
        return MissingPosts(
            tuple(
                value
                for value in Platform.values
                if value in self.platforms_missing and (platforms is None or value in platforms)
            ),
            None in self.platforms_missing,
        )


@dataclass(frozen=True)
class MissingPosts:
    """SourceProblems.missing_on: the posts of `platforms` (Platform values) may be
    missing, and with `other`, those of a configured source the notice cannot name by its
    platform (listening/_source_notice.html: "other sources"). False: none."""

    platforms: tuple[str, ...] = ()
    other: bool = False

    def __bool__(self) -> bool:
        return bool(self.platforms) or self.other


def source_problems(now: datetime) -> SourceProblems:
    """What the collectors and the detector recorded (CollectorState) that a reader should
    know: detection that has not run for DETECTION_LATE (or never, with a watch older than
    that) or failed for a watch; a configured feed or Mastodon instance whose collector
    wrote nothing for its staleness limit (liveness.stale_after: collectors write at least
    every minute, idle or not), or never registered it (a collector registers its sources
    when it starts) while an active watch is older than that limit, or failing for
    COLLECTION_FAILING; Bluesky's collector silent for liveness.JETSTREAM_STALE (it ran,
    then stopped) or failing, while an active watch listens to Bluesky (a Bluesky that
    never ran is not news: nothing says it should, the Jetstream address has a default). A
    feed or instance no longer configured is not news.
    A record dated further in the future than the same limit (a writer's clock ahead, or
    a bad row) is said too (`ahead`): it would never look stale. Within the limit, it is
    taken as clock skew.
    Every configured source of one collector stopped (two or more): one line for the
    collector. The detector first, then Bluesky, the instances and the feeds in the order
    of their settings; at most MAX_SOURCE_LINES lines of sources (`more` counts the
    others). The first MAX_SOURCES configured sources are judged one by one, the others
    by the same rules in the database, per collector and platform (`_tallies`): counted
    in `more`, and in the platforms and the moment of missing posts. Three queries at
    most (the second only when a watch's age or platforms decide, the third only past
    MAX_SOURCES configured sources)."""
    configured = _configured_sources()
    judged = list(configured)[:MAX_SOURCES]
    rest = list(configured)[MAX_SOURCES:]
    # A source whose address its collector refuses has no row; its name may hold what no
    # database stores (a NUL, a lone surrogate: liveness.is_http_url), so it is not asked.
    names = [
        detection.STATE_NAME,
        liveness.BLUESKY_STATE,
        *(name for name in judged if configured[name].valid),
    ]
    rows = {
        name: (updated, success, error)
        for name, updated, success, error in CollectorState.objects.filter(
            name__in=names
        ).values_list("name", "updated_at", "last_success_at", "last_error")
    }
    active = _ActiveWatches()

    def in_use(limit):
        oldest = active.oldest()
        return oldest is not None and now - oldest > limit

    def failing(success, error):
        return bool(error) and (success is None or now - success > COLLECTION_FAILING)

    top = []  # the detector and Bluesky
    if detection.STATE_NAME in rows:
        updated, success, error = rows[detection.STATE_NAME]
        if updated - now > DETECTION_LATE:
            top.append(SourceProblem(detection.STATE_NAME, "", True, updated, error, ahead=True))
        elif now - updated > DETECTION_LATE:
            top.append(SourceProblem(detection.STATE_NAME, "", True, updated, error))
        elif error:
            top.append(SourceProblem(detection.STATE_NAME, "", False, success, error))
    elif in_use(DETECTION_LATE):
        top.append(SourceProblem(detection.STATE_NAME, "", True, None, ""))
    if liveness.BLUESKY_STATE in rows:
        updated, success, error = rows[liveness.BLUESKY_STATE]
        ahead = updated - now > liveness.JETSTREAM_STALE
        stopped = now - updated > liveness.JETSTREAM_STALE
        if (ahead or stopped or failing(success, error)) and active.listen_to_bluesky():
            since = updated if ahead or stopped else success
            top.append(
                SourceProblem(
                    "bluesky",
                    "",
                    False,
                    since,
                    error,
                    stopped,
                    ahead,
                    platforms=(Platform.BLUESKY,),
                )
            )

    labels = _labels([configured[name] for name in judged])
    lines = []
    for name in judged:
        source = configured[name]
        where = labels[name]
        if name in rows:
            updated, success, error = rows[name]
            if updated - now > source.limit:
                lines.append(where(False, updated, error, ahead=True))
            elif now - updated > source.limit:
                lines.append(where(False, updated, error, stopped=True))
            elif failing(success, error):
                lines.append(where(False, success, error))
        elif in_use(source.limit):
            # Never written: expected once listening has been in use (an active watch) for
            # longer than the source's limit.
            lines.append(where(False, None, "", stopped=True))
    tallies = _tallies([(name, configured[name]) for name in rest], now, in_use)
    lines, tallies = _collectors_stopped(lines, judged, configured, tallies)

    problems = SourceProblems(top + lines[:MAX_SOURCE_LINES])
    problems.more = sum(line.count for line in lines[MAX_SOURCE_LINES:])
    problems.more += sum(tally.problems for tally in tallies)
    missing = [line for line in top + lines if line.posts_missing]
    problems.platforms_missing = frozenset(
        [p for line in missing for p in line.platforms]
        + [tally.platform for tally in tallies if tally.problems]
    )
    # (since, stopped) of each source last known to work at `since`: the lines first.
    known = [
        (line.since, line.stopped) for line in missing if line.since is not None and not line.ahead
    ]
    for tally in tallies:
        known += [(tally.stopped_first, True)] if tally.stopped_first else []
        known += [(tally.failing_first, False)] if tally.failing_first else []
    first = min(known, key=lambda found: found[0], default=None)
    if first is not None:
        problems.missing_since, problems.missing_stopped = first
    return problems


def _collectors_stopped(lines, judged, configured, tallies):
    """(lines, tallies): the lines with those of a collector whose every configured
    source (two or more; those past MAX_SOURCES too, `tallies`) is stopped said once, for
    the collector (its last news the latest of theirs), first: a process down matters more
    than any one source. Its tallies are then in its line, no longer among those returned."""
    groups = []
    for kind in ("mastodon", "feed"):
        total = sum(configured[name].source == kind for name in judged)
        stopped = [p for p in lines if p.source == kind and p.stopped]
        past = [tally for tally in tallies if tally.source == kind]
        every = total + sum(tally.total for tally in past)
        if every >= 2 and len(stopped) == total and all(t.stopped == t.total for t in past):
            moments = [p.since for p in stopped if p.since is not None]
            moments += [t.stopped_last for t in past if t.stopped_last is not None]
            since = max(moments) if moments else None
            platforms = [q for p in stopped for q in p.platforms] + [t.platform for t in past]
            whole = SourceProblem(
                kind,
                "",
                False,
                since,
                "",
                True,
                count=every,
                platforms=tuple(dict.fromkeys(platforms)),
            )
            groups.append(whole)
            lines = [p for p in lines if p not in stopped]
            tallies = [tally for tally in tallies if tally.source != kind]
    return groups + lines, tallies


@dataclass(frozen=True)
class _Tally:
    """The configured sources past MAX_SOURCES of one collector (`source`, "mastodon" or
    "feed") and platform (a Platform value; None: a feed's that is not valid), judged
    together by source_problems' rules: `total` of them, `stopped` (no news for their
    limit, or never registered while listening is in use for longer), `ahead` (news dated
    past the limit in the future), `failing` (an error and no success for
    COLLECTION_FAILING); the earliest and latest last news of the stopped ones with news
    (`stopped_first`, `stopped_last`) and the earliest last success of the failing ones
    (`failing_first`), None when there is none."""

    source: str
    platform: str | None
    total: int
    stopped: int
    ahead: int
    failing: int
    stopped_first: datetime | None
    stopped_last: datetime | None
    failing_first: datetime | None

    @property
    def problems(self) -> int:
        return self.stopped + self.ahead + self.failing


class _Among(Lookup):
    """`lhs` is one of the texts of the list `rhs`, sent as one parameter (an array on
    PostgreSQL, a JSON array read by json_each on SQLite): an IN of as many parameters as
    configured sources would pass what SQLite binds in one statement."""

    lookup_name = "among"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)  # the column, compiled
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*params, list(self.rhs))
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 (the names are a parameter)
        return sql, (*params, json.dumps(self.rhs))


def _tallies(sources, now: datetime, in_use) -> list["_Tally"]:
    """The _Tally of each collector and platform among `sources` ([(CollectorState name,
    _Configured)], those past MAX_SOURCES), in the order they first come: one query
    (none without a source whose address is valid) that reads one row per collector and
    platform, whatever their number; `in_use(limit)`: whether a source never registered
    counts as stopped."""
    if not sources:
        return []
    groups: dict[tuple[str, str | None], list[str]] = {}
    limits = {}
    for name, source in sources:
        groups.setdefault((source.source, source.platform), []).append(name)
        limits[source.source] = source.limit
    # Only the names of valid addresses are sent (source_problems: the others have no row).
    asked = {name for name, source in sources if source.valid}

    def per_kind(moments):  # a row's kind by its name, as liveness names them
        return Case(
            When(name__startswith="mastodon:", then=Value(moments.get("mastodon"))),
            default=Value(moments.get("feed")),
            output_field=DateTimeField(),
        )

    stopped = Q(updated_at__lt=F("stopped_before"))
    ahead = Q(updated_at__gt=F("ahead_after"))
    failing = ~stopped & ~ahead & ~Q(last_error="")
    failing &= Q(last_success_at__isnull=True) | Q(last_success_at__lt=now - COLLECTION_FAILING)
    group = Case(
        *(
            When(_Among(F("name"), [name for name in names if name in asked]), then=Value(number))
            for number, names in enumerate(groups.values())
            if asked.intersection(names)
        ),
        output_field=IntegerField(),
    )
    rows = (
        {
            found["group"]: found
            for found in CollectorState.objects.filter(
                _Among(F("name"), [name for name, _source in sources if name in asked])
            )
            .alias(
                stopped_before=per_kind({k: now - limit for k, limit in limits.items()}),
                ahead_after=per_kind({k: now + limit for k, limit in limits.items()}),
            )
            .annotate(group=group)
            .values("group")
            .annotate(
                rows=Count("pk"),
                stopped=Count("pk", filter=stopped),
                stopped_first=Min("updated_at", filter=stopped),
                stopped_last=Max("updated_at", filter=stopped),
                ahead=Count("pk", filter=ahead),
                failing=Count("pk", filter=failing),
                failing_first=Min("last_success_at", filter=failing),
            )
            .order_by()
        }
        if asked
        else {}
    )
    tallies = []
    for number, ((kind, platform), names) in enumerate(groups.items()):
        found = rows.get(number, {})
        never = len(names) - found.get("rows", 0)
        tallies.append(
            _Tally(
                kind,
                platform,
                len(names),
                found.get("stopped", 0) + (never if in_use(limits[kind]) else 0),
                found.get("ahead", 0),
                found.get("failing", 0),
                found.get("stopped_first"),
                found.get("stopped_last"),
                found.get("failing_first"),
            )
        )
    return tallies


@dataclass(frozen=True)
class _Configured:
    source: str  # "feed" or "mastodon"
    url: str
    position: int  # in its setting, from 1
    limit: timedelta  # liveness.stale_after
    # Its posts' (a feed's as configured, liveness.feed_platform; None: not a valid one).
    platform: str | None
    # Its address is one its collector takes (liveness.is_http_url): else it has no row.
    valid: bool = True


def _labels(sources) -> dict:
    """{CollectorState name: a function making its SourceProblem} for these configured
    sources: its host (`_address`), numbered among the sources of its kind on the same
    host, its address, its place in its setting."""
    addresses = {source: _address(source.url) for source in sources}
    hosts: dict[tuple[str, str], list] = {}
    for source, address in addresses.items():
        if address:
            hosts.setdefault((source.source, address[0]), []).append(source)
    found = {}
    for source, address in addresses.items():
        host, full = address or ("", "")
        if source.source != "feed":
            full = ""  # an instance is its host
        same = hosts.get((source.source, host), [])
        number, of = (same.index(source) + 1, len(same)) if len(same) > 1 else (0, 0)
        found[_state_name(source)] = partial(_problem, source, host, full, number, of)
    return found


def _problem(configured, host, full, number, of, late, since, error, **flags):
    return SourceProblem(
        configured.source,
        host,
        late,
        since,
        error,
        **flags,
        address=full,
        position=configured.position,
        number=number,
        of=of,
        platforms=(configured.platform,),
    )


def _state_name(source: _Configured) -> str:
    if source.source == "feed":
        return liveness.feed_state(source.url)
    return liveness.instance_state(source.url)


class _ActiveWatches:
    """What source_problems asks of the active watches, in one query made the first time
    it is asked: the oldest one's creation, and whether one listens to Bluesky (its
    platforms name it, or none: every platform)."""

    def __init__(self):
        self._found = None

    def _read(self) -> dict:
        if self._found is None:
            bluesky = Q(platforms=[]) | Q(platforms_text__contains=f'"{Platform.BLUESKY}"')
            self._found = (
                Watch.objects.filter(is_active=True)
                .alias(platforms_text=Cast("platforms", TextField()))
                .aggregate(oldest=Min("created_at"), bluesky=Count("pk", filter=bluesky))
            )
        return self._found

    def oldest(self) -> datetime | None:
        return self._read()["oldest"]

    def listen_to_bluesky(self) -> bool:
        return bool(self._read()["bluesky"])


def _configured_sources() -> dict[str, _Configured]:
    """The Mastodon instances then the feeds configured now, by CollectorState name (as the
    collectors name them: connectors.liveness), each in the order of its setting, the
    first of a name repeated kept."""
    from django.conf import settings

    def urls(config, key):
        items = config if isinstance(config, list) else []
        for position, item in enumerate(items, start=1):
            url = item.get(key) if isinstance(item, dict) else None
            if isinstance(url, str):
                yield position, url, item

    timeout = settings.LISTENING_HTTP_TIMEOUT
    feeds = liveness.stale_after(settings.LISTENING_FEEDS_INTERVAL, timeout)
    instances = liveness.stale_after(settings.LISTENING_MASTODON_INTERVAL, timeout)
    found = {}
    for position, url, _item in urls(settings.LISTENING_MASTODON, "base_url"):
        source = _Configured(
            "mastodon", url, position, instances, Platform.MASTODON, liveness.is_http_url(url)
        )
        found.setdefault(_state_name(source), source)
    for position, url, item in urls(settings.LISTENING_FEEDS, "url"):
        source = _Configured(
            "feed", url, position, feeds, liveness.feed_platform(item), liveness.is_http_url(url)
        )
        found.setdefault(_state_name(source), source)
    return found


# userinfo as RFC 3986 allows it (unreserved, percent-encoded, sub-delims, ":"): anything
# else before an "@" means the address does not say where its host starts.
_USERINFO = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:]*")
_HOST_PORT = re.compile(
    r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[^\[\]:]+))(?::(?P<port>[0-9]*))?"
)
_LABEL = r"(?!-)[\w-]{1,63}"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})+\.?|localhost")


def _address(url: str) -> tuple[str, str] | None:
    """(host[:port], scheme://host[:port]/path) of a source's address: what may be shown of
    it, without its user and password, query and fragment; the host alone to every
    listening reader, the rest to those who may read collector states. None when the
    address does not parse cleanly, since what a parser takes for its host may then be a
    user name or a token (`https://key:SECRET/x@host/`, `https://TOKEN?@host/`): not
    http(s), a space or a control character, a user part with characters RFC 3986 does
    not allow, an "@" in the query or fragment, or in a path segment it does not start
    (Mastodon's `/@user.rss` is fine), a port that is not a number, a host that is not a
    name with a dot (or localhost) or an IP address. An IPv6 host is shown in brackets."""
    if not url.isprintable() or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or "@" in parts.query + parts.fragment:
        return None
    if any("@" in segment and not segment.startswith("@") for segment in parts.path.split("/")):
        return None
    userinfo, at, host_port = parts.netloc.rpartition("@")
    found = _HOST_PORT.fullmatch(host_port)
    if (at and not _USERINFO.fullmatch(userinfo)) or not found:
        return None
    if found["ip6"]:
        try:
            host = f"[{ipaddress.IPv6Address(found['ip6']).compressed}]"
        except ValueError:
            return None
    else:
        host = found["host"].lower()
        if not (_is_ipv4(host) or _HOST_NAME.fullmatch(host)):
            return None
    shown = f"{host}:{port}" if port is not None else host
    path = parts.path
    if len(path) > MAX_PATH_SHOWN:
        path = f"{path[: MAX_PATH_SHOWN - 1]}…"
    return shown, f"{parts.scheme}://{shown}{path}"


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


MAX_INCIDENT_SIGNALS_SHOWN = 3


# The Listening page's chart band (detection.baseline_band: four weeks of the watch's
# minutes, a few hundred ms on a busy watch) is computed at most once a minute per watch,
# chart and process, whoever looks and however often the page refreshes itself live; a
# saved watch (its thresholds) computes it again at once.
BAND_CACHE_SECONDS = 120


def baseline_band(watch, start: datetime, end: datetime, width: timedelta) -> list[dict]:
    """detection.baseline_band(watch, start, end, width), from the process's cache when the
    same watch, as saved, was charted over the same hours this minute."""
    key = ":".join(
        str(part)
        for part in (
            "listening-band",
            watch.pk,
            watch.updated_at.timestamp(),
            start.timestamp(),
            width.total_seconds(),
            detection.epoch_minute(end),
        )
    )
    return caches["default"].get_or_set(
        key, lambda: detection.baseline_band(watch, start, end, width), BAND_CACHE_SECONDS
    )


def incident_signals(incident):
    """The signals an incident was declared from or linked to, newest first (one query)."""
    return Signal.objects.filter(incident=incident).only("pk", "kind", "opened_at")


def signals_page(*, before: tuple[datetime, int] | None, size: int):
    """One page of every signal, newest opened first: (signals, has_older)."""
    return _keyset_page(Signal.objects.select_related("watch"), "opened_at", before, size)


# Keyset cursors, as the "Older" links and the search's API pages carry them:
# "<moment in µs since the epoch>-<id>".
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def key_text(moment: datetime, pk: int) -> str:
    """The cursor of a row: its (moment, id) key as text."""
    return f"{(moment - _EPOCH) // timedelta(microseconds=1)}-{pk}"


_KEY = re.compile(r"([0-9]{1,20})-([0-9]{1,19})")


def parse_key(value: str | None) -> tuple[datetime, int] | None:
    """(moment, id), or None for a missing or malformed cursor (only what key_text writes:
    ASCII digits, no sign, space or "_", which int() would read)."""
    found = _KEY.fullmatch(value or "")
    if found is None:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(found[1])), int(found[2])
    except OverflowError:
        return None


def _older_than(qs, field: str, before: tuple[datetime, int] | None):
    if before is None:
        return qs
    moment, pk = before
    return qs.filter(Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "id__lt": pk}))


def _keyset_page(qs, field: str, before: tuple[datetime, int] | None, size: int):
    """One page of `qs`, newest `field` first, older than the `before` (field, id) key:
    (rows, has_older). Keyset paging: the cost does not grow with the page number."""
    rows = list(_older_than(qs, field, before).order_by(f"-{field}", "-id")[: size + 1])
    return rows[:size], len(rows) > size


def mentions_page(qs, *, before: tuple[datetime, int] | None, size: int):
    """One page of the mentions `qs`, newest posted first: (mentions, has_older)."""
    return _keyset_page(qs, "posted_at", before, size)


# A search page reads at most SEARCH_SCAN posts (newest first, among those the other
# filters keep), SEARCH_CHUNK per query, and the first SEARCH_CHARS characters of each: its
# cost is bounded whatever the database holds. Past that it stops and offers to go on.
SEARCH_SCAN = 5_000
SEARCH_CHUNK = 1_000
SEARCH_CHARS = 1_000


@dataclass(frozen=True)
class SearchPage:
    mentions: list  # at most `size`, newest posted first
    next_before: tuple[datetime, int] | None  # where the next page starts; None: no older post
    # Set when SEARCH_SCAN posts were read before a full page was found: the oldest post
    # read (the page says how far back it searched).
    searched_to: datetime | None
    # The first page only (no `before`): how many of the posts read match, having read
    # until the end of the stream (`counted_all`) or SEARCH_SCAN posts back to `counted_to`.
    matched: int | None = None
    counted_all: bool = False
    counted_to: datetime | None = None


def search_page(
    qs, *, search, before: tuple[datetime, int] | None, size: int, count: bool = True
) -> SearchPage:
    """One page of the mentions `qs` that `search` (matching.TextSearch) matches, newest
    posted first, older than the `before` key. With `count`, the first page reads on to
    SEARCH_SCAN posts to count the matches (how many people ask for a refund); a later one
    stops at a full page. At most 2 + SEARCH_SCAN / SEARCH_CHUNK queries (one to tell
    whether the stream ends just where the reading stopped)."""
    counting = count and before is None
    found: list[tuple[tuple[datetime, int], int]] = []
    read, key, ended = 0, before, False
    while read < SEARCH_SCAN and (counting or len(found) <= size):
        limit = min(SEARCH_CHUNK, SEARCH_SCAN - read)
        rows = list(
            _older_than(qs, "posted_at", key)
            .order_by("-posted_at", "-id")
            .annotate(head=Substr("text", 1, SEARCH_CHARS))
            .values_list("pk", "posted_at", "head", "author_handle", "author_name")[:limit]
        )
        for pk, posted_at, head, handle, name in rows:
            read, key = read + 1, (posted_at, pk)
            if search.matches(head, handle, name):
                found.append((key, pk))
                if not counting and len(found) > size:
                    break
        if len(rows) < limit:
            ended = counting or len(found) <= size
            break
    else:
        # SEARCH_SCAN posts read, the last chunk full: the stream may end right there.
        if (counting or len(found) <= size) and key is not None:
            ended = not _older_than(qs, "posted_at", key).exists()
    page_ids = [pk for _key, pk in found[:size]]
    mentions = list(qs.filter(pk__in=page_ids).order_by("-posted_at", "-id")) if page_ids else []
    counted = {}
    if counting:
        counted = {
            "matched": len(found),
            "counted_all": ended,
            "counted_to": None if ended or key is None else key[0],
        }
    if len(found) > size:
        return SearchPage(mentions, found[size - 1][0], None, **counted)
    if ended or key is None:
        return SearchPage(mentions, None, None, **counted)
    return SearchPage(mentions, key, key[0], **counted)


def stream_page(qs, *, search, before: tuple[datetime, int] | None, size: int) -> SearchPage:
    """One page of the mentions `qs`, newest posted first, older than `before`: those
    `search` matches (search_page), or all of them when it is None (mentions_page)."""
    if search:
        return search_page(qs, search=search, before=before, size=size)
    rows, older = mentions_page(qs, before=before, size=size)
    return SearchPage(rows, (rows[-1].posted_at, rows[-1].pk) if older else None, None)


@dataclass(frozen=True)
class SearchTally:
    """The posts a search matches among the newest SEARCH_SCAN of a query, by sentiment:
    `counts` {sentiment: n}, every label present; `counted_all` when that read reached the
    oldest post, else `counted_to`, the oldest post read."""

    counts: dict
    counted_all: bool
    counted_to: datetime | None = None


def search_tally(qs, *, search) -> SearchTally:
    """The mentions `qs` that `search` matches, counted by sentiment, reading them as a
    search page does (newest first, SEARCH_CHUNK per query, the first SEARCH_CHARS
    characters of each, at most SEARCH_SCAN): the room's chips under a search, so that each
    chip and "All" count what the list would show. At most 1 + SEARCH_SCAN / SEARCH_CHUNK
    queries."""
    counts = dict.fromkeys(Sentiment.values, 0)
    read, key = 0, None
    while read < SEARCH_SCAN:
        limit = min(SEARCH_CHUNK, SEARCH_SCAN - read)
        rows = list(
            _older_than(qs, "posted_at", key)
            .order_by("-posted_at", "-id")
            .annotate(head=Substr("text", 1, SEARCH_CHARS))
            .values_list("pk", "posted_at", "head", "author_handle", "author_name", "sentiment")[
                :limit
            ]
        )
        for pk, posted_at, head, handle, name, sentiment in rows:
            read, key = read + 1, (posted_at, pk)
            if search.matches(head, handle, name):
                counts[sentiment] = counts.get(sentiment, 0) + 1
        if len(rows) < limit:
            return SearchTally(counts, True)
    if key is None or not _older_than(qs, "posted_at", key).exists():
        return SearchTally(counts, True)
    return SearchTally(counts, False, key[0])


# The room panel offers whoever detached a mention to attach it again (Undo) for
# rules.UNDO_DETACH, at most this many at a time.
MAX_UNDO_SHOWN = 5


# The newest detaches of the room's window read for its Undo lines: the cell's, not only
# the viewer's (whoever detached a mention last decides: rules.undoable_detaches).
UNDO_DETACHES_READ = 100


def undoable_detaches(incident, user, now) -> list:
    """The mentions `user` detached from `incident` in the last rules.UNDO_DETACH that are
    still detached, newest first (at most MAX_UNDO_SHOWN): the room panel's Undo, which
    rules.may_attach allows them, listening readers or not (rules.undoable_detaches, the
    one query of both). One query, two when there are some."""
    read = rules.undoable_detaches(incident, user, now, limit=UNDO_DETACHES_READ)
    return [mention for mention in read if mention.incident_id is None][:MAX_UNDO_SHOWN]


# The Listening page's planned campaigns start and end on their own (by time): the
# periodic detection pass (tasks.detect_signals) refreshes the open pages when one of them
# crossed a boundary since the previous pass.
CAMPAIGN_BOUNDARY_REACH = timedelta(hours=1)


def campaign_boundary_between(since: datetime | None, now: datetime) -> bool:
    """Whether a planned campaign started or ended in (since, now]: the watches' "Planned
    campaign running until…" changed. `since` None (the first pass), or further back than
    CAMPAIGN_BOUNDARY_REACH (the passes stopped), reads from that far back. One query."""
    since = max(since or now - CAMPAIGN_BOUNDARY_REACH, now - CAMPAIGN_BOUNDARY_REACH)
    crossed = Q(starts_at__gt=since, starts_at__lte=now) | Q(ends_at__gt=since, ends_at__lte=now)
    return ExpectedBurst.objects.filter(crossed).exists()


def detector_last_pass() -> datetime | None:
    """When the detection pass last ran (its CollectorState), None before the first. One
    query."""
    return (
        CollectorState.objects.filter(name=detection.STATE_NAME)
        .values_list("updated_at", flat=True)
        .first()
    )


@dataclass(frozen=True)
class IncidentTally:
    """An incident's mentions counted: `counts` {sentiment: n}, every label present, and
    the time of the earliest one posted (None without mentions)."""

    counts: dict
    first_posted_at: datetime | None


def incident_tally(incident) -> IncidentTally:
    """The incident's mentions counted by sentiment, and the earliest posted (one query)."""
    rows = (
        Mention.objects.filter(incident=incident)
        .values("sentiment")
        .annotate(n=Count("id"), first=Min("posted_at"))
        .order_by()
    )
    counts = dict.fromkeys(Sentiment.values, 0)
    for row in rows:
        counts[row["sentiment"]] = row["n"]
    return IncidentTally(counts, min((row["first"] for row in rows), default=None))


def incident_series(incident, start: datetime, end: datetime, width: timedelta) -> list[Bucket]:
    """The incident's mentions per bucket of `width` (a whole number of minutes) from
    `start`, oldest first, empty buckets included: one query, grouped by hour in the
    database when `width` is whole hours (a long incident: at most 24 rows a day), else by
    minute (its first hours, in 10-minute buckets)."""
    hourly = not width.total_seconds() % 3600
    qs = Mention.objects.filter(incident=incident)
    return _bucketed(qs, start, end, width, TruncHour if hourly else TruncMinute)


def watch_series(watch_id: int, start: datetime, end: datetime, width: timedelta) -> list[Bucket]:
    """volume_series grouped by hour in the database (whole-hour buckets): what a chart
    over days needs, in at most 24 rows a day whatever the volume."""
    if width.total_seconds() % 3600:
        raise ValueError("width must be a whole number of hours")
    return _bucketed(MentionMatch.objects.filter(watch_id=watch_id), start, end, width, TruncHour)


def _bucketed(qs, start, end, width, trunc) -> list[Bucket]:
    """`qs`'s posts per bucket of `width` from `start` (cut to the minute, or to the hour
    when grouped by hour) to `end` (exclusive): (mentions, negative, scored), empty
    buckets included, oldest first. One query grouped by `trunc` (TruncMinute/TruncHour)."""
    if width.total_seconds() < 60 or width.total_seconds() % 60:
        raise ValueError("width must be a whole number of minutes")
    start = start.astimezone(UTC).replace(second=0, microsecond=0)
    if trunc is TruncHour:
        start = start.replace(minute=0)
    count = max(0, -(-(end - start) // width))
    counts = [[0, 0, 0] for _ in range(count)]
    rows = (
        qs.filter(posted_at__gte=start, posted_at__lt=end)
        .annotate(at=trunc("posted_at", tzinfo=UTC))
        .values("at")
        .annotate(
            n=Count("id"),
            negative=Count("id", filter=Q(sentiment=Sentiment.NEGATIVE)),
            scored=Count("id", filter=~Q(sentiment=Sentiment.UNKNOWN)),
        )
        .order_by()
    )
    for row in rows:
        index = int((row["at"] - start) // width)
        if 0 <= index < count:
            for position, value in enumerate((row["n"], row["negative"], row["scored"])):
                counts[index][position] += value
    return [Bucket(start + i * width, *values) for i, values in enumerate(counts)]


def signal_window(signal, until):
    """The matches of the signal's watch posted from its start until `until` (excluded):
    the posts the signal is made of."""
    return MentionMatch.objects.filter(
        watch_id=signal.watch_id, posted_at__gte=signal.started_at, posted_at__lt=until
    )


def signal_incidents_elsewhere(signal, user, now) -> list[tuple[int, int]]:
    """[(incident id, how many of the signal's posts are attached to it)], most first, of
    the incidents `user` may see: where a burst the signal is part of is already handled
    (another signal of it was declared). Two queries."""
    until = (signal.closed_at or now) + timedelta(minutes=1)
    rows = (
        Mention.objects.filter(
            id__in=signal_window(signal, until).values("mention_id"), incident__isnull=False
        )
        .values("incident")
        .annotate(n=Count("id"))
        .order_by("-n", "incident")
        .values_list("incident", "n")[:5]
    )
    rows = list(rows)
    seen = visible_incident_ids(user, [pk for pk, _n in rows])
    return [(pk, n) for pk, n in rows if pk in seen]


def loose_ends(incident) -> list[str]:
    """For the lead resolving or closing the incident (incidents.extensions): a listening
    signal linked to it still open (its mentions are still above normal). One query."""
    n = Signal.objects.filter(incident=incident, status=SignalStatus.OPEN).count()
    if not n:
        return []
    return [
        ngettext(
            "%(n)s listening signal linked to it is still open: mentions are still above normal.",
            "%(n)s listening signals linked to it are still open: mentions are still above normal.",
            n,
        )
        % {"n": n}
    ]


def known_opening(signal) -> dict | None:
    """Why the signal opened (actions._trigger's dict): the summary's "opening" (kept from
    its opening on, actions._summarised), else, for a signal opened before it was kept, its
    trigger while it has had no new peak; None otherwise (the page then says its latest
    peak's, as such)."""
    summary = signal.summary or {}
    if summary.get("opening"):
        return summary["opening"]
    if signal.peak_at is None or signal.peak_at <= signal.opened_at:
        return summary.get("trigger")
    return None


def watch_words(watch) -> set[str]:
    """The words of what a watch looks for or is about (its name, brand, keywords, hashtags,
    handles), folded: every mention of it holds them, so they tell nothing as top terms."""
    texts = (watch.name, watch.brand, *watch.keywords, *watch.hashtags, *watch.handles)
    return {fold(word.lstrip("#@")) for text in texts for word in terms_of(text or "")}


def telling_terms(terms, watch) -> list:
    """The summary's top terms ([term, n]) that say something: neither a stop word
    (terms.STOPWORDS, the one list) nor one of the watch's own words (watch_words). For
    summaries written before a word joined the list."""
    own = watch_words(watch)
    return [[term, n] for term, n in terms if terms_of(term) and fold(term.lstrip("#@")) not in own]
