"""The metrics report as data: the API's JSON and the CSV download, from the same
metrics.Report (the page draws it). Times are seconds in the JSON, minutes in the CSV (a
spreadsheet's reader thinks in minutes); shares are in [0, 1] in both."""

from django.utils.translation import gettext as _

from incidents.choices import Category, Severity

# A cell starting with one of these is a formula to a spreadsheet: quoted (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def figures_json(figures) -> dict:
    return {
        "incidents": figures.incidents,
        "by_category": [
            {"category": c, "count": figures.by_category[c]}
            for c in Category.values
            if figures.by_category.get(c)
        ],
        "by_severity": [
            {"severity": s, "count": figures.by_severity.get(s, 0)} for s in Severity.values
        ],
        "declare_median_seconds": figures.declare_median_seconds,
        "first_response_median_seconds": figures.first_response_median_seconds,
        "deadlines_due": figures.deadlines_due,
        "deadlines_met": figures.deadlines_met,
        "deadlines_met_share": figures.deadlines_met_share,
        "approvals": figures.approvals,
        "approval_median_seconds": figures.approval_median_seconds,
        "replies_needing": figures.replies_needing,
        "replies_answered": figures.replies_answered,
        "reply_coverage": figures.reply_coverage,
        "promises_due": figures.promises_due,
        "promises_kept": figures.promises_kept,
        "promises_kept_share": figures.promises_kept_share,
    }


def as_json(report) -> dict:
    f = report.filters
    return {
        "since": f"{f.first:%Y-%m}",
        "until": f"{f.last:%Y-%m}",
        "category": f.category,
        "total": figures_json(report.total),
        "months": [{"month": f"{m.month:%Y-%m}", **figures_json(m)} for m in report.months],
        "open_items_by_owner": [
            {"owner": {"id": o.owner_id, "name": o.name}, "open": o.open, "overdue": o.overdue}
            for o in report.owners
        ],
    }


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _minutes(seconds):
    return None if seconds is None else round(seconds / 60, 1)


def csv_rows(report):
    """Rows of the CSV: one per month then the period's total, a blank line, then the open
    action items by owner."""
    severities = list(Severity)
    categories = list(Category)
    yield [
        _("month"),
        _("incidents"),
        *[_("severity %(n)d") % {"n": s.value} for s in severities],
        *[str(c.label) for c in categories],
        _("median minutes to declare"),
        _("median minutes to first response"),
        _("first-response deadlines due"),
        _("first-response deadlines met"),
        _("share met"),
        _("statements approved"),
        _("median approval minutes"),
        _("mentions needing an answer"),
        _("answered"),
        _("reply coverage"),
        _("promised updates due"),
        _("kept on time"),
        _("share kept"),
    ]
    for label, figures in [(f"{m.month:%Y-%m}", m) for m in report.months] + [
        (_("total"), report.total)
    ]:
        yield [
            _cell(x)
            for x in [
                label,
                figures.incidents,
                *[figures.by_severity.get(s.value, 0) for s in severities],
                *[figures.by_category.get(c.value, 0) for c in categories],
                _minutes(figures.declare_median_seconds),
                _minutes(figures.first_response_median_seconds),
                figures.deadlines_due,
                figures.deadlines_met,
                figures.deadlines_met_share,
                figures.approvals,
                _minutes(figures.approval_median_seconds),
                figures.replies_needing,
                figures.replies_answered,
                figures.reply_coverage,
                figures.promises_due,
                figures.promises_kept,
                figures.promises_kept_share,
            ]
        ]
    yield []
    yield [_("owner"), _("open action items"), _("overdue")]
    for owner in report.owners:
        yield [_cell(owner.name), owner.open, owner.overdue]
