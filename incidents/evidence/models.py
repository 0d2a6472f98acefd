"""Evidence locker: screenshots and captured pages kept as legal proof.

An evidence item's original file, its hashes and the facts of its capture are written once
and never changed or deleted (model guards here, a PostgreSQL trigger in SQL). Only the
display copies (thumbnail, preview), made later by a worker, may be filled in. Every access
to an item is logged in its chain of custody, itself append-only and hash-chained.
"""

# The tables keep the names they had when these models belonged to the incidents app
# (Meta.db_table): moving the models into their own app moved no data.

import hashlib
import json
import uuid
from pathlib import PurePath

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.chains import canonical_hash
from incidents.models import (
    GENESIS_HASH,
    AppendOnlyError,
    AppendOnlyModel,
    Incident,
    Platform,
    _utc_iso,
    append_only_triggers,
    no_truncate_trigger,
)

from .choices import (
    CaptureStage,
    CaptureStatus,
    CustodyAction,
    DisplayStatus,
    EvidenceKind,
    EvidenceSource,
    ExportStatus,
)


def original_path(item, filename: str) -> str:
    """Server-generated names: nothing the uploader typed reaches the file system."""
    return f"evidence/{item.incident_id}/{uuid.uuid4().hex}{item.extension}"


def display_path(item, filename: str) -> str:
    return f"evidence/{item.incident_id}/display/{uuid.uuid4().hex}{PurePath(filename).suffix}"


# The only fields a worker may fill in after the item is stored.
DISPLAY_FIELDS = frozenset({"thumbnail", "preview", "display_status"})

EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
    "multipart/related": ".mhtml",
}


class EvidenceQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if set(kwargs) - DISPLAY_FIELDS:
            raise AppendOnlyError("Evidence items are never rewritten.")
        return super().update(**kwargs)

    def delete(self):
        raise AppendOnlyError("Evidence items are never deleted.")


