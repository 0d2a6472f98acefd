from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    """Response drafts, revisions, approvals and publication. Built on `incidents`, which
    never imports it: the room's statements panel, presence's "who is editing which
    statement" and what follows a change of the cell (hand-off notices, the "waits on
    nobody" check) are registered with the incidents extension points here."""

    name = "statements"
    verbose_name = _("Statements")

    def ready(self):
        from incidents import extensions

        from . import handoffs, permissions, selectors, tasks  # noqa: F401 (tasks: registered)
        from .views import panel_context

        extensions.register_room_panel(panel_context)
        extensions.register_editing(may_edit=permissions.can_draft, editable=selectors.is_editable)
        # Hand-off notices to people given work in a cell, and the "waits on nobody" check.
        extensions.register_cell_changed(handoffs.cell_changed)
        extensions.register_loose_ends(selectors.loose_ends)
