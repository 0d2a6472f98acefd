from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from incidents.outbox import actions, selectors
from incidents.outbox.choices import Channel, Status


class Command(BaseCommand):
    help = (
        "Show the outbox: messages per status and channel, the oldest pending message's age "
        "and the last failures (the staff page /outbox/ shows the same). --retry-failed sends "
        "every failed message again; --sweep does now what Celery beat does every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=20, help="failures listed (1-200)")
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="make every failed message pending again, due now, with fresh attempts",
        )
        parser.add_argument(
            "--sweep",
            action="store_true",
            help="queue what is due and release interrupted sends (as the beat task does)",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit 1 if a message failed or one has waited more than --max-wait minutes",
        )
        parser.add_argument("--max-wait", type=int, default=15, help="minutes, for --check")

    def handle(self, *args, limit=20, retry_failed=False, sweep=False, check=False, **options):
        if retry_failed:
            ids = list(
                selectors.last_failures().values_list("pk", flat=True)  # every failed one
            )
            count = actions.messages_retry(actor=None, ids=ids)
            self.stdout.write(f"{count} failed message(s) made pending again.")
        if sweep:
            done = actions.messages_sweep()
            self.stdout.write(
                "Sweep: {queued} queued, {released} interrupted released, {failed} failed.".format(
                    **done
                )
            )
        now = timezone.now()
        state = selectors.queue_state()
        channels = Channel.values
        header = f"{'status':<10}" + "".join(f"{c:>8}" for c in channels)
        self.stdout.write(header + f"{'total':>8}")
        for status in Status.values:
            counts = [state.depth[status][c] for c in channels]
            line = f"{status:<10}" + "".join(f"{n:>8}" for n in counts)
            self.stdout.write(line + f"{state.total(status):>8}")
        age = state.oldest_pending_age(now)
        if age is None:
            self.stdout.write("Oldest pending: none.")
        else:
            self.stdout.write(f"Oldest pending: {int(age.total_seconds())} s old.")
        failures = list(selectors.last_failures()[: min(max(limit, 1), 200)])
        if failures:
            self.stdout.write(f"Last failures ({state.total(Status.FAILED)} in all):")
        for message in failures:
            at = message.last_attempt_at
            when = at.isoformat(timespec="seconds") if at else "-"
            self.stdout.write(
                f"  #{message.pk} {when} {message.channel} {message.shown_recipient} "
                f"({message.attempts} attempt(s)): {message.last_error}"
            )
        if check:
            if state.total(Status.FAILED):
                raise CommandError(f"{state.total(Status.FAILED)} failed message(s).")
            if age is not None and age > timedelta(minutes=options["max_wait"]):
                raise CommandError(f"A message has waited {int(age.total_seconds())} s.")
