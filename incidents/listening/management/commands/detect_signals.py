"""Run spike and tone-shift detection every minute (the embedded mode has no Celery beat;
in production the beat task `incidents.listening.tasks.detect_signals` does it)."""

import time

from django.core.management.base import BaseCommand

from incidents.listening import detection


class Command(BaseCommand):
    help = "Evaluate the active watches every minute and open, update or close signals."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args, once=False, **options):
        while True:
            done = detection.detect()
            self.stdout.write(
                f"{done['watches']} watches evaluated, {done['opened']} signals opened, "
                f"{done['closed']} closed"
            )
            if once:
                return
            time.sleep(60 - time.time() % 60 + 1)  # just after the next minute starts
