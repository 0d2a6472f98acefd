"""The signed export for counsel (../bundle.py builds the ZIP)."""

import tempfile

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import permissions
from incidents.actions import lock_incident, timeline_record
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import EntryKind, Incident
from incidents.text import parse_id

from .. import bundle
from ..models import CustodyAction, EvidenceItem
from ..selectors import export_rows
from .common import append_custody


def _clean_ids(values) -> list[int] | None:
    """Item ids as typed in a query string or sent by a form; None (or empty) means all."""
    values = [str(v).strip() for v in values or () if str(v).strip()]
    if not values:
        return None
    ids = [parse_id(v) for v in values]
    if len(values) > 10_000 or not all(ids):  # None (not an id) and 0 alike
        raise InvalidInput(_("Choose the items by their ids, e.g. 3,4,7."))
    return ids


def evidence_export(*, incident: Incident, actor, item_ids=None):
    """Build the signed bundle for counsel and log the export in every item's custody and on
    the timeline, all in one transaction: an export that fails leaves no trace claiming it
    happened. `item_ids`: the chosen items (ids as ints or strings), or None for all.
    Returns (open temporary file, download name)."""
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
                append_custody(item, CustodyAction.EXPORTED, actor=actor, at=now)
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
