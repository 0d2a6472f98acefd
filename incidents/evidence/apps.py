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

        from .views import panel_context

        extensions.register_room_panel(panel_context)
