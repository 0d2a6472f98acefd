"""Server-rendered SVG charts of a stream (the listening page, the room's mentions panel):
the geometry here, the markup in templates/listening/_chart.html and _sparkline.html.

The SVGs carry no text (axis labels are HTML beside them) and are drawn in a fixed
viewBox stretched to the container (`preserveAspectRatio="none"`, non-scaling strokes), so
they read the same on a phone and on a desk. No inline style: classes only (CSP).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .selectors import Bucket

SPARK_WIDTH, SPARK_HEIGHT = 120, 28
# A bucket's negative share is drawn only over this many scored mentions: one post's label
# is right 60-75% of the time, so the share of three posts is noise, not a tone.
MIN_SCORED = 5
CHART_WIDTH, CHART_HEIGHT = 720, 160
# The negative share's own scale: 0 % at the bottom, 100 % this far below the top, so that
# the line stays inside the plot (its stroke whole) and apart from the volume's peak, with
# its "100 %" label (_chart.html) above the plot.
NEGATIVE_TOP = 24
# A mark's label (charts.MarkLabel), in percent of the plot's width: each character's width
# on the narrowest plot (a phone's, about 330 px at .75rem) and the room kept between two
# labels on a row. Over-estimated on a desk, where the plot is twice as wide: never touching.
LABEL_CHAR = 2.1
LABEL_GAP = 2.0
MARK_ROW_HEIGHT = 14  # px, one row of mark labels (_chart.html)
# A bucket still filling is drawn as a bar over its whole width ("so far"), at least this
# share of the plot wide: the last hour of a week is 0.6 % of it, two pixels on a phone.
FILLING_MIN_WIDTH = 0.015
# The normal range (the grey band): the expected value give or take this many of the
# baseline's deviations (detection.band's low is the expected value less two of them).
# Above it, the alert threshold: the expected value plus the watch's volume_deviations.
NORMAL_DEVIATIONS = 2.0


@dataclass(frozen=True)
class Baseline:
    """What every volume chart draws behind the stream, one definition (Listening page,
    signal page, their legends): `band`, the normal range per bucket, (low, high) =
    expected give or take NORMAL_DEVIATIONS deviations; `threshold`, where the detector's
    volume bar stands per bucket (expected plus the watch's `volume_deviations`), drawn as
    a line; `min_count`, the mentions an hour must also hold to alert (the watch's rule,
    said in the legend: a bar on counts per hour, not per bucket)."""

    band: tuple
    threshold: tuple
    min_count: int


def baseline(values: Sequence[dict], watch) -> Baseline:
    """The Baseline of detection.baseline_band's `values` ({"expected", "low", "high"} per
    bucket, None before any history: 0) for `watch`'s rules. `high` there is the alert
    bar; the normal range's top is as far above the expected value as its low is below
    (NORMAL_DEVIATIONS), read back from the bar's deviations."""
    deviations = float(watch.volume_deviations) or 1.0
    band, threshold = [], []
    for value in values:
        expected = value.get("expected") or 0.0
        bar = value.get("high") or 0.0
        spread = max(0.0, bar - expected) / deviations
        band.append((value.get("low") or 0.0, expected + NORMAL_DEVIATIONS * spread))
        threshold.append(bar)
    return Baseline(tuple(band), tuple(threshold), int(watch.volume_min_count))


@dataclass(frozen=True)
class MarkLabel:
    """A mark's name and time, written beside its line under the plot: to the right of the
    line ("start") or to its left ("end"), where it fits in the plot, on the first row where
    it touches no other label (a signal opened a minute after it started: two rows)."""

    name: str
    text: str
    moment: datetime
    x: float  # percent of the plot's width
    anchor: str  # "start" or "end" (SVG text-anchor)
    row: int

    @property
    def left(self) -> str:
        return _fmt(self.x)

    @property
    def y(self) -> int:
        return MARK_ROW_HEIGHT * self.row + MARK_ROW_HEIGHT - 3  # the text's baseline


