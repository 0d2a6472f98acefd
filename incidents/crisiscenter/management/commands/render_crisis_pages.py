from django.core.management.base import BaseCommand

from incidents.crisiscenter import render


class Command(BaseCommand):
    help = "Render every live and resolved crisis page into CRISIS_CENTER_ROOT again."

    def handle(self, *args, **options):
        count = render.render_all()
        self.stdout.write(f"{count} crisis page(s) rendered into {render.root()}")
