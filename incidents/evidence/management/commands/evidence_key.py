from django.core.management.base import BaseCommand

from incidents.evidence.bundle import fingerprint, public_key_pem


class Command(BaseCommand):
    help = (
        "Print the public key that signs evidence bundles, and its fingerprint: give them to "
        "counsel through another channel than the bundle itself."
    )

    def handle(self, *args, **options):
        self.stdout.write(public_key_pem().decode(), ending="")
        self.stdout.write(f"Fingerprint (SHA-256 of the raw key): {fingerprint()}")