class EvidenceItem(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="evidence")
    # Exhibit number within the incident (E-1, E-2, ...), what counsel will cite.
    number = models.PositiveIntegerField(_("exhibit number"))
    kind = models.CharField(_("kind"), max_length=16, choices=EvidenceKind.choices)
    source = models.CharField(_("source"), max_length=16, choices=EvidenceSource.choices)

    # The original, exactly as received.
    file = models.FileField(_("original file"), upload_to=original_path, max_length=255)
    original_name = models.CharField(_("name as received"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    content_type = models.CharField(_("content type (detected)"), max_length=64)
    width = models.PositiveIntegerField(_("width in pixels"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height in pixels"), null=True, blank=True)

    # Where it comes from.
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices, blank=True)
    source_url = models.URLField(_("source URL"), max_length=2000, blank=True)
    published_at = models.DateTimeField(_("published at (as seen)"), null=True, blank=True)
    author_handle = models.CharField(_("author's handle"), max_length=200, blank=True)
    author_name = models.CharField(_("author's display name"), max_length=200, blank=True)
    author_profile_url = models.URLField(_("author's profile URL"), max_length=2000, blank=True)
    author_followers = models.PositiveBigIntegerField(
        _("author's followers"), null=True, blank=True
    )
    author_facts = models.TextField(_("other facts about the author"), blank=True)
    description = models.TextField(_("description"), blank=True)

    # Server capture facts (empty for uploads).
    capture = models.ForeignKey(
        "CaptureJob", on_delete=models.PROTECT, null=True, blank=True, related_name="items"
    )
    final_url = models.URLField(_("final URL"), max_length=2000, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    page_title = models.CharField(_("page title"), max_length=500, blank=True)

    captured_at = models.DateTimeField(_("captured at"))
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    # Display copies, metadata stripped; filled in by a worker after commit.
    display_status = models.CharField(
        _("display copies"),
        max_length=16,
        choices=DisplayStatus.choices,
        default=DisplayStatus.PENDING,
    )
    thumbnail = models.FileField(upload_to=display_path, max_length=255, blank=True)
    preview = models.FileField(upload_to=display_path, max_length=255, blank=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        db_table = "incidents_evidenceitem"
        ordering = ["incident", "number"]
        verbose_name = _("evidence item")
        verbose_name_plural = _("evidence items")
        constraints = [
            models.UniqueConstraint(fields=["incident", "number"], name="evidence_number_unique"),
        ]
        triggers = [
            pgtrigger.Protect(name="evidence_never_deleted", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="evidence_facts_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=sorted(DISPLAY_FIELDS)),
            ),
            no_truncate_trigger("evidence_no_truncate"),
        ]

    def __str__(self):
        return f"E-{self.number}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if not self._state.adding and (
            update_fields is None or set(update_fields) - DISPLAY_FIELDS
        ):
            raise AppendOnlyError("An evidence item is never rewritten.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("An evidence item is never deleted.")

    @property
    def label(self) -> str:
        return f"E-{self.number}"

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.content_type, ".bin")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def pixels(self) -> str:
        return f"{self.width} × {self.height}" if self.width else ""  # noqa: RUF001

    @property
    def download_name(self) -> str:
        return f"incident-{self.incident_id}-{self.label}-{self.sha256[:12]}{self.extension}"

    def facts_digest(self) -> str:
        return facts_digest(self)


# Every field written at intake (all but the display copies), in one digest folded into the
# incident's evidence checkpoint (incidents/chains.py). A plain function of the stored
# fields: the data migration that anchored existing items uses it on historical models.
FACT_FIELDS = (
    "incident_id", "number", "kind", "source", "original_name", "sha256", "size",
    "content_type", "width", "height", "platform", "source_url", "author_handle",
    "author_name", "author_profile_url", "author_followers", "author_facts", "description",
    "capture_id", "final_url", "http_status", "page_title", "captured_by_id",
)  # fmt: skip


def facts_digest(item) -> str:
    content = {name: getattr(item, name) for name in FACT_FIELDS}
    content["file"] = item.file.name if hasattr(item.file, "name") else item.file
    content["published_at"] = _utc_iso(item.published_at) if item.published_at else None
    content["captured_at"] = _utc_iso(item.captured_at)
    return canonical_hash(content)


class CustodyEvent(AppendOnlyModel):
    """One link of an item's chain of custody: who did what with it, and when."""

    item = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="custody")
    seq = models.PositiveIntegerField()
    action = models.CharField(_("action"), max_length=24, choices=CustodyAction.choices)
    # None when the system acted (integrity checks run by an operator's command).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "incidents_custodyevent"
        ordering = ["item", "seq"]
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        constraints = [
            models.UniqueConstraint(fields=["item", "seq"], name="custody_seq_unique"),
        ]
        triggers = append_only_triggers("custody")

    def __str__(self):
        return f"{self.item} #{self.seq} {self.get_action_display()}"

    def compute_hash(self) -> str:
        content = {
            "item": self.item_id,
            "seq": self.seq,
            "action": self.action,
            "actor": self.actor_id,
            "at": _utc_iso(self.at),
            "detail": self.detail,
            "prev_hash": self.prev_hash,
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


CUSTODY_GENESIS = GENESIS_HASH


class CaptureJob(models.Model):
    """A request that the server capture a URL itself (screenshot + page archive). Its
    progress is working state, not proof: the items it produces are the proof."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="captures")
    url = models.URLField(_("URL"), max_length=2000)
    kind = models.CharField(_("kind"), max_length=16, choices=EvidenceKind.choices)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices, blank=True)
    description = models.TextField(_("description"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))
    status = models.CharField(
        _("status"), max_length=16, choices=CaptureStatus.choices, default=CaptureStatus.QUEUED
    )
    stage = models.CharField(_("stage"), max_length=16, choices=CaptureStage.choices, blank=True)
    error = models.CharField(_("reason of failure"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        db_table = "incidents_capturejob"
        ordering = ["-requested_at", "-id"]
        verbose_name = _("URL capture")
        verbose_name_plural = _("URL captures")

    def __str__(self):
        return self.url

    @property
    def is_finished(self) -> bool:
        return self.status in (CaptureStatus.DONE, CaptureStatus.FAILED)

    @property
    def reason(self) -> str:
        """Why it failed, a plain sentence in the active language (capture.failure_reason;
        "" unless failed)."""
        from .capture import failure_reason  # the browser's module, only when shown

        return failure_reason(self.error)


def export_path(export, filename: str) -> str:
    return f"exports/{export.incident_id}/{uuid.uuid4().hex}.zip"


class EvidenceExport(models.Model):
    """A signed bundle for counsel, asked for by a member and built by a worker. Working
    state, like a capture: the proof is the bundle's signed manifest, the `exported` event
    each item's custody gets when the bundle is ready (with the manifest's SHA-256) and the
    `evidence_exported` timeline entry written with them."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="evidence_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))
    # The items chosen (all of the incident's at the request when none were picked).
    items = models.ManyToManyField(EvidenceItem, related_name="exports")
    item_count = models.PositiveIntegerField(_("items"))
    # The requester's language and time zone, for the report the worker writes.
    language = models.CharField(max_length=16, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)

    status = models.CharField(
        _("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    # Runs of the build (each claim adds one); a worker writes only the run it claimed.
    attempts = models.PositiveSmallIntegerField(default=0)
    # Last sign of life of the worker building it: the sweep re-queues a silent one.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    snapshot_at = models.DateTimeField(_("content read at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    file = models.FileField(upload_to=export_path, max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256 of the bundle"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    manifest_sha256 = models.CharField(_("SHA-256 of manifest.json"), max_length=64, blank=True)
    error = models.CharField(_("reason of failure"), max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("evidence export")
        verbose_name_plural = _("evidence exports")
        indexes = [
            models.Index(fields=["incident", "-requested_at"], name="evidence_export_recent"),
            models.Index(fields=["status", "requested_at"], name="evidence_export_status"),
        ]

    def __str__(self):
        return f"export {self.pk} of incident {self.incident_id}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.READY, ExportStatus.FAILED)

    @property
    def download_name(self) -> str:
        moment = self.snapshot_at or self.requested_at
        return f"incident-{self.incident_id}-evidence-{moment:%Y%m%d-%H%M%S}.zip"
