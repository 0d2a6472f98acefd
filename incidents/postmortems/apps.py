from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostmortemsConfig(AppConfig):
    """The post-mortem of an incident: its phases, metrics and reaction chart computed from
    the records (figures.py, the one place), the team's written parts and action items, a
    sign-off through an approval policy, frozen versions and exports. Above every app it
    reads (statements, listening, the reply queue, evidence, playbooks), below the integrity
    checks and the demo (docs/architecture.md, "Post-mortem"). The room links to it through
    incidents.extensions.register_room_panel."""

    name = "incidents.postmortems"
    label = "postmortems"
    verbose_name = _("Post-mortems")

    def ready(self):
        from incidents import extensions
        from statements import outlets

        from . import selectors
        from .actions import cell_changed, remind_freeze_on_resolution
        from .views import room_panel_context

        extensions.register_room_panel(room_panel_context)
        outlets.register_awaiting_approval(selectors.awaiting_sign_off)
        # A resolved incident whose promotion freeze holds reminds its lead to lift it.
        extensions.register_timeline_follower(remind_freeze_on_resolution)
        # An approver leaving may leave the post-mortem in review waiting on nobody.
        extensions.register_cell_changed(cell_changed)