def _mark_text(name: str, moment: datetime) -> str:
    """ "signal opened 14:30": one phrase per mark, the time in it (French says "signal
    ouvert à 14:30", not the label then the time)."""
    when = formats.time_format(timezone.localtime(moment), "TIME_FORMAT")
    if name == "started":
        return _("started %(time)s") % {"time": when}
    if name == "opened":
        return _("signal opened %(time)s") % {"time": when}
    if name == "closed":
        return _("signal closed %(time)s") % {"time": when}
    return f"{name} {when}"


def so_far_text(count: int) -> str:
    """The label of a bucket still filling: its count so far."""
    return _("%(n)s so far") % {"n": count}


def _free(span: tuple[float, float], taken: list[tuple[float, float]]) -> bool:
    """Whether `span` keeps LABEL_GAP from every span `taken` on its row."""
    return all(span[1] + LABEL_GAP <= lo or hi + LABEL_GAP <= span[0] for lo, hi in taken)


def place_labels(
    marks: Sequence[tuple[str, float, datetime]], texts: dict | None = None
) -> tuple[MarkLabel, ...]:
    """The labels of `marks` ((name, x in percent, moment), in time order), each where it
    fits in the plot (never cut): the first left of its line (the others come after it),
    the others right of theirs, on the other side when theirs has no room, on the first row
    where it touches no other label (never overlapping). `texts`: {name: text} written
    instead of the mark's name and time (the opening's figure, a bucket's "so far")."""
    rows: list[list[tuple[float, float]]] = []  # the spans taken on each row
    placed = []
    for index, (name, x, moment) in enumerate(marks):
        order = ("end", "start") if index == 0 else ("start", "end")
        text = (texts or {}).get(name) or _mark_text(name, moment)
        spans, sides = _sides(text, x, order)
        if not sides and text != _mark_text(name, moment):
            # The figure does not fit beside its line (a phone): its name and time do, and
            # the page says the figure beside the chart.
            text = _mark_text(name, moment)
            spans, sides = _sides(text, x, order)
        # Too long for either side (a long translation): the side with more room.
        sides = sides or ["start" if x < 50 else "end"]

        row, anchor = next(
            (
                (row, side)
                for row, taken in enumerate(rows)
                for side in sides
                if _free(spans[side], taken)
            ),
            (len(rows), sides[0]),
        )
        if row == len(rows):
            rows.append([])
        rows[row].append(spans[anchor])
        placed.append(MarkLabel(name, text, moment, x, anchor, row))
    return tuple(placed)


def _sides(text: str, x: float, order) -> tuple[dict, list[str]]:
    """A label's spans ({"end": left of its line, "start": right of it}, in percent) and
    the sides, in `order`, where it fits in the plot whole."""
    width = LABEL_CHAR * len(text)
    spans = {"end": (x - width, x), "start": (x, x + width)}
    return spans, [side for side in order if spans[side][0] >= 0 and spans[side][1] <= 100]


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _points(values: Sequence[float], width: float, height: float, top: float) -> list[tuple]:
    """(x, y) of each value, spread over `width`, `top` at y=0 (the SVG's y grows down)."""
    step = width / max(1, len(values) - 1)
    scale = height / top if top else 0
    return [(i * step, height - value * scale) for i, value in enumerate(values)]


def _line(points) -> str:
    return " ".join(
        f"{'M' if i == 0 else 'L'}{_fmt(x)},{_fmt(y)}" for i, (x, y) in enumerate(points)
    )


@dataclass(frozen=True)
class Sparkline:
    line: str  # an SVG path
    area: str
    total: int
    peak: int
    width: int = SPARK_WIDTH
    height: int = SPARK_HEIGHT


def sparkline(counts: Sequence[int]) -> Sparkline:
    """A small area chart of counts per bucket (oldest first)."""
    peak = max(counts, default=0)
    points = _points(counts, SPARK_WIDTH, SPARK_HEIGHT - 2, max(peak, 1))
    points = [(x, y + 1) for x, y in points]  # a pixel of room for the stroke
    line = _line(points)
    area = f"{line} L{SPARK_WIDTH},{SPARK_HEIGHT} L0,{SPARK_HEIGHT} Z" if points else ""
    return Sparkline(line=line, area=area, total=sum(counts), peak=peak)


