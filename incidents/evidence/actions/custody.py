"""The custody log's own entries: who viewed or downloaded an item, and the periodic
re-hash of the stored originals (manage.py verify_evidence)."""

from django.db import transaction
from django.utils.translation import gettext as _

from incidents import permissions
from incidents.errors import InvalidInput, NotAllowed

from ..integrity import stored_file_problem
from ..models import CustodyAction, EvidenceItem
from .common import append_custody, lock_item


@transaction.atomic
def evidence_record_access(*, item: EvidenceItem, actor, action: str, ip: str = "") -> None:
    """Log that someone viewed the item or downloaded its original."""
    if action not in (CustodyAction.VIEWED, CustodyAction.DOWNLOADED):
        raise InvalidInput("Only views and downloads are logged this way.")
    if not permissions.can_view(actor, item.incident):
        raise NotAllowed(_("You are not in this incident's cell."))
    locked = lock_item(item)
    append_custody(locked, action, actor=actor, detail={"ip": ip} if ip else {})


def evidence_verify(*, item: EvidenceItem) -> str | None:
    """Re-hash the stored original and log the result; returns the problem or None."""
    actual, problem = stored_file_problem(item)
    with transaction.atomic():
        locked = lock_item(item)
        append_custody(
            locked,
            CustodyAction.VERIFICATION_FAILED if problem else CustodyAction.VERIFIED,
            actor=None,
            detail={"sha256": actual, **({"problem": problem} if problem else {})},
        )
    return problem
