"""The reaction chart's geometry: mention volume (bars) and negative share (a line) over
time, each published statement marked by a numbered line. Pure: from figures.Report to the
numbers `postmortems/_chart.svg` draws, so the page, the print page and the Markdown
export draw the same chart (an SVG rendered on the server, no script)."""

from dataclasses import dataclass, field

from incidents.localtime import shown

WIDTH = 760
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 16, 34


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass
class Marker:
    x: float
    number: int
    title: str


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    bars: list[Bar] = field(default_factory=list)
    line: str = ""  # polyline points of the negative share
    points: list[tuple[float, float]] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)  # volume (left)
    share_ticks: list[Tick] = field(default_factory=list)  # negative share (right)
    x_ticks: list[Tick] = field(default_factory=list)
    max_volume: int = 0

    @property
    def empty(self) -> bool:
        return not self.bars


def _nice_max(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return step * 4
    return -(-value // 10000) * 10000


def build(report) -> Chart:
    chart = Chart()
    series = report.series
    if not series:
        return chart
    plot_w = chart.right - chart.left
    plot_h = chart.bottom - chart.top
    start = series[0].start
    span = (series[-1].start - start).total_seconds() + 3600 * report.bucket_hours
    top = _nice_max(max(b.mentions for b in series) or 1)
    chart.max_volume = top
    slot = plot_w / len(series)

    def x_of(moment) -> float:
        return round(chart.left + plot_w * (moment - start).total_seconds() / span, 1)

    for i, bucket in enumerate(series):
        height = plot_h * bucket.mentions / top
        chart.bars.append(
            Bar(
                x=round(chart.left + i * slot + slot * 0.1, 1),
                y=round(chart.bottom - height, 1),
                width=round(max(slot * 0.8, 0.5), 1),
                height=round(height, 1),
                title=f"{shown(bucket.start)} · {bucket.mentions}",
            )
        )
        share = bucket.negative_share
        if share is not None:
            chart.points.append(
                (round(chart.left + (i + 0.5) * slot, 1), round(chart.bottom - plot_h * share, 1))
            )
    chart.line = " ".join(f"{x},{y}" for x, y in chart.points)
    for n, s in enumerate(report.statements, start=1):
        if s.published_at is not None:
            chart.markers.append(Marker(x=x_of(s.published_at), number=n, title=s.title or s.kind))
    for k in range(5):
        value = top * k // 4
        chart.y_ticks.append(Tick(round(chart.bottom - plot_h * k / 4, 1), str(value)))
        chart.share_ticks.append(Tick(round(chart.bottom - plot_h * k / 4, 1), f"{25 * k} %"))
    labels = 6
    for k in range(labels + 1):
        moment = start + (series[-1].start - start) * k / labels
        # The day and month named without the year, to fit under the axis: "1 Dec 13:05".
        tick = f"{shown(moment, 'MONTH_DAY_FORMAT')} {shown(moment, 'TIME_FORMAT')}"
        chart.x_ticks.append(Tick(x_of(moment), tick))
    return chart
