"""A signal's curve, one rule for its page (views.signal_page's chart) and the API
(`GET /api/signals/{id}/`'s `curve`): which span, which buckets, the baseline band.

- Span: to now while the signal is open (the minute in progress left out), to SIGNAL_AFTER
  after its close once closed, never past now; from before the signal started by as long
  as the episode has lasted so far (from its start to that end), at least SIGNAL_BEFORE_MIN
  and at most SIGNAL_BEFORE: a signal opened minutes ago is not a sliver at the end of six
  quiet hours, and a long one keeps six hours of its usual level before it. At most
  SPAN_MAX (the oldest part left out).
- Buckets: BUCKET_MINUTES (10) long, wider (one of WIDTHS, each a divisor of a day) when
  the span would need more than MAX_BUCKETS; on fixed clock boundaries (10:00, 10:10...,
  counted from the epoch in UTC), never on "now": the same signal draws the same bars
  whenever its page is opened. While it is open, the last bucket is still filling at the
  curve's end: the chart draws it as a bar "so far" (charts.chart), never a future of
  zeros; once closed, the curve ends on the boundary after its hour after the close.
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
# The bucket widths in minutes, narrowest first: each divides a day, so that the buckets
# fall on the same clock boundaries whatever the span.
WIDTHS = (10, 20, 30, 60, 120, 180, 360, 720, 1440)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    per_bucket = next(
        (w for w in WIDTHS if w >= BUCKET_MINUTES and -(-minutes // w) < MAX_BUCKETS),
        WIDTHS[-1],
    )
    width = timedelta(minutes=per_bucket)
    if signal.closed_at is not None:
        # Closed: to the end of the bucket its hour after ends in (once that is past), no
        # bucket cut short that would read as one still filling.
        whole = end + (_EPOCH - end) % width
        if whole <= now:
            end = whole
    return earliest - (earliest - _EPOCH) % width, end, width


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
