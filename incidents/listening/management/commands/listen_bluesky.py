import time

from django.core.management.base import BaseCommand

from incidents.listening.connectors.bluesky import JetstreamCollector
from incidents.listening.connectors.common import Stop


class Command(BaseCommand):
    help = (
        "Collect the Bluesky posts matching an active watch from Jetstream "
        "(settings.LISTENING_JETSTREAM_URL), resuming from the saved cursor. Runs until "
        "SIGTERM; --once reads for a bounded time (cron, tests)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="read for a bounded time, then exit"
        )
        parser.add_argument(
            "--seconds",
            type=float,
            default=60.0,
            help="with --once: at most this long (default 60)",
        )
        parser.add_argument(
            "--idle",
            type=float,
            default=10.0,
            help="with --once: stop after this many seconds without a frame (default 10)",
        )

    def handle(self, *args, once=False, seconds=60.0, idle=10.0, **options):
        stop = Stop()
        stop.install()
        collector = JetstreamCollector(
            stop=stop,
            idle_exit=idle if once else None,
            deadline=time.monotonic() + seconds if once else None,
        )
        collector.run()
        self.stdout.write(
            f"Jetstream: {collector.stored} mention(s) stored, {collector.garbage} frame(s) "
            f"skipped, cursor {collector.cursor}."
        )
