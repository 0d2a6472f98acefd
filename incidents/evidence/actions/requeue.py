"""Work a worker never got: a capture or display copies queued while the broker was down
(the request still answered 202 and the row says "queued"/"pending"). A periodic sweep
(Celery beat, settings.CELERY_BEAT_SCHEDULE) queues it again once it has waited longer
than settings.EVIDENCE_REQUEUE_AFTER_MINUTES.

Safe to run twice, or while the first message is still on its way: a capture job is
claimed by one conditional update (queued -> running), so only one worker runs it, and
display copies are made only for an item still pending."""

from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.utils import timezone

from ..choices import DisplayStatus
from ..models import CaptureJob, CaptureStatus, EvidenceItem
from .common import CAPTURE_TASK, DISPLAY_COPIES_TASK, logger

# At most this many of each per sweep: a long outage's backlog drains over a few sweeps.
BATCH = 200


def evidence_requeue_stuck(*, now=None) -> dict[str, int]:
    """Queue again the captures and display copies waiting longer than the setting.
    Returns how many of each were queued (the broker may still be down: then none)."""
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.EVIDENCE_REQUEUE_AFTER_MINUTES)
    captures = CaptureJob.objects.filter(
        status=CaptureStatus.QUEUED, requested_at__lt=cutoff
    ).values_list("pk", flat=True)[:BATCH]
    # When an item was stored: its first custody event (captured_at is the user's date).
    pending = (
        EvidenceItem.objects.filter(
            display_status=DisplayStatus.PENDING, custody__seq=1, custody__at__lt=cutoff
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    return {
        "captures": _queue(CAPTURE_TASK, list(captures)),
        "display_copies": _queue(DISPLAY_COPIES_TASK, list(pending)),
    }


def _queue(name: str, ids: list[int]) -> int:
    queued = 0
    for pk in ids:
        try:
            current_app.signature(name, args=(pk,)).delay()
        except Exception:
            logger.exception("Could not queue %s(%s) again; the next sweep will retry", name, pk)
            break  # the broker is down: the rest waits for the next sweep
        queued += 1
    if queued:
        logger.warning("Queued %s again for %s waiting item(s)", name, queued)
    return queued
