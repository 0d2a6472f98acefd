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
    collector's own message (connectors.feeds.feeds_from, connectors.mastodon.instances_from)."""
    from .connectors.feeds import feeds_from
    from .connectors.mastodon import instances_from

    warnings = []
    for code, name, read in (("W001", "LISTENING_FEEDS", feeds_from),
                             ("W002", "LISTENING_MASTODON", instances_from)):  # fmt: skip
        try:
            read(getattr(settings, name))
        except ValueError as error:
            warnings.append(
                checks.Warning(
                    str(error),
                    hint=f"Its collector refuses to start: correct {name} "
                    "(docs/deployment.md, 'Listening collectors').",
                    id=f"listening.{code}",
                )
            )
    return warnings
