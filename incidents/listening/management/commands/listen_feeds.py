import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents.listening.connectors.common import Stop, idle_until_stopped
from incidents.listening.connectors.feeds import FeedCollector, feed_notes, feeds_from

log = logging.getLogger("incidents.listening.connectors.feeds")


class Command(BaseCommand):
    help = (
        "Read the RSS/Atom feeds of settings.LISTENING_FEEDS (conditional GET) and store the "
        "entries matching an active watch, every LISTENING_FEEDS_INTERVAL seconds until "
        "SIGTERM; --once reads them once (cron, tests)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args, once=False, **options):
        try:
            configured = feeds_from(settings.LISTENING_FEEDS)
        except ValueError as error:
            raise CommandError(str(error)) from None
        # Unknown keys (a misspelled one) are said, not refused: the collector runs.
        for note in feed_notes(settings.LISTENING_FEEDS):
            log.warning("%s", note)
        stop = Stop()
        stop.install()
        if not configured:
            if not once:
                idle_until_stopped(stop, "LISTENING_FEEDS names no feed")
            return
        collector = FeedCollector(configured, stop=stop)
        collector.run(once=once)
        self.stdout.write(f"Feeds: {collector.stored} mention(s) stored.")
