from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlaybooksConfig(AppConfig):
    """Playbooks prepared in the admin and their incident side (tasks, templates, contacts).
    Built on `incidents` and `statements`; neither imports it: it plugs into the room and
    the statement editor through their extension points."""

    name = "incidents.playbooks"
    label = "playbooks"
    verbose_name = _("Playbooks")

    def ready(self):
        from incidents import extensions as incident_extensions
        from statements import drafting

        from . import selectors, tasks  # noqa: F401 (tasks: registered in every process)
        from .actions import complete_tasks_on
        from .views import board_context

        incident_extensions.register_room_panel(board_context)
        incident_extensions.register_roster(selectors.roster)
        incident_extensions.register_handling_advice(selectors.handling_advice)
        incident_extensions.register_ambassadors(selectors.ambassadors)
        incident_extensions.register_timeline_follower(complete_tasks_on)
        incident_extensions.register_loose_ends(selectors.loose_ends)
        drafting.register_template_source(
            templates_of=selectors.templates_of, draft=selectors.draft_from_template
        )
