from django.core.management.base import BaseCommand, CommandError

from incidents.models import GENESIS_HASH, Incident, TimelineEntry


def first_broken_link(incident: Incident) -> tuple[TimelineEntry, str] | None:
    """Walk the chain in order; return the first entry whose stored hash, link or sequence
    number does not match a recomputation, with the reason."""
    expected_prev, expected_seq = GENESIS_HASH, 1
    for entry in TimelineEntry.objects.filter(incident=incident).order_by("seq").iterator():
        if entry.seq != expected_seq:
            return entry, f"sequence jumps from {expected_seq - 1} to {entry.seq}"
        if entry.prev_hash != expected_prev:
            return entry, "does not link to the previous entry's hash"
        if entry.compute_hash() != entry.hash:
            return entry, "content does not match its hash (altered after recording)"
        expected_prev, expected_seq = entry.hash, expected_seq + 1
    return None


class Command(BaseCommand):
    help = "Re-compute every incident's timeline hash chain; exit 1 on the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--incident", type=int, help="check only this incident id")

    def handle(self, *args, incident=None, **options):
        incidents = Incident.objects.order_by("pk")
        if incident is not None:
            incidents = incidents.filter(pk=incident)
            if not incidents.exists():
                raise CommandError(f"No incident with id {incident}.")
        checked = 0
        for item in incidents.iterator():
            broken = first_broken_link(item)
            if broken:
                entry, reason = broken
                raise CommandError(
                    f"Incident {item.pk} ({item.title}): timeline entry #{entry.seq} {reason}."
                )
            checked += 1
        self.stdout.write(self.style.SUCCESS(f"{checked} timeline(s) verified: chain intact."))
