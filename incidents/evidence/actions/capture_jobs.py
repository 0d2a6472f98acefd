"""URL captures: a job is requested (checked, recorded, queued after commit), then a worker
opens the page in headless Chromium (../capture.py) and stores the screenshot and the
archive as evidence, or records why it failed."""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents import events
from incidents.actions import lock_incident, timeline_record
from incidents.errors import InvalidInput
from incidents.models import EntryKind, Incident

from .. import capture
from ..files import Inspected
from ..models import CaptureJob, CaptureStatus, CustodyAction, EvidenceSource
from .common import CAPTURE_TASK, EVIDENCE_CHANGED, logger, queue_task_after_commit, require_writer
from .intake import clean_metadata, store_files


@transaction.atomic
def evidence_capture_request(
    *, incident: Incident, actor, url: str, kind: str = "", platform: str = "", description=""
) -> CaptureJob:
    """Ask the server to capture a URL itself; a worker does it after commit."""
    # Who may ask first: the address check resolves the host name, which an observer must
    # not be able to use as a probe. Resolved before the lock (slow), then checked again.
    require_writer(actor, incident)
    cleaned = clean_metadata({"kind": kind, "platform": platform, "description": description})
    url = capture.check_url(url)
    incident = lock_incident(incident)
    require_writer(actor, incident)
    job = CaptureJob.objects.create(
        incident=incident,
        url=url,
        kind=cleaned["kind"],
        platform=cleaned["platform"],
        description=cleaned["description"],
        requested_by=actor,
        requested_at=timezone.now(),
    )
    events.publish_signal_on_commit(incident.pk, EVIDENCE_CHANGED, capture=job.pk)
    queue_task_after_commit(CAPTURE_TASK, job.pk)
    return job


def _capture_progress(job: CaptureJob, **changes) -> None:
    CaptureJob.objects.filter(pk=job.pk).update(**changes)
    for field, value in changes.items():
        setattr(job, field, value)
    events.publish_signal(job.incident_id, EVIDENCE_CHANGED, capture=job.pk)


def evidence_capture_run(*, job_id: int) -> None:
    """Open the page, then store the screenshot and the archive as two evidence items, or
    record why it failed. Idempotent: a job that already ran is left alone."""
    # Claimed by one conditional update: a job queued twice (the sweep re-queues jobs
    # left queued by a broker outage) runs once.
    claimed = CaptureJob.objects.filter(pk=job_id, status=CaptureStatus.QUEUED).update(
        status=CaptureStatus.RUNNING, stage="opening"
    )
    if not claimed:
        return
    job = CaptureJob.objects.select_related("incident", "requested_by").get(pk=job_id)
    events.publish_signal(job.incident_id, EVIDENCE_CHANGED, capture=job.pk)
    # The reason of a failure is stored in English whoever's request runs it (a worker has
    # no language; the embedded mode runs it in the requester's): capture.failure_reason
    # says it in the reader's language.
    with translation.override("en"):
        try:
            page = capture.capture_page(
                job.url, on_stage=lambda stage: _capture_progress(job, stage=stage)
            )
        except (capture.CaptureFailed, InvalidInput) as exc:
            _capture_failed(job, str(exc.message if isinstance(exc, InvalidInput) else exc))
            return
        except Exception:
            logger.exception("Capture %s failed", job_id)
            _capture_failed(job, _("The capture failed unexpectedly; try again."))
            return
    _capture_progress(job, stage="storing")
    _store_capture(job, page)


def _store_capture(job: CaptureJob, page) -> None:
    facts = {
        "capture": job,
        "final_url": page.final_url,
        "http_status": page.http_status,
        "page_title": page.title,
    }
    metadata = clean_metadata(
        {
            "kind": job.kind,
            "platform": job.platform,
            "source_url": job.url,
            "description": job.description,
        }
    )
    files = [
        (
            ContentFile(page.screenshot, name="screenshot.png"),
            _measured(page.screenshot, "image/png"),
        ),
        (
            ContentFile(page.archive, name="page.mhtml"),
            _measured(page.archive, "multipart/related"),
        ),
    ]
    with transaction.atomic():
        store_files(
            incident=job.incident,
            actor=job.requested_by,
            source=EvidenceSource.CAPTURE,
            files=files,
            metadata=metadata,
            custody=CustodyAction.CAPTURED,
            capture_facts=facts,
        )
        CaptureJob.objects.filter(pk=job.pk).update(
            status=CaptureStatus.DONE, stage="", finished_at=timezone.now()
        )
        events.publish_signal_on_commit(job.incident_id, EVIDENCE_CHANGED, capture=job.pk)


def _measured(data: bytes, content_type: str) -> Inspected:
    """Our own browser's output: trusted, so only measured, not inspected."""
    width = height = None
    if content_type == "image/png":
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return Inspected(
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )


@transaction.atomic
def _capture_failed(job: CaptureJob, reason: str) -> None:
    incident = lock_incident(job.incident)
    CaptureJob.objects.filter(pk=job.pk).update(
        status=CaptureStatus.FAILED, stage="", error=reason[:500], finished_at=timezone.now()
    )
    timeline_record(
        incident,
        kind=EntryKind.EVIDENCE_CAPTURE_FAILED,
        actor=job.requested_by,
        text=reason,
        data={"capture": job.pk, "url": job.url},
    )