@dataclass(frozen=True)
class Chart:
    """A stream's volume (area and line) and negative share (a line on its own 0-100 %
    scale), with an optional normal range (a band) and alert threshold (a line) behind them
    (Baseline) and vertical marks (e.g. when a signal started, opened, closed). Each whole
    bucket is drawn at the middle of the time it covers, on a time axis from `start` to the
    last bucket's end (`axis_end`); a bucket still filling at `end` (now) is a bar over its
    whole width marked with its count "so far", never a fall nor a sliver at the edge."""

    volume_area: str
    volume_line: str
    filling_line: str  # unused: the bucket still filling is a bar (`filling`)
    negative_line: str
    band: str
    peak: int  # the volume scale's top, in mentions per bucket
    total: int
    negative: int
    scored: int
    start: datetime | None
    end: datetime | None  # where the data stops (now while it is filling)
    buckets: int
    bucket_minutes: int = 60
    # The chart ends at `end`, inside the last bucket (still filling, or cut at a close).
    partial: bool = False
    marks: tuple = ()  # (name, x, moment) of each mark within the chart
    mark_labels: tuple = ()  # MarkLabel of each mark, placed under the plot
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    threshold_line: str = ""  # the alert threshold (Baseline.threshold)
    min_count: int | None = None  # the hour's minimum count to alert (Baseline.min_count)
    axis_end: datetime | None = None  # the right edge: the last bucket's end
    # The bucket still filling: its bar (x, y, width, height in the viewBox) and count.
    filling: tuple | None = None
    filling_count: int = 0
    highest: int = 0  # the largest bucket's count, and when that bucket started
    highest_at: datetime | None = None
    trigger_span: tuple | None = None  # (x, width) of the window that opened the signal

    @property
    def highest_end(self) -> datetime | None:
        if self.highest_at is None:
            return None
        return self.highest_at + timedelta(minutes=self.bucket_minutes)

    @property
    def mark_rows_height(self) -> int:
        """The height in px of the mark labels' rows under the plot (0: no mark)."""
        return MARK_ROW_HEIGHT * (1 + max((label.row for label in self.mark_labels), default=-1))

    @property
    def negative_share(self) -> int | None:
        """The negative share over the whole chart, in percent (None: nothing scored)."""
        return round(100 * self.negative / self.scored) if self.scored else None

    @property
    def line_min_scored(self) -> int:
        """The negative-share line is drawn only where a bucket has this many scored
        mentions (the legend says so: a gap is not a zero)."""
        return MIN_SCORED

    @property
    def per(self) -> str:
        """The volume's unit, in words: "per 10 min", "per hour", "per 3 hours"."""
        minutes = self.bucket_minutes
        if minutes % 60:
            return _("per %(n)s min") % {"n": minutes}
        hours = minutes // 60
        if hours == 1:
            return _("per hour")
        return _("per %(n)s hours") % {"n": hours}


