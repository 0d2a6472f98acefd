from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListeningConfig(AppConfig):
    """Listening (veille): the watches a brand keeps on the platforms, and the mentions they
    collect, with language and sentiment (docs/architecture.md, "Listening")."""

    name = "incidents.listening"
    label = "listening"
    verbose_name = _("Listening")

    def ready(self):
        from incidents import extensions

        from . import (
            checks,  # noqa: F401 (registers the collectors' settings check)
            selectors,
        )
        from .views import room_panel_context

        extensions.register_room_panel(room_panel_context)
        extensions.register_loose_ends(selectors.loose_ends)
