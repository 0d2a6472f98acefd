from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.playbooks import actions, portable


class Command(BaseCommand):
    help = (
        "Import playbooks from a JSON file made by export_playbook or the admin's export "
        "(one playbook or a list). All or nothing; a name that exists is an error unless "
        "--replace, which replaces that playbook's contents and raises its version."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON file to read")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="replace playbooks whose names already exist (they keep their id; their "
            "version becomes the file's when higher, otherwise the current one + 1)",
        )

    def handle(self, *args, file, replace=False, **options):
        try:
            raw = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            results = actions.playbooks_import(
                actor=None,
                data=portable.read_json(raw, max_bytes=None),
                replace=replace,
                source=str(file),
            )
        except portable.PlaybookExists as error:
            raise CommandError(f"{error.message} (use --replace to replace)") from None
        except portable.PlaybookFileError as error:
            raise CommandError(error.message) from None
        for result in results:
            playbook = result.playbook
            self.stdout.write(
                f"{result.outcome}: “{playbook.name}” (id {playbook.pk}, "
                f"version {playbook.version})"
            )
