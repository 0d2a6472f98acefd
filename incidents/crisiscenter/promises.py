"""Promises kept: every time the page promises its next update is an `UpdatePromise`, and
what became of it is recorded here, by actions only (docs/architecture.md, "Promises kept").

- Making a promise (`make`, called under the incident lock by the actions that set the next
  update time, and by an update that announces the next one) closes the page's current
  promise: one not yet due is MOVED (a new time) or WITHDRAWN (no time); one whose time
  passed is MISSED. Its `due_at` is never changed.
- Publishing an update (the timeline follower, `keep`, same transaction as the publication)
  keeps the current promise: KEPT when published at or before its time, LATE after (also
  when the sweep already recorded it missed: the update came, late); the same update in
  the page's other languages (`is_translation`) keeps nothing more. Then the update makes
  the next promise: the time its publisher gave (`announcing`), else the page's last
  interval (the last promise's made -> due) from the publication; none when the page never
  promised anything.
- The sweep (`sweep`, Celery beat and the embedded scheduler, every minute): a reminder
  CRISIS_CENTER_PROMISE_REMIND_MINUTES before the time, once per promise (a conditional
  UPDATE claims it: two workers, one notice), and at the time the promise is recorded
  MISSED with a timeline entry and a notice, once (under the incident lock, re-read).
"""

import contextlib
import contextvars
import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.actions import lock_incident, timeline_record
from incidents.localtime import shown
from incidents.models import EntryKind
from incidents.notifications.actions import announce_to, notify, per_reader
from incidents.notifications.choices import NotificationKind
from statements import rules as statement_rules
from statements import selectors as statement_selectors
from statements.models import Channel, Statement, StatementStatus

from . import rules, selectors
from .choices import PageState, PromiseOutcome
from .models import CrisisPage, PageText, UpdatePromise

# The sweep's bound per run (the next run takes the rest).
SWEEP_BATCH = 200
# The promises the room and the team API list, newest first.
MAX_LISTED = 50
# The default interval never promises sooner than this.
MIN_INTERVAL = datetime.timedelta(minutes=5)
HORIZON = datetime.timedelta(days=7)

# The next update time given with the publication of an update (`announcing`), read by the
# follower in the same call stack: the statements app knows nothing of promises.
_announced: contextvars.ContextVar = contextvars.ContextVar("announced_next_update")
DEFAULT = object()  # no time given: the page's last interval


@contextlib.contextmanager
def announcing(at):
    """Within this block, a crisis center update published announces `at` as its next
    update time (None: no new promise) instead of the default interval."""
    token = _announced.set(at)
    try:
        yield
    finally:
        _announced.reset(token)


def current(page: CrisisPage) -> UpdatePromise | None:
    """The page's current promise: open, or missed and not yet followed by an update or a
    new promise. At most one (a constraint)."""
    return (
        UpdatePromise.objects.filter(page=page, closed_at__isnull=True)
        .select_related("announced_by")
        .first()
    )


def listed(page: CrisisPage) -> list[UpdatePromise]:
    """The page's promises, newest first, bounded. One query."""
    return list(
        UpdatePromise.objects.filter(page=page)
        .select_related("made_by")
        .order_by("-made_at", "-id")[:MAX_LISTED]
    )


# Approved updates the room offers to publish with the next update time, at most.
MAX_TO_PUBLISH = 20


def to_publish(page: CrisisPage, user) -> list[Statement]:
    """The approved crisis center statements that will be updates once published (bound to
    no section, neither an FAQ answer nor internal) which `user` may publish now: the room
    offers to publish each with the next update time. Bounded."""
    approved = selectors.approved_updates(page)[:MAX_TO_PUBLISH]
    return [
        s
        for s in statement_selectors.with_progress(approved, page.incident)
        if statement_rules.PUBLISH in statement_rules.available_actions(user, s)
    ]


