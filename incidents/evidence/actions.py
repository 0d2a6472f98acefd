"""Every write on evidence: attach, capture, log access, export, verify.

Files are inspected before any lock is taken (decoding an image takes time); the rows, the
custody log and the timeline entry are then written in one transaction. A file written to
storage by a transaction that fails is removed again, so nothing half-stored remains.
"""

import hashlib
import logging
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events, permissions
from incidents.actions import CLOCK_SKEW, lock_incident, timeline_record
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import EntryKind, Incident, Platform, next_link

from . import bundle, capture, tasks
from .files import Inspected, inspect_upload, sha256_of
from .models import (
    CaptureJob,
    CaptureStatus,
    CustodyAction,
    CustodyEvent,
    DisplayStatus,
    EvidenceItem,
    EvidenceKind,
    EvidenceSource,
)

logger = logging.getLogger(__name__)
EVIDENCE_CHANGED = "evidence-changed"
# A post seen today may have been published years ago; older than this is a typo.
MAX_POST_AGE = timedelta(days=365 * 20)
TEXT_LIMITS = {
    "author_handle": 200,
    "author_name": 200,
    "author_facts": 10_000,
    "description": 10_000,
}
METADATA_FIELDS = (
    "kind",
    "platform",
    "source_url",
    "published_at",
    "author_handle",
    "author_name",
    "author_profile_url",
    "author_followers",
    "author_facts",
    "description",
)


def _require_writer(actor, incident: Incident) -> None:
    if not permissions.can_write_timeline(actor, incident):
        raise NotAllowed(_("Only members of the cell who can write may add evidence."))


