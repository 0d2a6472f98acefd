"""Server-rendered SVG charts of a stream (the listening page, the room's mentions panel):
the geometry here, the markup in templates/listening/_chart.html and _sparkline.html.

The SVGs carry no text (axis labels are HTML beside them) and are drawn in a fixed
viewBox stretched to the container (`preserveAspectRatio="none"`, non-scaling strokes), so
they read the same on a phone and on a desk. No inline style: classes only (CSP).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .selectors import Bucket

SPARK_WIDTH, SPARK_HEIGHT = 120, 28
# A bucket's negative share is drawn only over this many scored mentions: one post's label
# is right 60-75% of the time, so the share of three posts is noise, not a tone.
MIN_SCORED = 5
CHART_WIDTH, CHART_HEIGHT = 720, 160


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
    scale), with an optional band (e.g. the baseline's expected range) behind them."""

    volume_area: str
    volume_line: str
    negative_line: str
    band: str
    peak: int  # the volume scale's top, in mentions per bucket
    total: int
    negative: int
    scored: int
    start: datetime | None
    end: datetime | None
    buckets: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT

    @property
    def negative_share(self) -> int | None:
        """The negative share over the whole chart, in percent (None: nothing scored)."""
        return round(100 * self.negative / self.scored) if self.scored else None


def chart(buckets: Sequence[Bucket], width, band: Sequence[tuple[float, float]] | None = None):
    """The chart of `buckets` (oldest first, each `width` long). `band`, one (low, high)
    per bucket in mentions per bucket, is drawn as an area behind the volume: the hook for
    the detection's baseline band."""
    counts = [b.mentions for b in buckets]
    top = max([*counts, *(high for _low, high in band or ())], default=0)
    top = max(1, int(top * 1.1 + 0.999))  # headroom, a whole number for the label
    points = _points(counts, CHART_WIDTH, CHART_HEIGHT, top)
    line = _line(points)
    area = f"{line} L{CHART_WIDTH},{CHART_HEIGHT} L0,{CHART_HEIGHT} Z" if points else ""
    # The negative share where there is something to share; gaps where nothing was scored.
    negative = []
    step = CHART_WIDTH / max(1, len(buckets) - 1)
    pen_up = True
    for i, bucket in enumerate(buckets):
        share = bucket.negative_share
        if share is None or bucket.scored < MIN_SCORED:
            pen_up = True
            continue
        y = CHART_HEIGHT - share * CHART_HEIGHT
        negative.append(f"{'M' if pen_up else 'L'}{_fmt(i * step)},{_fmt(y)}")
        pen_up = False
    band_path = ""
    if band:
        highs = _points([high for _low, high in band], CHART_WIDTH, CHART_HEIGHT, top)
        lows = _points([low for low, _high in band], CHART_WIDTH, CHART_HEIGHT, top)
        band_path = _line(highs) + " " + _line(reversed(lows)).replace("M", "L", 1) + " Z"
    return Chart(
        volume_area=area,
        volume_line=line,
        negative_line=" ".join(negative),
        band=band_path,
        peak=top,
        total=sum(counts),
        negative=sum(b.negative for b in buckets),
        scored=sum(b.scored for b in buckets),
        start=buckets[0].start if buckets else None,
        end=buckets[-1].start + width if buckets else None,
        buckets=len(buckets),
    )