def default_interval(page: CrisisPage) -> datetime.timedelta | None:
    """The page's last interval: how far ahead its latest promise was made (None: never)."""
    last = UpdatePromise.objects.filter(page=page).order_by("-made_at", "-id").first()
    if last is None:
        return None
    return min(max(last.due_at - last.made_at, MIN_INTERVAL), HORIZON)


def default_next(page: CrisisPage, now=None) -> datetime.datetime | None:
    """What a publication announces when its publisher gives no time."""
    interval = default_interval(page)
    return None if interval is None else (now or timezone.now()) + interval


def make(page: CrisisPage, *, due_at, actor, now=None, announced_by=None) -> UpdatePromise | None:
    """Replace the page's current promise by one for `due_at` (None: no promise), and show
    it on the page. The caller holds the incident lock and has validated `due_at`."""
    now = now or timezone.now()
    previous = current(page)
    if previous is not None:
        if previous.outcome == PromiseOutcome.OPEN:
            if previous.due_at < now:
                previous.outcome = PromiseOutcome.MISSED
                previous.lapsed_at = now
            elif due_at is not None:
                previous.outcome = PromiseOutcome.MOVED
            else:
                previous.outcome = PromiseOutcome.WITHDRAWN
        previous.closed_at = now
        previous.save(update_fields=["outcome", "lapsed_at", "closed_at"])
    promise = None
    if due_at is not None:
        promise = UpdatePromise.objects.create(
            page=page, due_at=due_at, made_at=now, made_by=actor, announced_by=announced_by
        )
    if page.next_update_at != due_at:
        page.next_update_at = due_at
        page.save(update_fields=["next_update_at"])
    return promise


def end(page: CrisisPage, *, now=None) -> None:
    """The page is resolved: no update is promised any more (the current promise is
    withdrawn, or stays missed)."""
    make(page, due_at=None, actor=None, now=now)


def is_translation(statement: Statement, promise: UpdatePromise) -> bool:
    """The page speaks several languages, each update is one statement per language: an
    update in another language than the one that announced `promise`, when that language
    has had no update since, is the same update translated. It neither keeps the promise
    its original made nor makes another."""
    announcer = promise.announced_by
    if announcer is None or announcer.language == statement.language:
        return False
    bound = PageText.objects.filter(page_id=promise.page_id).values("statement_id")
    return not (
        Statement.objects.filter(
            incident_id=statement.incident_id,
            channel=Channel.CRISIS_CENTER,
            status=StatementStatus.PUBLISHED,
            language=statement.language,
            published_at__gte=promise.made_at,
        )
        .exclude(kind__in=selectors.NOT_UPDATES)
        .exclude(pk__in=bound)
        .exclude(pk=statement.pk)
        .exists()
    )


def keep(page: CrisisPage, statement: Statement, *, actor, now=None) -> UpdatePromise | None:
    """A crisis center update was published (the follower, under the incident lock): it
    keeps the current promise and makes the next one. Returns the promise it kept."""
    if not selectors.is_update(statement, page):
        return None
    now = now or timezone.now()
    published_at = statement.published_at or now
    promise = current(page)
    # Whatever its recorded time (taken before the publication waited for the incident
    # lock, maybe behind a new promise), an update published now keeps the current promise.
    if promise is not None and is_translation(statement, promise):
        return None
    kept = None
    if promise is not None:
        promise.outcome = (
            PromiseOutcome.KEPT if published_at <= promise.due_at else PromiseOutcome.LATE
        )
        promise.kept_by = statement
        promise.kept_at = published_at
        promise.closed_at = now
        promise.save(update_fields=["outcome", "kept_by", "kept_at", "closed_at"])
        kept = promise
    given = _announced.get(DEFAULT)
    due_at = default_next(page, published_at) if given is DEFAULT else given
    if due_at is not None and due_at > now:
        make(page, due_at=due_at, actor=actor, now=now, announced_by=statement)
    elif kept is not None and page.next_update_at is not None:
        page.next_update_at = None  # kept, and nothing new promised
        page.save(update_fields=["next_update_at"])
    return kept