def chart(
    buckets: Sequence[Bucket],
    width: timedelta,
    band: Sequence[tuple[float, float]] | None = None,
    *,
    end: datetime | None = None,
    marks: Sequence[tuple[str, datetime | None]] = (),
    baseline: Baseline | None = None,
    mark_texts: dict | None = None,
    trigger: tuple[datetime, datetime] | None = None,
):
    """The chart of `buckets` (oldest first, each `width` long). `baseline` (or `band`
    alone, one (low, high) per bucket in mentions per bucket): the normal range drawn as an
    area behind the volume, and the alert threshold as a line. `end`: where the data stops
    when it is before the last bucket's end (now, inside a bucket still filling): that
    bucket is a bar of its count so far, never a future drawn as zeros. `marks`: (name,
    moment) drawn as vertical lines when the moment is on the chart, `mark_texts` what
    their labels say instead of their name and time. `trigger`: (start, end) of the window
    that opened the signal, shaded."""
    if baseline is not None:
        band = baseline.band
    thresholds = list(baseline.threshold) if baseline is not None else []
    counts = [b.mentions for b in buckets]
    top = max(
        [*counts, *(high for _low, high in band or ()), *thresholds],
        default=0,
    )
    top = max(1, int(top * 1.1 + 0.999))  # headroom, a whole number for the label
    start = buckets[0].start if buckets else None
    stop = buckets[-1].start + width if buckets else None
    partial = bool(buckets and end is not None and start < end < stop)
    data_end = end if partial else stop
    span = (stop - start).total_seconds() if buckets else 0

    def x_of(moment) -> float:
        return CHART_WIDTH * min(1.0, max(0.0, (moment - start).total_seconds() / span))

    xs = [x_of(b.start + width / 2) for b in buckets]

    def y_of(value) -> float:
        return CHART_HEIGHT - value * CHART_HEIGHT / top

    whole = len(buckets) - 1 if partial else len(buckets)
    points = [(x, y_of(value)) for x, value in zip(xs[:whole], counts[:whole], strict=True)]
    line = _line(points)
    area = (
        f"{line} L{_fmt(points[-1][0])},{CHART_HEIGHT} L{_fmt(points[0][0])},{CHART_HEIGHT} Z"
        if points
        else ""
    )
    # The bucket still filling: a bar over its whole width (at least FILLING_MIN_WIDTH of
    # the plot), its count so far: a burst in the current hour shows at once.
    filling = None
    if partial:
        bar = max(CHART_WIDTH - x_of(buckets[-1].start), FILLING_MIN_WIDTH * CHART_WIDTH)
        y = y_of(counts[-1])
        filling = tuple(_fmt(v) for v in (CHART_WIDTH - bar, y, bar, CHART_HEIGHT - y))
    # The negative share where there is something to share; gaps where nothing was scored.
    # A bucket alone between gaps is drawn across its own width (a point alone draws nothing).
    runs: list[list[int]] = []  # indices of buckets drawn together, between gaps
    for index, bucket in enumerate(buckets):
        if bucket.negative_share is None or bucket.scored < MIN_SCORED:
            continue
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])

    def share_y(bucket) -> float:
        share = min(1.0, max(0.0, bucket.negative_share))
        return CHART_HEIGHT - share * (CHART_HEIGHT - NEGATIVE_TOP)

    negative = []
    for run in runs:
        if len(run) == 1:  # across its own span (the last may be cut at `end`)
            bucket = buckets[run[0]]
            y = share_y(bucket)
            ends = (x_of(bucket.start), x_of(min(bucket.start + width, data_end)))
            negative.append(_line([(ends[0], y), (ends[1], y)]))
        else:
            negative.append(_line([(xs[i], share_y(buckets[i])) for i in run]))
    band_path = ""
    if band:
        highs = [(x, y_of(high)) for x, (_low, high) in zip(xs, band, strict=False)]
        lows = [(x, y_of(low)) for x, (low, _high) in zip(xs, band, strict=False)]
        band_path = _line(highs) + " " + _line(reversed(lows)).replace("M", "L", 1) + " Z"
    threshold_line = _line([(x, y_of(t)) for x, t in zip(xs, thresholds, strict=False)])
    shown = tuple(
        (name, _fmt(x_of(moment)), moment)
        for name, moment in marks
        if buckets and moment is not None and start <= moment <= data_end
    )
    labelled = [(name, 100 * x_of(moment) / CHART_WIDTH, moment) for name, _x, moment in shown]
    texts = dict(mark_texts or {})
    if filling is not None:
        labelled.append(("sofar", 100.0, end))
        texts["sofar"] = so_far_text(counts[-1])
    highest = max(counts, default=0)
    trigger_span = None
    if trigger is not None and buckets and trigger[1] >= start and trigger[0] <= stop:
        lo, hi = x_of(trigger[0]), x_of(trigger[1])
        trigger_span = (_fmt(lo), _fmt(max(hi - lo, 1.0)))
    return Chart(
        volume_area=area,
        volume_line=line,
        filling_line="",
        negative_line=" ".join(negative),
        band=band_path,
        peak=top,
        total=sum(counts),
        negative=sum(b.negative for b in buckets),
        scored=sum(b.scored for b in buckets),
        start=start,
        end=data_end,
        buckets=len(buckets),
        bucket_minutes=int(width.total_seconds() // 60),
        partial=partial,
        marks=shown,
        mark_labels=place_labels(labelled, texts),
        threshold_line=threshold_line,
        min_count=baseline.min_count if baseline is not None else None,
        axis_end=stop,
        filling=filling,
        filling_count=counts[-1] if filling is not None else 0,
        highest=highest,
        highest_at=buckets[counts.index(highest)].start if buckets and highest else None,
        trigger_span=trigger_span,
    )
