from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents.listening.connectors.common import Stop
from incidents.listening.connectors.mastodon import MastodonCollector, instances_from


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
        if not instances:
            self.stderr.write("LISTENING_MASTODON names no instance: nothing to poll.")
            return
        stop = Stop()
        stop.install()
        collector = MastodonCollector(instances, stop=stop)
        collector.run(once=once)
        self.stdout.write(f"Mastodon: {collector.stored} mention(s) stored.")
