"""The metrics page's charts, in the post-mortem chart's style (chart.py): pure geometry from
metrics.Report to the numbers `postmortems/_metrics_chart.html` draws, server-rendered SVG,
no script. Two shapes: stacked bars (incidents per month by severity, by category) and
lines (medians in hours, shares in %), one slot per month of the period."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _

from incidents.choices import Category, Severity

from .chart import Tick, _nice_max

WIDTH = 600
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 12, 32
# The series' colours: severities from low to critical, then a qualitative palette.
SEVERITY_COLOURS = {1: "#7ea3d6", 2: "#e0a43a", 3: "#d9622b", 4: "#b42318"}
PALETTE = ["#2f6fb5", "#e0a43a", "#1e7a46", "#8e44ad", "#d9622b", "#5b6675", "#b42318"]


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass
class Line:
    label: str
    colour: str
    points: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, title

    @property
    def path(self) -> str:
        return " ".join(f"{x},{y}" for x, y, _title in self.points)


@dataclass
class Legend:
    label: str
    colour: str


@dataclass
class MetricsChart:
    title: str
    description: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[Legend] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    empty: bool = True


def _month_label(month) -> str:
    # "N": the month abbreviated as each language writes it ("June", "juil."); "M" gives
    # French "Jui" for both June and July.
    return formats.date_format(month, "N Y")


def _frame(chart: MetricsChart, months, top: float, label: Callable[[float], str]) -> float:
    """Ticks of both axes; returns the width of one month's slot."""
    plot_h = chart.bottom - chart.top
    slot = (chart.right - chart.left) / max(len(months), 1)
    for k in range(5):
        chart.y_ticks.append(Tick(round(chart.bottom - plot_h * k / 4, 1), label(top * k / 4)))
    every = max(1, -(-len(months) // 6))  # at most 6 month labels
    for i, month in enumerate(months):
        if i % every == 0:
            chart.x_ticks.append(Tick(round(chart.left + (i + 0.5) * slot, 1), _month_label(month)))
    return slot


def stacked(title, description, months, series) -> MetricsChart:
    """`series`: (label, colour, one count per month); bars stacked in that order."""
    chart = MetricsChart(title=title, description=description)
    totals = [sum(values[i] for _l, _c, values in series) for i in range(len(months))]
    top = _nice_max(max(totals, default=0) or 1)
    slot = _frame(chart, months, top, lambda v: str(int(v)))
    plot_h = chart.bottom - chart.top
    for label, colour, values in series:
        if any(values):
            chart.legend.append(Legend(label, colour))
    base = [0] * len(months)
    for label, colour, values in series:
        for i, value in enumerate(values):
            if not value:
                continue
            height = plot_h * value / top
            y = chart.bottom - plot_h * base[i] / top - height
            chart.rects.append(
                Rect(
                    x=round(chart.left + i * slot + slot * 0.15, 1),
                    y=round(y, 1),
                    width=round(max(slot * 0.7, 0.5), 1),
                    height=round(height, 1),
                    fill=colour,
                    title=f"{_month_label(months[i])} · {label}: {value}",
                )
            )
            base[i] += value
    chart.empty = not chart.rects
    return chart


def lines(title, description, months, series, *, top=None, label=None) -> MetricsChart:
    """`series`: (label, colour, one value or None per month). `top`: the axis' maximum
    (else a round one above the values); `label(value)`: a tick's or a point's text."""
    label = label or (lambda v: f"{v:g}")
    chart = MetricsChart(title=title, description=description)
    values = [v for _l, _c, vs in series for v in vs if v is not None]
    top = top or _nice_max(int(max(values, default=0)) + 1)
    slot = _frame(chart, months, top, label)
    plot_h = chart.bottom - chart.top
    for name, colour, vs in series:
        line = Line(name, colour)
        for i, value in enumerate(vs):
            if value is not None:
                line.points.append(
                    (
                        round(chart.left + (i + 0.5) * slot, 1),
                        round(chart.bottom - plot_h * min(value, top) / top, 1),
                        f"{_month_label(months[i])} · {name}: {label(value)}",
                    )
                )
        if line.points:
            chart.lines.append(line)
            chart.legend.append(Legend(name, colour))
    chart.empty = not chart.lines
    return chart


def _hours(seconds):
    return None if seconds is None else seconds / 3600


def _percent(share):
    return None if share is None else 100 * share


def build(report) -> list[MetricsChart]:
    """The page's charts, in its order."""
    months = [m.month for m in report.months]
    categories = [c for c in Category.values if report.total.by_category.get(c)]
    labels = dict(Category.choices)
    return [
        stacked(
            _("Incidents per month by severity"),
            _("Stacked bars: incidents declared each month, by severity."),
            months,
            [
                (
                    Severity(s).label,
                    SEVERITY_COLOURS[s],
                    [m.by_severity.get(s, 0) for m in report.months],
                )
                for s in Severity.values
            ],
        ),
        stacked(
            _("Incidents per month by category"),
            _("Stacked bars: incidents declared each month, by category."),
            months,
            [
                (
                    labels[c],
                    PALETTE[i % len(PALETTE)],
                    [m.by_category.get(c, 0) for m in report.months],
                )
                for i, c in enumerate(categories)
            ],
        ),
        lines(
            _("Median times (hours)"),
            _(
                "Lines: median hours from detection to declaration, from declaration to the "
                "first public response, and of statement approval, per month."
            ),
            months,
            [
                (
                    _("To declare"),
                    PALETTE[0],
                    [_hours(m.declare_median_seconds) for m in report.months],
                ),
                (
                    _("To first response"),
                    PALETTE[4],
                    [_hours(m.first_response_median_seconds) for m in report.months],
                ),
                (
                    _("Approval latency"),
                    PALETTE[3],
                    [_hours(m.approval_median_seconds) for m in report.months],
                ),
            ],
            label=lambda v: f"{v:.1f}".rstrip("0").rstrip(".") + " h",
        ),
        lines(
            _("Deadlines met and reply coverage (%)"),
            _(
                "Lines: share of first-response deadlines met, and share of the mentions "
                "needing an answer that were handled, per month."
            ),
            months,
            [
                (
                    _("First-response deadlines met"),
                    PALETTE[2],
                    [_percent(m.deadlines_met_share) for m in report.months],
                ),
                (
                    _("Reply coverage"),
                    PALETTE[0],
                    [_percent(m.reply_coverage) for m in report.months],
                ),
            ],
            top=100,
            label=lambda v: f"{v:.0f} %",
        ),
    ]
