"""Reads of the evidence locker, each in a constant number of queries."""

import base64

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from incidents import chains
from incidents import selectors as incident_selectors
from incidents.models import ChainCheckpoint

from .bundle import FORMAT, archive_name
from .models import CaptureJob, CustodyEvent, EvidenceItem

RECENT_CAPTURES = 5


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


def _person(user) -> dict | None:
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
        "captured_by": _person(item.captured_by),
    }


def custody_facts(event: CustodyEvent) -> dict:
    return {
        "seq": event.seq,
        "action": event.action,
        "actor": _person(event.actor),
        "at": event.at.isoformat(),
        "detail": event.detail,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }


def export_rows(incident, items, *, actor, at) -> tuple[dict, dict]:
    """The manifest (every fact and custody event) and the report's context, built with one
    query for all custody logs and one for all people."""
    custody = {}
    for event in (
        CustodyEvent.objects.filter(item__in=items).select_related("actor").order_by("item", "seq")
    ):
        custody.setdefault(event.item_id, []).append(event)
    anchors = chain_anchors(incident, items)
    manifest = {
        "format": FORMAT,
        "site": settings.SITE_URL,
        "exported_at": at.isoformat(),
        "exported_by": _person(actor),
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
                "custody": [custody_facts(e) for e in custody.get(item.pk, [])],
            }
            for item in items
        ],
        # The signed heads of the chains at export: compare them later with the
        # installation's (manage.py verify_integrity) to prove nothing was cut since.
        "anchors": anchors,
    }
    rows = []
    for item in items:
        thumbnail = None
        if item.thumbnail:
            with item.thumbnail.open("rb") as image:
                thumbnail = base64.b64encode(image.read()).decode()
        rows.append(
            {
                "item": item,
                "file": archive_name(item),
                "thumbnail": thumbnail,
                "custody": custody.get(item.pk, []),
            }
        )
    context = {
        "incident": incident,
        "rows": rows,
        "exported_at": at,
        "exported_by": actor,
        "site": settings.SITE_URL,
        "time_zone": timezone.get_current_timezone_name(),
        "anchors": anchors,
        "timeline_anchor": anchors.get(chains.chain_name(chains.TIMELINE, incident.pk)),
    }
    return manifest, context


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
