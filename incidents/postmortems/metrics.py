"""Response metrics across incidents: the one place that computes them, for the metrics page,
its CSV download and the API (`/api/metrics/`).

Who: staff, and whoever leads a crisis cell now (`can_view`); the figures cover the
incidents the person may see (incidents.selectors.incidents_visible_to: staff every one,
a lead the incidents whose cells they are in).

What, per month of declaration (the site's time zone) and over the whole period:
incidents by category and by severity; the median time to declare (detected -> declared)
and to the first public response (declared -> first response); the share of first-response
deadlines met (an incident counts once its deadline has passed or it has responded);
the median approval latency of statements (submitted -> approved, replies excepted, as the
post-mortem counts it); reply coverage (mentions that needed an answer and were handled);
and, for the period's incidents, the open action items of their post-mortems by owner
(overdue among them).

Four queries whatever the number of incidents (tested): the incidents' times, the
statements' approval times, the reply triage grouped by incident, the open action items
grouped by owner; medians are taken in one pass over each. The period is whole months, at
most MAX_MONTHS.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from statistics import median

from django.db.models import Count, Q
from django.utils import timezone

from incidents import permissions
from incidents.choices import Category, Severity
from incidents.crisiscenter.choices import CAME_DUE, PromiseOutcome
from incidents.crisiscenter.models import UpdatePromise
from incidents.replies.choices import HANDLED, NeedsAnswer
from incidents.replies.models import Triage
from incidents.selectors import incidents_visible_to
from statements.choices import StatementKind
from statements.models import Statement

from .choices import ItemStatus
from .models import ActionItem

MAX_MONTHS = 24
DEFAULT_MONTHS = 12
# Owners listed with open action items (the most loaded first).
MAX_OWNERS = 50


def can_view(user) -> bool:
    """Staff, and whoever holds the lead role of a crisis cell now (incidents.permissions)."""
    return permissions.can_view_metrics(user)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> int:
    """How many months from `first` to `last`, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


@dataclass(frozen=True)
class Filters:
    first: date  # first day of the first month
    last: date  # first day of the last month (included)
    category: str = ""

    @classmethod
    def default(cls, today: date | None = None) -> "Filters":
        last = month_start(today or timezone.localdate())
        return cls(first=add_months(last, 1 - DEFAULT_MONTHS), last=last)

    @property
    def months(self) -> list[date]:
        return [add_months(self.first, i) for i in range(months_between(self.first, self.last))]

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware datetimes, [start, end), in the site's time zone."""
        tz = timezone.get_current_timezone()
        start = timezone.make_aware(datetime.combine(self.first, time.min), tz)
        end = timezone.make_aware(datetime.combine(add_months(self.last, 1), time.min), tz)
        return start, end


@dataclass
class Figures:
    """The figures of one month, or of the whole period."""

    incidents: int = 0
    by_category: dict = field(default_factory=dict)  # value -> count
    by_severity: dict = field(default_factory=dict)  # 1..4 -> count
    declare_median_seconds: float | None = None
    first_response_median_seconds: float | None = None
    deadlines_due: int = 0
    deadlines_met: int = 0
    approval_median_seconds: float | None = None
    approvals: int = 0
    replies_needing: int = 0
    replies_answered: int = 0
    # The crisis pages' promised updates that came due, and those kept on time.
    promises_due: int = 0
    promises_kept: int = 0

    @property
    def promises_kept_share(self) -> float | None:
        return self.promises_kept / self.promises_due if self.promises_due else None

    @property
    def deadlines_met_share(self) -> float | None:
        return self.deadlines_met / self.deadlines_due if self.deadlines_due else None

    @property
    def reply_coverage(self) -> float | None:
        return self.replies_answered / self.replies_needing if self.replies_needing else None


@dataclass
class Month(Figures):
    month: date | None = None


@dataclass
class OwnerItems:
    owner_id: int
    name: str
    open: int
    overdue: int


@dataclass
class Report:
    filters: Filters
    total: Figures
    months: list[Month]
    owners: list[OwnerItems]

    @property
    def empty(self) -> bool:
        return self.total.incidents == 0


class _Collect:
    """Values per month and for the whole period, turned into Figures at the end."""

    def __init__(self, months):
        self.keys = [*months, None]  # None: the whole period
        self.values = {key: defaultdict(list) for key in self.keys}
        self.counts = {key: defaultdict(int) for key in self.keys}

    def add(self, month, name, value):
        for key in (month, None):
            self.values[key][name].append(value)

    def count(self, month, name, n=1):
        for key in (month, None):
            self.counts[key][name] += n


