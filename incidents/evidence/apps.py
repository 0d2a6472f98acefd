from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    """The evidence locker: originals, chain of custody, URL captures, signed exports.
    Built on `incidents`; nothing in `incidents` or `statements` imports it."""

    name = "incidents.evidence"
    label = "evidence"
    verbose_name = _("Evidence locker")

    def ready(self):
        from incidents import extensions

        # Register the Celery tasks in every process, not only in the worker: actions queue
        # them by name, and a name resolves to the task (run inline in eager mode) only once
        # its module is imported.
        from . import tasks  # noqa: F401
        from .views import panel_context

        extensions.register_room_panel(panel_context)
