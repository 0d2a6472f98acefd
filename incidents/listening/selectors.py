"""Reads of the listening app."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncMinute

from incidents import selectors as incident_selectors

from .choices import Sentiment
from .models import Mention, MentionMatch, Watch


def watches():
    return Watch.objects.all()


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


def watch_ids_by_mention(mention_ids) -> dict[int, list[int]]:
    """{mention id: [watch ids]} for a page of mentions: one query."""
    found: dict[int, list[int]] = {}
    rows = MentionMatch.objects.filter(mention_id__in=mention_ids).order_by("watch_id")
    for mention_id, watch_id in rows.values_list("mention_id", "watch_id"):
        found.setdefault(mention_id, []).append(watch_id)
    return found


def visible_incident_ids(user, incident_ids) -> set[int]:
    """Which of these incidents `user` may see: a mention names its incident only to them."""
    ids = {i for i in incident_ids if i is not None}
    if not ids:
        return set()
    qs = incident_selectors.incidents_visible_to(user).filter(pk__in=ids)
    return set(qs.values_list("pk", flat=True))


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
    minutes = int(width.total_seconds() // 60)
    if minutes < 1 or width.total_seconds() % 60:
        raise ValueError("width must be a whole number of minutes")
    start = start.replace(second=0, microsecond=0)
    count = max(0, -(-(end - start) // width))
    counts = [[0, 0, 0] for _ in range(count)]
    rows = (
        MentionMatch.objects.filter(watch_id=watch_id, posted_at__gte=start, posted_at__lt=end)
        .annotate(minute=TruncMinute("posted_at", tzinfo=UTC))
        .values("minute")
        .annotate(
            n=Count("id"),
            negative=Count("id", filter=Q(sentiment=Sentiment.NEGATIVE)),
            scored=Count("id", filter=~Q(sentiment=Sentiment.UNKNOWN)),
        )
        .order_by()
    )
    for row in rows:
        index = int((row["minute"] - start) // width)
        if 0 <= index < count:
            bucket = counts[index]
            bucket[0] += row["n"]
            bucket[1] += row["negative"]
            bucket[2] += row["scored"]
    return [Bucket(start + i * width, *values) for i, values in enumerate(counts)]
