from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Incidents")

    def ready(self):
        # Register the Celery tasks in every process, not only in the worker: actions queue
        # them by name, and a name resolves to the task (run inline in eager mode) only once
        # its module is imported.
        from . import tasks  # noqa: F401
