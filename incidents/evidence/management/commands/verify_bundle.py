from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.evidence.bundle import verify_bundle


class Command(BaseCommand):
    help = (
        "Check an exported evidence bundle: the manifest's signature (with this installation's "
        "key, or --key) and every original's SHA-256. Exit 1 on any problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("bundle", type=Path)
        parser.add_argument("--key", type=Path, help="PEM public key to verify with")

    def handle(self, *args, bundle: Path, key: Path | None = None, **options):
        if not bundle.is_file():
            raise CommandError(f"No such file: {bundle}")
        key_pem = key.read_bytes() if key else None
        with bundle.open("rb") as data:
            check = verify_bundle(data, public_key_pem_bytes=key_pem)
        for problem in check.problems:
            self.stderr.write(problem)
        if not check.ok:
            raise CommandError(f"The bundle does not verify ({len(check.problems)} problem(s)).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Signature valid (key {check.fingerprint}); {check.items} original(s) match."
            )
        )
