"""A signal's curve, one rule for its page (views.signal_page's chart) and the API
(`GET /api/signals/{id}/`'s `curve`): which span, which buckets, the baseline band.

- Span: to now while the signal is open (the minute in progress left out), to SIGNAL_AFTER
  after its close once closed, never past now; from before the signal started by as long
  as the episode has lasted so far (from its start to that end), at least SIGNAL_BEFORE_MIN
  and at most SIGNAL_BEFORE: a signal opened minutes ago is not a sliver at the end of six
  quiet hours, and a long one keeps six hours of its usual level before it. At most
  SPAN_MAX (the oldest part left out).
- Buckets: BUCKET_MINUTES (10) long, a multiple of it when the span would need more than
  MAX_BUCKETS; aligned back from the end, so the last bucket is a whole one that ends at
  the curve's end (no bucket still filling, no future drawn as zeros).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from . import selectors

SIGNAL_BEFORE = timedelta(hours=6)
SIGNAL_BEFORE_MIN = timedelta(hours=1)
SIGNAL_AFTER = timedelta(hours=1)
SPAN_MAX = timedelta(days=7)
BUCKET_MINUTES = 10
MAX_BUCKETS = 288


@dataclass(frozen=True)
class Curve:
    start: datetime
    end: datetime
    width: timedelta
    buckets: list  # selectors.Bucket, oldest first
    band: list  # selectors.baseline_band's, one per bucket

    @property
    def bucket_minutes(self) -> int:
        return int(self.width.total_seconds() // 60)


def span(signal, now: datetime | None = None) -> tuple[datetime, datetime, timedelta]:
    """(start, end, bucket width) of the signal's curve (the module's rule)."""
    now = now or timezone.now()
    end = now if signal.closed_at is None else min(signal.closed_at + SIGNAL_AFTER, now)
    end = end.astimezone(UTC).replace(second=0, microsecond=0)
    before = min(SIGNAL_BEFORE, max(SIGNAL_BEFORE_MIN, end - signal.started_at))
    earliest = max(signal.started_at - before, end - SPAN_MAX)
    minutes = max(1, -(-int((end - earliest).total_seconds()) // 60))
    per_bucket = BUCKET_MINUTES * -(-minutes // (BUCKET_MINUTES * MAX_BUCKETS))
    width = timedelta(minutes=per_bucket)
    count = -(-minutes // per_bucket)
    return end - count * width, end, width


def signal_curve(signal, now: datetime | None = None) -> Curve:
    """The signal's buckets and baseline band over span(): two queries (one while the band
    is cached)."""
    start, end, width = span(signal, now)
    return Curve(
        start=start,
        end=end,
        width=width,
        buckets=selectors.volume_series(signal.watch_id, start, end, width),
        band=selectors.baseline_band(signal.watch, start, end, width),
    )
