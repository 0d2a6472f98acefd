"""Evidence brought in by people: the facts typed about it, the uploaded files (inspected
before any lock: decoding an image takes time), storing them with their custody log and
timeline entry in one transaction, and the display copies a worker makes afterwards.

A file written to storage by a transaction that fails is removed again, so nothing
half-stored remains.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import chains, events
from incidents.actions import CLOCK_SKEW, lock_incident, timeline_record
from incidents.errors import InvalidInput
from incidents.models import EntryKind, Incident, Platform

from ..files import Inspected, inspect_upload
from ..models import CustodyAction, DisplayStatus, EvidenceItem, EvidenceKind, EvidenceSource
from .common import (
    DISPLAY_COPIES_TASK,
    EVIDENCE_CHANGED,
    append_custody,
    logger,
    queue_task_after_commit,
    require_writer,
)

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
    return store_files(
        incident=incident,
        actor=actor,
        source=EvidenceSource.UPLOAD,
        files=list(zip(files, inspected, strict=True)),
        metadata=cleaned,
        custody=CustodyAction.UPLOADED,
    )


def store_files(*, incident, actor, source, files, metadata, custody, capture_facts=None):
    written: list[EvidenceItem] = []
    try:
        with transaction.atomic():
            incident = lock_incident(incident)
            if source == EvidenceSource.UPLOAD:
                require_writer(actor, incident)
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
                chains.anchor_fold(
                    chains.chain_name(chains.EVIDENCE, incident.pk), item.facts_digest()
                )
                append_custody(item, custody, actor=actor, at=now, detail={"sha256": item.sha256})
                timeline_record(
                    incident,
                    kind=EntryKind.EVIDENCE_ADDED,
                    actor=actor,
                    text=item.description,
                    data=timeline_data(item),
                )
                if item.display_status == DisplayStatus.PENDING:
                    queue_task_after_commit(DISPLAY_COPIES_TASK, item.pk)
    except BaseException:
        for item in written:
            item.file.storage.delete(item.file.name)  # the row never existed
        raise
    return written


def timeline_data(item: EvidenceItem) -> dict:
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


def evidence_store_display_copies(*, item_id: int) -> None:
    """Make the thumbnail and preview of an image (run by a worker after commit)."""
    from ..display import make_display_copies

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
