from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepliesConfig(AppConfig):
    """The reply queue: who wrote each mention attached to an incident (triage), who is
    answering whom (claims), what was decided (no answer, answered privately, handed to
    customer service, defenders thanked) and the coverage of the answers. Above statements
    (docs/architecture.md, "Reply queue"); nothing below imports it. The room shows its
    coverage through incidents.extensions.register_room_panel; the statement page shows
    what a reply answers through statements.bindings; a published reply marks its mention
    answered through incidents.extensions.register_timeline_follower."""

    name = "incidents.replies"
    label = "replies"
    verbose_name = _("Reply queue")

    def ready(self):
        from incidents import extensions
        from statements import bindings

        from . import selectors
        from .actions import reply_published
        from .views import room_panel_context, statement_binding

        extensions.register_room_panel(room_panel_context)
        extensions.register_loose_ends(selectors.loose_ends)
        extensions.register_timeline_follower(reply_published)
        bindings.register_binding(statement_binding)
