from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    """Every message that leaves the site (e-mail, chat and SMS through Apprise, platform
    posts) is first a row here, written in the transaction of the action that caused it, and
    delivered by workers after commit, with retries (docs/architecture.md, "Outbox")."""

    name = "incidents.outbox"
    label = "outbox"
    verbose_name = _("Outbox")

    def ready(self):
        # Register the Celery tasks in every process: actions queue them by name, and a name
        # resolves to its task (run inline in eager mode) only once the module is imported.
        from . import tasks  # noqa: F401
