from django.core.management.base import BaseCommand, CommandError

from incidents.chains import timeline_problems
from incidents.models import Incident


class Command(BaseCommand):
    help = (
        "Re-compute every incident's timeline hash chain and compare its head with the signed "
        "checkpoint; list every problem and exit 1 if there is any. `verify_integrity` checks "
        "every other record too."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incident", type=int, help="check only this incident id")

    def handle(self, *args, incident=None, **options):
        incidents = Incident.objects.order_by("pk")
        if incident is not None:
            incidents = incidents.filter(pk=incident)
            if not incidents.exists():
                raise CommandError(f"No incident with id {incident}.")
        problems = []
        checked = 0
        for item in incidents.iterator():
            checked += 1
            problems += [
                f"Incident {item.pk} ({item.title}): {problem}."
                for problem in timeline_problems(item)
            ]
        if problems:
            summary = f"{len(problems)} problem(s) in {checked} timeline(s)."
            raise CommandError("\n".join([*problems, summary]))
        self.stdout.write(self.style.SUCCESS(f"{checked} timeline(s) verified: chain intact."))
