from django.core.management.base import BaseCommand, CommandError

from incidents.evidence.actions import evidence_verify
from incidents.evidence.models import CUSTODY_GENESIS, EvidenceItem
from incidents.models import Incident


def broken_custody(item: EvidenceItem) -> str | None:
    """The first break in an item's custody chain, or None."""
    expected_prev, expected_seq = CUSTODY_GENESIS, 1
    for event in item.custody.order_by("seq"):
        if event.seq != expected_seq:
            return f"custody log jumps from #{expected_seq - 1} to #{event.seq}"
        if event.prev_hash != expected_prev or event.compute_hash() != event.hash:
            return f"custody event #{event.seq} was altered"
        expected_prev, expected_seq = event.hash, expected_seq + 1
    return None


class Command(BaseCommand):
    help = (
        "Re-hash every stored evidence original and check each custody chain; report every "
        "mismatch or missing file and exit 1 if there is any. Each check is logged in the "
        "item's chain of custody."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incident", type=int, help="check only this incident id")

    def handle(self, *args, incident=None, **options):
        items = EvidenceItem.objects.select_related("incident").order_by("incident", "number")
        if incident is not None:
            if not Incident.objects.filter(pk=incident).exists():
                raise CommandError(f"No incident with id {incident}.")
            items = items.filter(incident_id=incident)
        problems = []
        checked = 0
        for item in items.iterator():
            checked += 1
            where = f"Incident {item.incident_id}, {item.label} ({item.file.name})"
            for problem in (broken_custody(item), evidence_verify(item=item)):
                if problem:
                    problems.append(f"{where}: {problem}")
                    self.stderr.write(f"{where}: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in {checked} evidence item(s).")
        self.stdout.write(self.style.SUCCESS(f"{checked} evidence item(s) intact."))
