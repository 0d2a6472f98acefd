"""Work a worker never got: a capture, display copies or an export queued while the broker
was down (the request still answered 202 and the row says "queued"/"pending"). A periodic
sweep (Celery beat, settings.CELERY_BEAT_SCHEDULE) queues it again once it has waited
longer than settings.EVIDENCE_REQUEUE_AFTER_MINUTES. An export whose worker went silent
that long while building it (the worker died: it says it is alive every
export.HEARTBEAT_SECONDS) is queued again too, up to export.MAX_ATTEMPTS runs, then failed.

Safe to run twice, or while the first message is still on its way: a capture job and an
export are claimed by one conditional update (queued -> running), so only one worker runs
each, a silent run that comes back finds the export taken over and records nothing, and
display copies are made only for an item still pending."""

from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events

from ..choices import DisplayStatus, ExportStatus
from ..models import CaptureJob, CaptureStatus, EvidenceExport, EvidenceItem
from .common import CAPTURE_TASK, DISPLAY_COPIES_TASK, EVIDENCE_CHANGED, EXPORT_TASK, logger
from .export import MAX_ATTEMPTS

# At most this many of each per sweep: a long outage's backlog drains over a few sweeps.
BATCH = 200


def evidence_requeue_stuck(*, now=None) -> dict[str, int]:
    """Queue again the captures, display copies and exports waiting longer than the
    setting, and the exports whose worker went silent. Returns how many of each were
    queued (the broker may still be down: then none)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.EVIDENCE_REQUEUE_AFTER_MINUTES)
    _release_silent_exports(cutoff, now)
    exports = EvidenceExport.objects.filter(
        status=ExportStatus.QUEUED, requested_at__lt=cutoff
    ).values_list("pk", flat=True)[:BATCH]
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
        "exports": _queue(EXPORT_TASK, list(exports)),
    }


def _release_silent_exports(cutoff, now) -> None:
    """Exports being built by a worker silent since `cutoff`: queued again (the sweep
    queues them below), or failed after MAX_ATTEMPTS runs. Each change is conditional on
    the run still being silent, so a worker that comes back is not overtaken twice."""
    silent = EvidenceExport.objects.filter(status=ExportStatus.RUNNING, heartbeat_at__lt=cutoff)
    for pk, incident_id, attempts in silent.values_list("pk", "incident_id", "attempts")[:BATCH]:
        same_run = silent.filter(pk=pk, attempts=attempts)
        if attempts >= MAX_ATTEMPTS:
            reason = _("The bundle could not be built (the worker stopped %(n)s times).") % {
                "n": attempts
            }
            changed = same_run.update(status=ExportStatus.FAILED, error=reason, finished_at=now)
        else:
            changed = same_run.update(status=ExportStatus.QUEUED)
        if changed:
            logger.warning("Export %s: its worker went silent (run %s)", pk, attempts)
            events.publish_signal(incident_id, EVIDENCE_CHANGED, export=pk)


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
