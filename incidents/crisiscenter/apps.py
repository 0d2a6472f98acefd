from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrisisCenterConfig(AppConfig):
    """The public crisis center: one page per incident, prepared dark from a playbook,
    switched live then resolved by the lead, whose every word is an approved statement of
    the crisis center channel; rendered to static files (HTML, Atom, JSON Feed) on each
    change. Above statements and playbooks (docs/architecture.md, "Crisis center"); nothing
    below imports it. The room shows its panel through incidents.extensions; a published or
    approved statement re-renders the page through a timeline follower."""

    name = "incidents.crisiscenter"
    label = "crisiscenter"
    verbose_name = _("Crisis center")

    def ready(self):
        from incidents import extensions
        from statements import outlets

        from . import selectors
        from .actions import follow_statements
        from .rules import publish_refusals, publish_refused, transition_refused
        from .views import room_panel_context

        extensions.register_room_panel(room_panel_context)
        extensions.register_timeline_follower(follow_statements)
        extensions.register_transition_guard(transition_refused)
        extensions.register_loose_ends(selectors.loose_ends)
        outlets.register_shown_on_approval(selectors.page_texts_among, selectors.section_statements)
        outlets.register_publish_guard(publish_refusals, publish_refused)