def clean_metadata(metadata: dict) -> dict:
    """Check the facts typed about a piece of evidence; raise InvalidInput naming the field."""
    unknown = set(metadata) - set(METADATA_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field: %(field)s") % {"field": sorted(unknown)[0]})
    cleaned = {field: metadata.get(field) for field in METADATA_FIELDS}
    kind = cleaned["kind"] or EvidenceKind.POST
    if kind not in EvidenceKind.values:
        raise InvalidInput(_("Unknown kind of evidence: %(value)s") % {"value": kind})
    cleaned["kind"] = kind
    platform = cleaned["platform"] or ""
    if platform and platform not in Platform.values:
        raise InvalidInput(_("Unknown platform: %(value)s") % {"value": platform})
    cleaned["platform"] = platform
    for field in ("source_url", "author_profile_url"):
        cleaned[field] = _clean_url(cleaned[field], field)
    for field, limit in TEXT_LIMITS.items():
        value = (cleaned[field] or "").strip()
        if field in ("author_handle", "author_name"):
            value = " ".join(value.split())
        if len(value) > limit:
            raise InvalidInput(
                _("%(field)s is limited to %(n)s characters.")
                % {"field": EvidenceItem._meta.get_field(field).verbose_name, "n": limit}
            )
        cleaned[field] = value
    followers = cleaned["author_followers"]
    if followers in ("", None):
        cleaned["author_followers"] = None
    else:
        try:
            followers = int(followers)
        except (TypeError, ValueError):
            raise InvalidInput(_("The follower count must be a whole number.")) from None
        if not 0 <= followers <= 10**12:
            raise InvalidInput(_("The follower count must be a whole number, 0 or more."))
        cleaned["author_followers"] = followers
    published = cleaned["published_at"]
    if published is not None:
        now = timezone.now()
        if published > now + CLOCK_SKEW:
            raise InvalidInput(_("The publication time cannot be in the future."))
        if published < now - MAX_POST_AGE:
            raise InvalidInput(_("The publication time is too far in the past."))
    return cleaned


def _clean_url(value, field: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 2000:
        raise InvalidInput(_("Web addresses are limited to 2,000 characters."))
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        label = EvidenceItem._meta.get_field(field).verbose_name
        raise InvalidInput(
            _("%(field)s is not a valid http(s) address.") % {"field": label}
        ) from None
    return value


def inspect_uploads(files) -> list[Inspected]:
    """Inspect every file; one refusal refuses the batch, naming the file and the reason."""
    results = []
    for upload in files:
        name = getattr(upload, "name", "") or ""
        try:
            results.append(inspect_upload(upload, name=name))
        except InvalidInput as exc:
            raise InvalidInput(
                _("%(name)s: %(reason)s") % {"name": name or _("file"), "reason": exc.message},
                file=name,
            ) from None
    return results


def evidence_attach(*, incident: Incident, actor, files, metadata: dict) -> list[EvidenceItem]:
    """Store uploaded files as evidence, all or none. `files` are Django uploaded files."""
    files = list(files)
    if not files:
        raise InvalidInput(_("Choose at least one file."))
    if len(files) > settings.EVIDENCE_MAX_FILES_PER_REQUEST:
        raise InvalidInput(
            _("At most %(n)s files at once; send the others in another batch.")
            % {"n": settings.EVIDENCE_MAX_FILES_PER_REQUEST}
        )
    cleaned = clean_metadata(metadata)
    inspected = inspect_uploads(files)
    # The uploads themselves are stored (copied in chunks), never read whole into memory.
    return _store(
        incident=incident,
        actor=actor,
        source=EvidenceSource.UPLOAD,
        files=list(zip(files, inspected, strict=True)),
        metadata=cleaned,
        custody=CustodyAction.UPLOADED,
    )


def _store(*, incident, actor, source, files, metadata, custody, capture_facts=None):
    written: list[EvidenceItem] = []
    try:
        with transaction.atomic():
            incident = lock_incident(incident)
            if source == EvidenceSource.UPLOAD:
                _require_writer(actor, incident)
            now = timezone.now()
            last = incident.evidence.aggregate(n=Max("number"))["n"] or 0
            for offset, (content, facts) in enumerate(files, start=1):
                item = EvidenceItem(
                    incident=incident,
                    number=last + offset,
                    source=source,
                    original_name=(content.name or "")[:255],
                    sha256=facts.sha256,
                    size=facts.size,
                    content_type=facts.content_type,
                    width=facts.width,
                    height=facts.height,
                    captured_at=now,
                    captured_by=actor,
                    display_status=(
                        DisplayStatus.PENDING
                        if facts.content_type.startswith("image/")
                        else DisplayStatus.NONE
                    ),
                    **metadata,
                    **(capture_facts or {}),
                )
                content.seek(0)
                item.file.save("original", content, save=False)
                written.append(item)
                item.save()
                _custody(item, custody, actor=actor, at=now, detail={"sha256": item.sha256})
                timeline_record(
                    incident,
                    kind=EntryKind.EVIDENCE_ADDED,
                    actor=actor,
                    text=item.description,
                    data=_timeline_data(item),
                )
                if item.display_status == DisplayStatus.PENDING:
                    _queue_after_commit(tasks.make_display_copies, item.pk)
    except BaseException:
        for item in written:
            item.file.storage.delete(item.file.name)  # the row never existed
        raise
    return written


def _timeline_data(item: EvidenceItem) -> dict:
    return {
        "evidence": item.pk,
        "label": item.label,
        "kind": item.kind,
        "source": item.source,
        "sha256": item.sha256,
        "content_type": item.content_type,
        "size": item.size,
        "source_url": item.source_url,
        "author_handle": item.author_handle,
    }


def _queue_after_commit(task, *args) -> None:
    def queue():
        try:
            task.delay(*args)
        except Exception:
            # The evidence is stored; a broker outage only delays what a worker adds.
            logger.exception("Could not queue %s%s", task.name, args)

    transaction.on_commit(queue)


def _custody(item: EvidenceItem, action: str, *, actor, at=None, detail=None) -> CustodyEvent:
    """Append to the item's custody chain. The caller holds the item's (or its new row's)
    lock, so sequence numbers and the chain stay linear."""
    seq, prev_hash = next_link(item.custody.all())
    event = CustodyEvent(
        item=item,
        seq=seq,
        action=action,
        actor=actor,
        at=at or timezone.now(),
        detail=detail or {},
        prev_hash=prev_hash,
    )
    event.hash = event.compute_hash()
    event.save()
    return event


def _lock_item(item: EvidenceItem) -> EvidenceItem:
    return EvidenceItem.objects.select_for_update().get(pk=item.pk)


@transaction.atomic
def evidence_record_access(*, item: EvidenceItem, actor, action: str, ip: str = "") -> None:
    """Log that someone viewed the item or downloaded its original."""
    if action not in (CustodyAction.VIEWED, CustodyAction.DOWNLOADED):
        raise InvalidInput("Only views and downloads are logged this way.")
    if not permissions.can_view(actor, item.incident):
        raise NotAllowed(_("You are not in this incident's cell."))
    locked = _lock_item(item)
    _custody(locked, action, actor=actor, detail={"ip": ip} if ip else {})


def evidence_store_display_copies(*, item_id: int) -> None:
    """Make the thumbnail and preview of an image (run by a worker after commit)."""
    from .display import make_display_copies

    item = EvidenceItem.objects.filter(pk=item_id).select_related("incident").first()
    if item is None or item.display_status != DisplayStatus.PENDING:
        return  # gone, or done already (a retried task does nothing twice)
    try:
        with item.file.open("rb") as original:
            copies = make_display_copies(original)
    except Exception:
        logger.exception("Could not make display copies of evidence %s", item_id)
        EvidenceItem.objects.filter(pk=item_id).update(display_status=DisplayStatus.FAILED)
    else:
        item.thumbnail.save("thumbnail.jpg", ContentFile(copies.thumbnail), save=False)
        item.preview.save("preview.jpg", ContentFile(copies.preview), save=False)
        item.display_status = DisplayStatus.READY
        item.save(update_fields=["thumbnail", "preview", "display_status"])
    events.publish_signal(item.incident_id, EVIDENCE_CHANGED, evidence=item_id)


# --- Server-side capture of a URL ---------------------------------------------------------


@transaction.atomic
def evidence_capture_request(
    *, incident: Incident, actor, url: str, kind: str = "", platform: str = "", description=""
) -> CaptureJob:
    """Ask the server to capture a URL itself; a worker does it after commit."""
    cleaned = clean_metadata({"kind": kind, "platform": platform, "description": description})
    url = capture.check_url(url)
    incident = lock_incident(incident)
    _require_writer(actor, incident)
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
    _queue_after_commit(tasks.capture_url, job.pk)
    return job


def _capture_progress(job: CaptureJob, **changes) -> None:
    CaptureJob.objects.filter(pk=job.pk).update(**changes)
    for field, value in changes.items():
        setattr(job, field, value)
    events.publish_signal(job.incident_id, EVIDENCE_CHANGED, capture=job.pk)


def evidence_capture_run(*, job_id: int) -> None:
    """Open the page, then store the screenshot and the archive as two evidence items, or
    record why it failed. Idempotent: a job that already ran is left alone."""
    job = CaptureJob.objects.select_related("incident", "requested_by").filter(pk=job_id).first()
    if job is None or job.status != CaptureStatus.QUEUED:
        return
    _capture_progress(job, status=CaptureStatus.RUNNING, stage="opening")
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
        _store(
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


# --- Export and verification ----------------------------------------------------------------


def _clean_ids(values) -> list[int] | None:
    """Item ids as typed in a query string or sent by a form; None (or empty) means all."""
    values = [str(v).strip() for v in values or () if str(v).strip()]
    if not values:
        return None
    if len(values) > 10_000 or not all(v.isdigit() and 0 < int(v) < 10**18 for v in values):
        raise InvalidInput(_("Choose the items by their ids, e.g. 3,4,7."))
    return [int(v) for v in values]


def evidence_export(*, incident: Incident, actor, item_ids=None):
    """Build the signed bundle for counsel and log the export in every item's custody and on
    the timeline, all in one transaction: an export that fails leaves no trace claiming it
    happened. `item_ids`: the chosen items (ids as ints or strings), or None for all.
    Returns (open temporary file, download name)."""
    from .selectors import export_rows

    item_ids = _clean_ids(item_ids)
    out = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the response, which closes it
    try:
        with transaction.atomic():
            incident = lock_incident(incident)
            if not permissions.can_write_timeline(actor, incident):
                raise NotAllowed(_("Only members of the cell who can write may export evidence."))
            items = list(
                EvidenceItem.objects.select_for_update(of=("self",))
                .select_related("captured_by")
                .filter(incident=incident, **({"pk__in": item_ids} if item_ids else {}))
                .order_by("number")
            )
            if item_ids and len(items) != len(set(item_ids)):
                raise InvalidInput(_("Some of the chosen items are not evidence of this incident."))
            if not items:
                raise InvalidInput(_("There is no evidence to export yet."))
            now = timezone.now()
            for item in items:
                _custody(item, CustodyAction.EXPORTED, actor=actor, at=now)
            manifest, report_context = export_rows(incident, items, actor=actor, at=now)
            manifest_sha256 = bundle.write_bundle(
                out, manifest=manifest, items=items, report_context=report_context
            )
            timeline_record(
                incident,
                kind=EntryKind.EVIDENCE_EXPORTED,
                actor=actor,
                data={
                    "items": [item.label for item in items],
                    "manifest_sha256": manifest_sha256,
                },
            )
    except BaseException:
        out.close()
        raise
    out.seek(0)
    name = f"incident-{incident.pk}-evidence-{now:%Y%m%d-%H%M%S}.zip"
    return out, name


def evidence_verify(*, item: EvidenceItem) -> str | None:
    """Re-hash the stored original and log the result; returns the problem or None."""
    problem = None
    try:
        with item.file.open("rb") as original:
            actual = sha256_of(original)
        if actual != item.sha256:
            problem = _("the stored file does not match its SHA-256 (%(actual)s)") % {
                "actual": actual
            }
    except FileNotFoundError:
        actual = ""
        problem = _("the stored file is missing")
    with transaction.atomic():
        locked = _lock_item(item)
        _custody(
            locked,
            CustodyAction.VERIFICATION_FAILED if problem else CustodyAction.VERIFIED,
            actor=None,
            detail={"sha256": actual, **({"problem": problem} if problem else {})},
        )
    return problem
