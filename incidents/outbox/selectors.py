"""Reads of the outbox: what did not reach whom (for the incident room), and the queue as
operators watch it (the staff page /outbox/, `manage.py outbox_status`)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Min, Q
from django.utils import timezone

from .choices import Channel, Status
from .models import OutboundMessage

MAX_LISTED = 50
# The most recent attempt first (a row never tried has none: last).
LATEST = F("last_attempt_at").desc(nulls_last=True)


def undelivered_for(incident, *, limit: int = MAX_LISTED) -> list[OutboundMessage]:
    """The incident's messages that have not reached their recipient and have failed at
    least once: failed for good, or still being retried (pending or sending again after an
    error). Newest attempt first, at most `limit` (1..MAX_LISTED), with `user` loaded. For
    the room's "approver not reached" (someone phones them): show `recipient_label`,
    `user`, `channel`, `status` (failed: no more attempts; pending: another is due at
    `next_attempt_at`) and `last_error` — never `recipient` (an Apprise URL holds a
    token). One query."""
    return list(
        OutboundMessage.objects.filter(incident=incident)
        .filter(Q(status=Status.FAILED) | (~Q(status=Status.SENT) & ~Q(last_error="")))
        .select_related("user")
        .order_by(LATEST, "-pk")[: _bounded(limit)]
    )


def failed_for(incident, *, user=None, limit: int = MAX_LISTED) -> list[OutboundMessage]:
    """The incident's messages that failed for good (no more attempts), newest first, at
    most `limit`; only those meant for `user` when given. One query."""
    messages = OutboundMessage.objects.filter(incident=incident, status=Status.FAILED)
    if user is not None:
        messages = messages.filter(user=user)
    messages = messages.select_related("user").order_by(LATEST, "-pk")
    return list(messages[: _bounded(limit)])


def _bounded(limit: int) -> int:
    return min(max(int(limit), 1), MAX_LISTED)


@dataclass(frozen=True)
class QueueState:
    """`depth[status][channel]` counts every status and channel (zeros included);
    `oldest_pending` is when the oldest pending message was written (None: none)."""

    depth: dict[str, dict[str, int]]
    oldest_pending: datetime | None

    def total(self, status: str) -> int:
        return sum(self.depth[status].values())

    def oldest_pending_age(self, now=None):
        """A timedelta, or None."""
        if self.oldest_pending is None:
            return None
        return (now or timezone.now()) - self.oldest_pending


def queue_state() -> QueueState:
    """Two queries (counts grouped by status and channel; the oldest pending row)."""
    depth = {status: dict.fromkeys(Channel.values, 0) for status in Status.values}
    for row in OutboundMessage.objects.values("status", "channel").annotate(n=Count("pk")):
        depth.setdefault(row["status"], {})[row["channel"]] = row["n"]
    oldest = OutboundMessage.objects.filter(status=Status.PENDING).aggregate(at=Min("created_at"))
    return QueueState(depth=depth, oldest_pending=oldest["at"])


def last_failures():
    """Failed messages, the most recent failure first (a queryset: paginate it)."""
    return (
        OutboundMessage.objects.filter(status=Status.FAILED)
        .select_related("incident")
        .order_by(LATEST, "-pk")
    )
