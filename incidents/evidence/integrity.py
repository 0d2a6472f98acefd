"""Read-only checks of an evidence item: its stored original and its chain of custody.
Used by `verify_evidence` (which logs each check in the custody) and by the integrity
checks (`manage.py verify_integrity`, the staff page), which write nothing."""

from django.utils.translation import gettext as _

from incidents import chains

from .files import sha256_of
from .models import EvidenceItem


def stored_file_problem(item: EvidenceItem) -> tuple[str, str | None]:
    """Re-hash the stored original: (its SHA-256, or "" when missing; the problem or None)."""
    try:
        with item.file.open("rb") as original:
            actual = sha256_of(original)
    except FileNotFoundError:
        return "", _("the stored file is missing")
    if actual != item.sha256:
        return actual, _("the stored file does not match its SHA-256 (%(actual)s)") % {
            "actual": actual
        }
    return actual, None


def custody_problems(item: EvidenceItem, checkpoint=None, *, loaded: bool = False) -> list[str]:
    """Every break in the item's custody chain, then against its signed checkpoint (pass
    the checkpoint row with loaded=True when it is already fetched)."""
    from incidents.models import ChainCheckpoint

    events = list(item.custody.order_by("seq"))
    problems, count, head = chains.walk(events, label=_("custody event"))
    if events and events[0].detail.get("sha256") not in (None, item.sha256):
        problems.append(_("the first custody event records another SHA-256 than the item's"))
    chain = chains.chain_name(chains.CUSTODY, item.pk)
    if not loaded:
        checkpoint = ChainCheckpoint.objects.filter(chain=chain).first()
    return problems + chains.anchor_problems(
        checkpoint, chain, count=count, head=head, required=True
    )