# --- The sweep -------------------------------------------------------------------------------


def _url(page: CrisisPage) -> str:
    return reverse("incident-room", args=[page.incident_id]) + "#crisis-page-panel"


def _subject(promise: UpdatePromise, text: str) -> str:
    return text % {
        "slug": promise.page.slug,
        # With its zone: the bell and the mail are read in any time zone ("11:25 CET").
        "when": shown(promise.due_at, "TIME_FORMAT", zone=True),
    }


def promise_remind(*, promise: UpdatePromise, now=None) -> int:
    """The promise is due within the reminder's minutes: the lead and the spokespeople are
    told, once (the conditional UPDATE is the claim: whoever runs second finds it done).
    Returns how many people were notified."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = UpdatePromise.objects.filter(
            pk=promise.pk, reminded_at__isnull=True, outcome=PromiseOutcome.OPEN
        ).update(reminded_at=now)
        if not claimed:
            return 0
        page = promise.page
        users = rules.promise_keepers(page.incident)
        count = notify(
            users=users,
            kind=NotificationKind.UPDATE_DUE_SOON,
            subject=per_reader(
                lambda: _subject(
                    promise, _("Crisis page %(slug)s: next public update due at %(when)s")
                )
            ),
            url=_url(page),
            incident=page.incident,
            now=now,
            announce=False,
            key=f"promise:{promise.pk}:due-soon",
        )
    announce_to({u.pk for u in users})
    return count


def promise_lapse(*, promise: UpdatePromise, now=None) -> bool:
    """The promise's time passed with no update: recorded MISSED, a timeline entry and a
    notice to the lead and the spokespeople, once (under the incident lock, re-read).
    Returns whether this call recorded it."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = lock_incident(promise.page.incident)
        promise = (
            UpdatePromise.objects.select_for_update().select_related("page").get(pk=promise.pk)
        )
        if promise.outcome != PromiseOutcome.OPEN or promise.due_at > now:
            return False
        promise.outcome = PromiseOutcome.MISSED
        promise.lapsed_at = now
        promise.save(update_fields=["outcome", "lapsed_at"])
        timeline_record(
            incident,
            kind=EntryKind.CRISIS_PAGE_PROMISE_MISSED,
            actor=None,
            data={
                "page": promise.page_id,
                "promise": promise.pk,
                "due_at": promise.due_at.isoformat(),
            },
        )
        users = rules.promise_keepers(incident)
        notify(
            users=users,
            kind=NotificationKind.UPDATE_MISSED,
            subject=per_reader(
                lambda: _subject(
                    promise, _("Crisis page %(slug)s: the update promised for %(when)s is late")
                )
            ),
            url=_url(promise.page),
            incident=incident,
            now=now,
            announce=False,
            key=f"promise:{promise.pk}:missed",
        )
    announce_to({u.pk for u in users})
    return True


def sweep(*, now=None) -> dict[str, int]:
    """Every minute: remind the promises due soon and record the lapsed ones, on live
    pages. Idempotent; bounded per run; each promise in its own short transaction."""
    now = now or timezone.now()
    ahead = datetime.timedelta(minutes=settings.CRISIS_CENTER_PROMISE_REMIND_MINUTES)
    open_live = UpdatePromise.objects.filter(
        outcome=PromiseOutcome.OPEN, closed_at__isnull=True, page__state=PageState.LIVE
    ).select_related("page__incident")
    soon = list(
        open_live.filter(
            reminded_at__isnull=True, due_at__gt=now, due_at__lte=now + ahead
        ).order_by("due_at", "pk")[:SWEEP_BATCH]
    )
    lapsed = list(open_live.filter(due_at__lte=now).order_by("due_at", "pk")[:SWEEP_BATCH])
    reminded = sum(1 for promise in soon if promise_remind(promise=promise, now=now))
    missed = sum(1 for promise in lapsed if promise_lapse(promise=promise, now=now))
    return {"reminded": reminded, "missed": missed}
