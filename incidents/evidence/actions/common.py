"""What the evidence actions share: the live signal, who may add evidence, the custody log,
and queueing a worker task after commit."""

import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import chains, permissions
from incidents.errors import NotAllowed
from incidents.models import Incident, next_link

from ..models import CustodyEvent, EvidenceItem

logger = logging.getLogger("incidents.evidence.actions")
EVIDENCE_CHANGED = "evidence-changed"

# The worker tasks (incidents/evidence/tasks.py), queued by name: the tasks import the
# actions, never the reverse. tasks.py registers them under these names.
DISPLAY_COPIES_TASK = "incidents.evidence.tasks.make_display_copies"
CAPTURE_TASK = "incidents.evidence.tasks.capture_url"


def require_writer(actor, incident: Incident) -> None:
    if not permissions.can_write_timeline(actor, incident):
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