def _month_of(moment: datetime) -> date:
    return month_start(timezone.localtime(moment).date())


def _median(values) -> float | None:
    return median(values) if values else None


def report(user, filters: Filters, *, now: datetime | None = None) -> Report:
    now = now or timezone.now()
    start, end = filters.bounds()
    incidents = incidents_visible_to(user).filter(declared_at__gte=start, declared_at__lt=end)
    if filters.category:
        incidents = incidents.filter(category=filters.category)
    collect = _Collect(filters.months)
    month_of_incident: dict[int, date] = {}
    # 1. The incidents' own times.
    for pk, category, severity, detected, declared, responded, due in incidents.values_list(
        "pk",
        "category",
        "severity",
        "detected_at",
        "declared_at",
        "first_response_at",
        "first_response_due_at",
    ):
        month = _month_of(declared)
        month_of_incident[pk] = month
        collect.count(month, "incidents")
        collect.count(month, ("category", category))
        collect.count(month, ("severity", severity))
        collect.add(month, "declare", max((declared - detected).total_seconds(), 0))
        if responded is not None:
            collect.add(month, "first_response", max((responded - declared).total_seconds(), 0))
        if responded is not None or due <= now:
            collect.count(month, "due")
            if responded is not None and responded <= due:
                collect.count(month, "met")
    # 2. Approval latency of the statements approved (replies excepted).
    approved = (
        Statement.objects.filter(
            incident__in=incidents, submitted_at__isnull=False, approved_at__isnull=False
        )
        .exclude(kind=StatementKind.REPLY)
        .values_list("incident_id", "submitted_at", "approved_at")
    )
    for incident_id, submitted, approved_at in approved:
        month = month_of_incident.get(incident_id)
        if month is not None:
            collect.add(month, "approval", max((approved_at - submitted).total_seconds(), 0))
    # 3. Reply coverage, grouped by incident.
    coverage = (
        Triage.objects.filter(incident__in=incidents, needs_answer=NeedsAnswer.YES)
        .values("incident_id")
        .annotate(needing=Count("pk"), answered=Count("pk", filter=Q(outcome__in=HANDLED)))
        .order_by()
    )
    for row in coverage:
        month = month_of_incident.get(row["incident_id"])
        if month is not None:
            collect.count(month, "needing", row["needing"])
            collect.count(month, "answered", row["answered"])
    # 4. The crisis pages' promised updates that came due, grouped by incident.
    promised = (
        UpdatePromise.objects.filter(page__incident__in=incidents, outcome__in=CAME_DUE)
        .values("page__incident_id")
        .annotate(due=Count("pk"), kept=Count("pk", filter=Q(outcome=PromiseOutcome.KEPT)))
        .order_by()
    )
    for row in promised:
        month = month_of_incident.get(row["page__incident_id"])
        if month is not None:
            collect.count(month, "promises_due", row["due"])
            collect.count(month, "promises_kept", row["kept"])
    # 5. Open action items of these incidents' post-mortems, by owner.
    today = timezone.localdate(now)
    owners = [
        OwnerItems(
            owner_id=row["owner"],
            # people.display_name's rule, from the grouped row.
            name=f"{row['owner__first_name']} {row['owner__last_name']}".strip()
            or row["owner__username"],
            open=row["open"],
            overdue=row["overdue"],
        )
        for row in ActionItem.objects.filter(
            postmortem__incident__in=incidents, status=ItemStatus.OPEN
        )
        .values("owner", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
        .order_by("-open", "-overdue", "owner__username")[:MAX_OWNERS]
    ]

    def figures(key, cls=Figures, **extra):
        values, counts = collect.values[key], collect.counts[key]
        return cls(
            incidents=counts["incidents"],
            by_category={
                c: counts[("category", c)] for c in Category.values if counts[("category", c)]
            },
            by_severity={s: counts[("severity", s)] for s in Severity.values},
            declare_median_seconds=_median(values["declare"]),
            first_response_median_seconds=_median(values["first_response"]),
            deadlines_due=counts["due"],
            deadlines_met=counts["met"],
            approval_median_seconds=_median(values["approval"]),
            approvals=len(values["approval"]),
            replies_needing=counts["needing"],
            replies_answered=counts["answered"],
            promises_due=counts["promises_due"],
            promises_kept=counts["promises_kept"],
            **extra,
        )

    return Report(
        filters=filters,
        total=figures(None),
        months=[figures(month, Month, month=month) for month in filters.months],
        owners=owners,
    )
