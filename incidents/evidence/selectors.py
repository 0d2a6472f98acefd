"""Reads of the evidence locker, each in a constant number of queries."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from incidents import chains
from incidents import selectors as incident_selectors
from incidents.models import ChainCheckpoint

from .bundle import FORMAT, archive_name
from .models import CaptureJob, CustodyEvent, EvidenceExport, EvidenceItem

RECENT_CAPTURES = 5
RECENT_EXPORTS = 3


def evidence_for(incident) -> QuerySet[EvidenceItem]:
    return (
        EvidenceItem.objects.filter(incident=incident)
        .select_related("captured_by")
        .order_by("-number")
    )


def recent_captures(incident) -> list[CaptureJob]:
    """Captures under way, and the last few that ended (so a failure stays visible)."""
    return list(
        CaptureJob.objects.filter(incident=incident)
        .select_related("requested_by")
        .annotate(item_count=Count("items"))
        .order_by("-requested_at", "-id")[:RECENT_CAPTURES]
    )


def item_visible_to(user, pk: int) -> EvidenceItem:
    """The item if its incident is visible to the user, else EvidenceItem.DoesNotExist."""
    return (
        EvidenceItem.objects.select_related("incident", "captured_by", "capture")
        .filter(incident__in=incident_selectors.incidents_visible_to(user))
        .get(pk=pk)
    )


def custody_of(item) -> QuerySet[CustodyEvent]:
    return item.custody.select_related("actor").order_by("seq")


def capture_visible_to(user, pk: int) -> CaptureJob:
    return (
        CaptureJob.objects.select_related("requested_by")
        .annotate(item_count=Count("items"))
        .filter(incident__in=incident_selectors.incidents_visible_to(user))
        .get(pk=pk)
    )


def person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.get_full_name()}


def item_facts(item: EvidenceItem) -> dict:
    """Every recorded fact of an item, as in the manifest and the API."""
    return {
        "label": item.label,
        "number": item.number,
        "kind": item.kind,
        "source": item.source,
        "sha256": item.sha256,
        "size": item.size,
        "content_type": item.content_type,
        "width": item.width,
        "height": item.height,
        "original_name": item.original_name,
        "platform": item.platform,
        "source_url": item.source_url,
        "published_at": item.published_at.isoformat() if item.published_at else None,
        "author": {
            "handle": item.author_handle,
            "name": item.author_name,
            "profile_url": item.author_profile_url,
            "followers": item.author_followers,
            "facts": item.author_facts,
        },
        "description": item.description,
        "capture": (
            {
                "final_url": item.final_url,
                "http_status": item.http_status,
                "page_title": item.page_title,
            }
            if item.capture_id
            else None
        ),
        "captured_at": item.captured_at.isoformat(),
        "captured_by": person(item.captured_by),
    }


def custody_facts(event: CustodyEvent) -> dict:
    return {
        "seq": event.seq,
        "action": event.action,
        "actor": person(event.actor),
        "at": event.at.isoformat(),
        "detail": event.detail,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }


@contextmanager
def one_moment():
    """A transaction in which every read sees the database at one moment, so the rows read
    by several queries agree (an export's items, their custody and the chains' heads).

    PostgreSQL: REPEATABLE READ, READ ONLY when it is the outermost transaction (a test's
    or a caller's transaction is already one moment for its own connection); readers take
    no lock and block nobody. SQLite: the write lock, for these few reads only (every
    transaction takes it there, see settings)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


@dataclass
class ExportContent:
    """What an export holds, read at one moment (`at`): its items by exhibit number, each
    item's custody events in order, and the signed heads of the chains."""

    at: datetime
    items: list[EvidenceItem]
    custody: dict[int, list[CustodyEvent]]
    anchors: dict


def export_content(export) -> ExportContent:
    """Read an export's items, custody, the people named and the heads in 4 queries
    whatever its size; call it inside `one_moment()`. The few people are read once and
    shared, not joined to every item and event (1,000s of user objects otherwise)."""
    at = timezone.now()
    items = list(EvidenceItem.objects.filter(exports=export).order_by("number"))
    events = list(CustodyEvent.objects.filter(item__exports=export).order_by("item_id", "seq"))
    people = {
        user.pk: user
        for user in get_user_model().objects.filter(
            pk__in={i.captured_by_id for i in items} | {e.actor_id for e in events if e.actor_id}
        )
    }
    for item in items:
        item.captured_by = people[item.captured_by_id]
    custody: dict[int, list[CustodyEvent]] = {}
    for event in events:
        if event.actor_id:
            event.actor = people[event.actor_id]
        custody.setdefault(event.item_id, []).append(event)
    return ExportContent(
        at=at, items=items, custody=custody, anchors=chain_anchors(export.incident, items)
    )


def export_manifest(incident, content: ExportContent, *, exported_by) -> dict:
    """manifest.json: every fact of every item, its custody as read, and the signed heads."""
    return {
        "format": FORMAT,
        "site": settings.SITE_URL,
        "exported_at": content.at.isoformat(),
        "exported_by": person(exported_by),
        "incident": {
            "id": incident.pk,
            "title": incident.title,
            "category": incident.category,
            "declared_at": incident.declared_at.isoformat(),
        },
        "items": [
            {
                **item_facts(item),
                "file": archive_name(item),
                "custody": [custody_facts(e) for e in content.custody.get(item.pk, [])],
            }
            for item in content.items
        ],
        # The signed heads of the chains when the content was read: compare them later with
        # the installation's (manage.py verify_integrity) to prove nothing was cut since.
        "anchors": content.anchors,
    }


def report_context(incident, content: ExportContent, *, exported_by) -> dict:
    """report.html's context (its rows are rendered one by one, bundle.write_report)."""
    return {
        "incident": incident,
        "item_count": len(content.items),
        "exported_at": content.at,
        "exported_by": exported_by,
        "site": settings.SITE_URL,
        "time_zone": timezone.get_current_timezone_name(),
        "anchors": content.anchors,
        "timeline_anchor": content.anchors.get(chains.chain_name(chains.TIMELINE, incident.pk)),
    }


def recent_exports(incident, limit: int = RECENT_EXPORTS) -> list[EvidenceExport]:
    return list(
        EvidenceExport.objects.filter(incident=incident)
        .select_related("requested_by")
        .order_by("-requested_at", "-id")[:limit]
    )


def export_visible_to(user, pk: int) -> EvidenceExport:
    """The export if its incident is visible to the user, else EvidenceExport.DoesNotExist."""
    return (
        EvidenceExport.objects.select_related("incident", "requested_by")
        .filter(incident__in=incident_selectors.incidents_visible_to(user))
        .get(pk=pk)
    )


def chain_anchors(incident, items) -> dict:
    """The signed checkpoints of the incident's timeline, its evidence facts and each
    exported item's custody: {chain: {"count", "head", "signature"}}."""
    names = [
        chains.chain_name(chains.TIMELINE, incident.pk),
        chains.chain_name(chains.EVIDENCE, incident.pk),
        *(chains.chain_name(chains.CUSTODY, item.pk) for item in items),
    ]
    return {
        c.chain: {"count": c.count, "head": c.head, "signature": c.signature}
        for c in ChainCheckpoint.objects.filter(chain__in=names).order_by("chain")
    }
