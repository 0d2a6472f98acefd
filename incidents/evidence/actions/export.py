"""The signed export for counsel, in three steps, none of them slow under the incident lock:

1. `evidence_export_request` (the page, the API): checks who asks and which items, records
   an `EvidenceExport` (queued) with its items, and queues the worker after commit. A
   short transaction: the incident lock is held for the permission check on the fresh
   row and a few INSERTs.
2. `evidence_export_build` (the worker): claims the export, reads its items, their custody
   and the chains' signed heads at one moment (a few queries whatever the number of items,
   `selectors.one_moment`), then, holding no lock and no transaction, streams the originals
   into a ZIP on disk with the signed manifest and the report (../bundle.py), and stores it.
3. Then, in one short transaction, the record: an `exported` event in each item's custody
   (with the manifest's SHA-256 and how much of its custody the bundle shows), the
   `evidence_exported` timeline entry (the incident lock is taken last, for that one row),
   and the export marked ready. An export that fails leaves no record claiming it
   happened: the export says `failed`, nothing else.

The bundle shows each chain as it stood when its content was read; the custody and timeline
records written in step 3 come after those heads, and carry the manifest's SHA-256.
"""

import hashlib
import os
import tempfile
import time
import zoneinfo
from dataclasses import dataclass

from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents import events
from incidents.actions import lock_incident, timeline_record
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import EntryKind, Incident
from incidents.people import display_name
from incidents.text import parse_id

from .. import bundle, rules, selectors
from ..choices import ExportStatus
from ..models import CustodyAction, EvidenceExport, EvidenceItem, export_path
from .common import (
    EVIDENCE_CHANGED,
    EXPORT_TASK,
    append_custody_many,
    lock_with_last_links,
    logger,
    queue_task_after_commit,
)

# A build that crashed its worker this many times is given up (failed), not retried again.
MAX_ATTEMPTS = 3
# How often a worker building an export says it is alive (the sweep re-queues the silent).
HEARTBEAT_SECONDS = 30
MAX_ITEMS = 10_000


def _clean_ids(values) -> list[int] | None:
    """Item ids as typed in a query string or sent by a form; None (or empty) means all."""
    values = [str(v).strip() for v in values or () if str(v).strip()]
    if not values:
        return None
    ids = [parse_id(v) for v in values]
    if len(values) > MAX_ITEMS or not all(ids):  # None (not an id) and 0 alike
        raise InvalidInput(_("Choose the items by their ids, e.g. 3,4,7."))
    return ids


@transaction.atomic
def evidence_export_request(*, incident: Incident, actor, item_ids=None) -> EvidenceExport:
    """Ask for the signed bundle of the incident's evidence; a worker builds it after
    commit. `item_ids`: the chosen items (ids as ints or strings), or None for every item
    stored so far. Returns the export (queued). Raises NotAllowed (observers, outsiders),
    InvalidInput (no evidence, an item of another incident, bad ids)."""
    item_ids = _clean_ids(item_ids)
    incident = lock_incident(incident)
    if not rules.can_export(actor, incident):
        raise NotAllowed(_("Only members of the cell who can write may export evidence."))
    chosen = EvidenceItem.objects.filter(incident=incident)
    if item_ids:
        chosen = chosen.filter(pk__in=item_ids)
    ids = list(chosen.order_by("number").values_list("pk", flat=True)[: MAX_ITEMS + 1])
    if item_ids and len(ids) != len(set(item_ids)):
        raise InvalidInput(_("Some of the chosen items are not evidence of this incident."))
    if not ids:
        raise InvalidInput(_("There is no evidence to export yet."))
    if len(ids) > MAX_ITEMS:
        raise InvalidInput(
            _("At most %(n)s items per export: choose them on the locker's page.")
            % {"n": f"{MAX_ITEMS:,}"}
        )
    export = EvidenceExport.objects.create(
        incident=incident,
        requested_by=actor,
        requested_at=timezone.now(),
        item_count=len(ids),
        language=(translation.get_language() or "")[:16],
        time_zone=timezone.get_current_timezone_name()[:64],
    )
    chosen_rows = EvidenceExport.items.through
    chosen_rows.objects.bulk_create(
        [chosen_rows(evidenceexport_id=export.pk, evidenceitem_id=pk) for pk in ids]
    )
    events.publish_signal_on_commit(incident.pk, EVIDENCE_CHANGED, export=export.pk)
    queue_task_after_commit(EXPORT_TASK, export.pk)
    return export


@dataclass
class Built:
    """A bundle written to storage, not yet recorded."""

    name: str
    sha256: str
    size: int
    manifest_sha256: str
    content: selectors.ExportContent


class Superseded(Exception):
    """Another run of the same export took over (the sweep re-queued a silent worker)."""


def evidence_export_build(*, export_id: int) -> None:
    """Build a queued export's bundle and record it (a worker, after the request commits).
    Idempotent: an export that is not queued is left alone, so a duplicate message or a
    re-queue runs it once."""
    claimed = EvidenceExport.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING,
        attempts=F("attempts") + 1,
        heartbeat_at=timezone.now(),
        error="",
    )
    if not claimed:
        return
    export = EvidenceExport.objects.select_related("incident", "requested_by").get(pk=export_id)
    events.publish_signal(export.incident_id, EVIDENCE_CHANGED, export=export.pk)
    try:
        built = build_bundle(export)
    except Superseded:
        return
    except Exception:
        logger.exception("Export %s could not be built", export_id)
        _failed(export, _("The bundle could not be built; ask for the export again."))
        return
    try:
        _record(export, built)
    except Superseded:
        built_file_delete(built)
    except NotAllowed as exc:
        built_file_delete(built)
        _failed(export, exc.message)
    except Exception:
        logger.exception("Export %s could not be recorded", export_id)
        built_file_delete(built)
        _failed(export, _("The bundle could not be recorded; ask for the export again."))


