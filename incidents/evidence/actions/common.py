"""What the evidence actions share: the live signal, who may add evidence, the custody log,
and queueing a worker task after commit."""

import json
import logging

from celery import current_app
from django.db import connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import chains
from incidents.errors import NotAllowed
from incidents.models import ChainCheckpoint, Incident, next_link

from .. import rules
from ..models import CUSTODY_GENESIS, CustodyEvent, EvidenceItem

logger = logging.getLogger("incidents.evidence.actions")
EVIDENCE_CHANGED = "evidence-changed"

# The worker tasks (incidents/evidence/tasks.py), queued by name: the tasks import the
# actions, never the reverse. tasks.py registers them under these names.
DISPLAY_COPIES_TASK = "incidents.evidence.tasks.make_display_copies"
CAPTURE_TASK = "incidents.evidence.tasks.capture_url"
EXPORT_TASK = "incidents.evidence.tasks.build_export"


def require_writer(actor, incident: Incident) -> None:
    if not rules.can_add_evidence(actor, incident):
        raise NotAllowed(_("Only members of the cell who can write may add evidence."))


def queue_task_after_commit(name: str, *args) -> None:
    """Queue the worker task `name` with `args` once the transaction commits.

    The name resolves to the registered task (the evidence AppConfig.ready() imports the
    task module at start-up), so with CELERY_TASK_ALWAYS_EAGER (embedded mode, tests) it
    still runs inline, as a direct call would.
    """

    def queue():
        try:
            current_app.signature(name, args=args).delay()
        except Exception:
            # The evidence (or the capture job) is stored; a broker outage only delays what
            # a worker adds: the periodic sweep (requeue.py) queues it again.
            logger.exception("Could not queue %s%s; the sweep will queue it again", name, args)

    transaction.on_commit(queue)


def append_custody(item: EvidenceItem, action: str, *, actor, at=None, detail=None) -> CustodyEvent:
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
    chains.anchor(
        chains.chain_name(chains.CUSTODY, item.pk), count=seq, head=event.hash, prev_head=prev_hash
    )
    return event


def lock_item(item: EvidenceItem) -> EvidenceItem:
    return EvidenceItem.objects.select_for_update().get(pk=item.pk)


def lock_with_last_links(items: QuerySet) -> list[tuple[int, int | None, str | None]]:
    """Lock the items and read each one's custody chain's last link, in one query, for
    `append_custody_many`: [(item id, last seq, last hash)], by id (None: an empty chain).
    Plain tuples: building 1,000 items took more time than the query."""
    last = CustodyEvent.objects.filter(item=OuterRef("pk")).order_by("-seq")
    return list(
        items.select_for_update(of=("self",))
        .annotate(
            last_seq=Subquery(last.values("seq")[:1]), last_hash=Subquery(last.values("hash")[:1])
        )
        .order_by("pk")
        .values_list("pk", "last_seq", "last_hash")
    )


def append_custody_many(links, action: str, *, actor, at, details: dict) -> list[CustodyEvent]:
    """Append one event to each item's custody chain, in a few queries whatever their
    number (`append_custody`, for many items at once). `links`: what
    `lock_with_last_links` returned, in the same transaction (the caller holds every
    item's lock). `details`: {item id: the event's detail}."""
    events = []
    for item_id, last_seq, last_hash in links:
        event = CustodyEvent(
            item_id=item_id,
            seq=(last_seq or 0) + 1,
            action=action,
            actor=actor,
            at=at,
            detail=details.get(item_id, {}),
            prev_hash=last_hash or CUSTODY_GENESIS,
        )
        event.hash = event.compute_hash()
        events.append(event)
    _insert_custody(events)
    _anchor_custody(events)
    return events


# PostgreSQL: the rows as one JSON parameter. With one placeholder per value (8,000 for
# 1,000 events), psycopg's parsing of the statement cost more than the insert.
INSERT_CUSTODY_PG = """
    INSERT INTO "incidents_custodyevent"
        ("item_id", "seq", "action", "actor_id", "at", "detail", "prev_hash", "hash")
    SELECT r.item_id, r.seq, r.action, r.actor_id, r.at, r.detail, r.prev_hash, r.hash
    FROM json_to_recordset(%s::json) AS r(item_id bigint, seq integer, action text,
        actor_id integer, at timestamptz, detail jsonb, prev_hash text, hash text)
"""


