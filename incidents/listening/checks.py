"""System checks (`manage.py check`, and said by `migrate` and `runserver`): the collectors'
settings, read by the same functions the collectors read them with, so that a malformed
LISTENING_FEEDS or LISTENING_MASTODON is said when the app is deployed, not only by a
collector that stops on it (the pages would then only say its posts are missing). Warnings,
not errors: an error would stop every other command (the detector, the other collectors,
the outbox), which do not read these settings."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def collectors_settings(app_configs=None, **kwargs) -> list[checks.Warning]:
    """listening.W001 (LISTENING_FEEDS) and listening.W002 (LISTENING_MASTODON): the
    collector's own refusal (connectors.feeds.feeds_from, connectors.mastodon.instances_from:
    every bad entry, one a line, bounded); listening.W003: the entries with keys the
    collector does not read (feeds.feed_notes, mastodon.instance_notes), which it logs."""
    from .connectors.feeds import feed_notes, feeds_from
    from .connectors.liveness import refusal
    from .connectors.mastodon import instance_notes, instances_from

    warnings = []
    for code, name, read, notes in (("W001", "LISTENING_FEEDS", feeds_from, feed_notes),
                                    ("W002", "LISTENING_MASTODON", instances_from,
                                     instance_notes)):  # fmt: skip
        value = getattr(settings, name)
        try:
            read(value)
        except ValueError as error:
            warnings.append(
                checks.Warning(
                    str(error),
                    hint=f"Its collector refuses to start: correct {name} "
                    "(docs/deployment.md, 'Listening collectors').",
                    id=f"listening.{code}",
                )
            )
        if unknown := notes(value):
            warnings.append(
                checks.Warning(
                    refusal(unknown),
                    hint=f"Its collector ignores them and runs: correct {name} "
                    "(docs/deployment.md, 'Listening collectors').",
                    id="listening.W003",
                )
            )
    return warnings
