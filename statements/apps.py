from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    """Response drafts, revisions, approvals and publication. Built on `incidents`, which
    never imports it: the room's statements panel and presence's "who is editing which
    statement" are registered with the incidents extension points here."""

    name = "statements"
    verbose_name = _("Statements")

    def ready(self):
        from incidents import extensions

        from . import permissions, selectors
        from .views import panel_context

        extensions.register_room_panel(panel_context)
        extensions.register_editing(may_edit=permissions.can_draft, editable=selectors.is_editable)
