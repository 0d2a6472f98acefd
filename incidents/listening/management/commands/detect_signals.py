"""Run spike and tone-shift detection every minute, by hand: for a server that runs no
schedule (`manage.py runserver`, EMBEDDED_SCHEDULER off). `make run` runs it itself
(crisiscell/scheduler.py), production in Celery beat
(`incidents.listening.tasks.detect_signals`)."""

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