def _insert_custody(events: list[CustodyEvent]) -> None:
    if connection.vendor != "postgresql":
        CustodyEvent.objects.bulk_create(events)
        return
    rows = [
        {
            "item_id": e.item_id,
            "seq": e.seq,
            "action": e.action,
            "actor_id": e.actor_id,
            "at": e.at.isoformat(),  # microseconds and offset: the hashed instant, exactly
            "detail": e.detail,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in events
    ]
    with connection.cursor() as cursor:
        cursor.execute(INSERT_CUSTODY_PG, [json.dumps(rows)])


def _anchor_custody(events: list[CustodyEvent]) -> None:
    """`chains.anchor` for many custody chains at once: each checkpoint advances only from
    where its chain was (count - 1, previous hash), else it is left alone and the mismatch
    logged as critical, as `chains.anchor` does; a chain's first record opens it. The item
    locks the caller holds serialize each chain's writers. One conditional UPDATE per
    ANCHOR_BATCH chains (the ORM's bulk_update builds a CASE per row and field: seconds for
    1,000 rows)."""
    now = timezone.now()
    signed = [
        (name, event, chains.sign(name, event.seq, event.hash))
        for event in events
        for name in [chains.chain_name(chains.CUSTODY, event.item_id)]
    ]
    left = []
    for start in range(0, len(signed), ANCHOR_BATCH):
        batch = signed[start : start + ANCHOR_BATCH]
        moved = _advance(batch, now)
        left.extend(row for row in batch if row[0] not in moved)
    if not left:
        return
    existing = set(
        ChainCheckpoint.objects.filter(chain__in=[name for name, _e, _s in left]).values_list(
            "chain", flat=True
        )
    )
    opened = []
    for name, event, signature in left:
        if event.seq == 1 and name not in existing:
            opened.append(
                ChainCheckpoint(
                    chain=name, count=1, head=event.hash, signature=signature, signed_at=now
                )
            )
        else:
            _not_continued(name, event.seq)
    ChainCheckpoint.objects.bulk_create(opened)


ANCHOR_BATCH = 1000
ADVANCE_ROW = "(%s, CAST(%s AS integer), %s, %s, CAST(%s AS integer), %s)"
ADVANCE_SQLITE = """
    UPDATE "incidents_chaincheckpoint" AS c
    SET "count" = v.column2, "head" = v.column3, "signature" = v.column4, "signed_at" = %s
    FROM (VALUES {rows}) AS v
    WHERE c."chain" = v.column1 AND c."count" = v.column5 AND c."head" = v.column6
    RETURNING "chain"
"""


ADVANCE_PG = """
    UPDATE "incidents_chaincheckpoint" AS c
    SET "count" = v.count, "head" = v.head, "signature" = v.signature, "signed_at" = %s
    FROM json_to_recordset(%s::json) AS v(chain text, count integer, head text,
        signature text, prev_count integer, prev_head text)
    WHERE c."chain" = v.chain AND c."count" = v.prev_count AND c."head" = v.prev_head
    RETURNING c."chain"
"""


def _advance(batch, now) -> set[str]:
    """UPDATE ... FROM a table of rows: each checkpoint moves from (count - 1, previous
    head) to (count, head, signature), or not at all. Returns the chains that moved.
    PostgreSQL gets the rows as one JSON parameter (see INSERT_CUSTODY_PG); SQLite (3.35+:
    UPDATE FROM, RETURNING) as VALUES, whose columns are column1..."""
    if connection.vendor == "postgresql":
        rows = [
            {
                "chain": chain,
                "count": event.seq,
                "head": event.hash,
                "signature": signature,
                "prev_count": event.seq - 1,
                "prev_head": event.prev_hash,
            }
            for chain, event, signature in batch
        ]
        with connection.cursor() as cursor:
            cursor.execute(ADVANCE_PG, [now, json.dumps(rows)])
            return {row[0] for row in cursor.fetchall()}
    rows = ", ".join([ADVANCE_ROW] * len(batch))
    params = [
        value
        for chain, event, signature in batch
        for value in (chain, event.seq, event.hash, signature, event.seq - 1, event.prev_hash)
    ]
    sql = ADVANCE_SQLITE.replace("{rows}", rows)  # placeholders only: every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])
        return {row[0] for row in cursor.fetchall()}


def _not_continued(chain: str, count: int) -> None:
    chains.logger.critical(
        "Chain %s does not continue its signed checkpoint (record %s): records were deleted "
        "or altered; the checkpoint is kept as it was. Run manage.py verify_integrity.",
        chain,
        count,
    )