def build_bundle(export: EvidenceExport) -> Built:
    """Read the export's content at one moment, write its ZIP to storage and return it.
    Takes no lock: the reads are one short transaction, the files are written outside any
    transaction. The queries do not depend on the number of items."""
    zone = _zone(export.time_zone)
    with translation.override(export.language or None), timezone.override(zone):
        with selectors.one_moment():
            content = selectors.export_content(export)
        manifest = selectors.export_manifest(
            export.incident, content, exported_by=export.requested_by
        )
        context = selectors.report_context(
            export.incident, content, exported_by=export.requested_by
        )
        beat = _Heartbeat(export)
        handle, path = tempfile.mkstemp(prefix="export-", suffix=".zip")
        try:
            with os.fdopen(handle, "wb") as file:
                out = _HashingWriter(file)
                manifest_sha256 = bundle.write_bundle(
                    out,
                    manifest=manifest,
                    items=content.items,
                    custody=content.custody,
                    report_context=context,
                    on_item=beat,
                )
            digest, size = out.hash.hexdigest(), out.size
            beat.check()
            storage = EvidenceExport._meta.get_field("file").storage
            with open(path, "rb") as stored:
                name = storage.save(export_path(export, ""), _OnDisk(stored))
        finally:
            if os.path.exists(path):
                os.unlink(path)
    return Built(
        name=name, sha256=digest, size=size, manifest_sha256=manifest_sha256, content=content
    )


class _HashingWriter:
    """Where the ZIP goes: it hashes what is written and cannot seek, so zipfile writes
    every entry once, in order (each entry's sizes in a data descriptor after it), and the
    bundle's SHA-256 comes without reading it back."""

    def __init__(self, file):
        self.file, self.hash, self.size = file, hashlib.sha256(), 0

    def write(self, data) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.file.write(data)

    def tell(self) -> int:
        return self.size

    def seek(self, *args):
        raise OSError("written in order, never rewound")

    def flush(self) -> None:
        self.file.flush()


class _OnDisk(File):
    """A file already on disk: FileSystemStorage moves it into place instead of copying."""

    def temporary_file_path(self) -> str:
        return self.file.name


class _Heartbeat:
    """Called after each original: tells the sweep, every HEARTBEAT_SECONDS, that this run
    is alive, and stops it if another run took the export over."""

    def __init__(self, export: EvidenceExport):
        self.export = export
        self.last = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self.last >= HEARTBEAT_SECONDS:
            self.check()

    def check(self) -> None:
        self.last = time.monotonic()
        alive = EvidenceExport.objects.filter(
            pk=self.export.pk, status=ExportStatus.RUNNING, attempts=self.export.attempts
        ).update(heartbeat_at=timezone.now())
        if not alive:
            raise Superseded


def _record(export: EvidenceExport, built: Built) -> None:
    """Custody, timeline and the export's state, all or nothing. Locks in this order: the
    export, its items (custody), then the incident, held only for its one timeline row. No
    action holds the incident while waiting for an item, so this order cannot deadlock."""
    with transaction.atomic():
        mine = EvidenceExport.objects.select_for_update().filter(
            pk=export.pk, status=ExportStatus.RUNNING, attempts=export.attempts
        )
        if not list(mine.values_list("pk", flat=True)):
            raise Superseded
        links = lock_with_last_links(EvidenceItem.objects.filter(exports=export))
        now = timezone.now()
        content = built.content
        append_custody_many(
            links,
            CustodyAction.EXPORTED,
            actor=export.requested_by,
            at=now,
            details={
                item.pk: {
                    "export": export.pk,
                    "manifest_sha256": built.manifest_sha256,
                    # The custody events the bundle shows: the first `custody_seq`.
                    "custody_seq": len(content.custody.get(item.pk, [])),
                }
                for item in content.items
            },
        )
        incident = lock_incident(export.incident)
        if not rules.can_export(export.requested_by, incident):
            raise NotAllowed(
                _("%(name)s may no longer export this incident's evidence.")
                % {"name": display_name(export.requested_by)}
            )
        timeline_record(
            incident,
            kind=EntryKind.EVIDENCE_EXPORTED,
            actor=export.requested_by,
            data={
                "items": [item.label for item in content.items],
                "manifest_sha256": built.manifest_sha256,
                "export": export.pk,
            },
        )
        EvidenceExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.READY,
            file=built.name,
            sha256=built.sha256,
            size=built.size,
            manifest_sha256=built.manifest_sha256,
            snapshot_at=content.at,
            finished_at=now,
        )
        events.publish_signal_on_commit(export.incident_id, EVIDENCE_CHANGED, export=export.pk)


def _failed(export: EvidenceExport, reason: str) -> None:
    """Mark this run failed (unless another run took over) and tell the room."""
    EvidenceExport.objects.filter(
        pk=export.pk, status=ExportStatus.RUNNING, attempts=export.attempts
    ).update(status=ExportStatus.FAILED, error=reason[:500], finished_at=timezone.now())
    events.publish_signal(export.incident_id, EVIDENCE_CHANGED, export=export.pk)


def built_file_delete(built: Built) -> None:
    storage = EvidenceExport._meta.get_field("file").storage
    try:
        storage.delete(built.name)
    except OSError:
        logger.exception("Could not delete the unrecorded bundle %s", built.name)


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name) if name else timezone.get_default_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()
