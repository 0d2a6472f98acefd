from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.playbooks import portable
from incidents.playbooks.models import Playbook
from incidents.text import parse_id


class Command(BaseCommand):
    help = (
        "Write a playbook as JSON (for version control, or to import it elsewhere with "
        "import_playbook). Give its id or its exact name."
    )

    def add_arguments(self, parser):
        parser.add_argument("playbook", help="id or exact name of the playbook")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, playbook, output=None, **options):
        found = None
        if parse_id(playbook) is not None:
            found = Playbook.objects.filter(pk=parse_id(playbook)).first()
        if found is None:  # also a name made of digits
            found = Playbook.objects.filter(name=playbook).first()
        if found is None:
            raise CommandError(f"No playbook with the id or name “{playbook}”.")
        text = portable.dumps(portable.export_playbook(found))
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Playbook “{found.name}” (version {found.version}) -> {output}")
        else:
            self.stdout.write(text, ending="")
