import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents.listening.connectors.common import Stop, idle_until_stopped
from incidents.listening.connectors.mastodon import (
    MastodonCollector,
    instance_notes,
    instances_from,
)

log = logging.getLogger("incidents.listening.connectors.mastodon")


class Command(BaseCommand):
    help = (
        "Poll the Mastodon instances of settings.LISTENING_MASTODON (hashtag timelines of the "
        "active watches, searches) forward from the saved cursors, every "
        "LISTENING_MASTODON_INTERVAL seconds until SIGTERM; --once polls once (cron, tests)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args, once=False, **options):
        try:
            instances = instances_from(settings.LISTENING_MASTODON)
        except ValueError as error:
            raise CommandError(str(error)) from None
        # Unknown keys (a misspelled one) are said, not refused: the collector runs.
        for note in instance_notes(settings.LISTENING_MASTODON):
            log.warning("%s", note)
        stop = Stop()
        stop.install()
        if not instances:
            if not once:
                idle_until_stopped(stop, "LISTENING_MASTODON names no instance")
            return
        collector = MastodonCollector(instances, stop=stop)
        collector.run(once=once)
        self.stdout.write(f"Mastodon: {collector.stored} mention(s) stored.")
