from django.core.management.base import BaseCommand, CommandError

from incidents.evidence.actions import evidence_verify
from incidents.evidence.integrity import custody_problems
from incidents.evidence.models import EvidenceItem
from incidents.models import Incident


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
            for problem in [*custody_problems(item), evidence_verify(item=item)]:
                if problem:
                    problems.append(f"{where}: {problem}")
                    self.stderr.write(f"{where}: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in {checked} evidence item(s).")
        self.stdout.write(self.style.SUCCESS(f"{checked} evidence item(s) intact."))
