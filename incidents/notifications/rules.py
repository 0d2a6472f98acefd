"""What a user may do with notifications: the one answer used by the actions' guards, the
pages (`data-action` markers) and the API.

A person's preferences and chat targets are their own: every action takes them from the
actor, so nobody can even name someone else's. The cell's chat channel is the lead's, like
the cell itself (incidents.rules: MANAGE_CELL; a superuser may step in)."""

from django.utils.translation import gettext as _

from incidents import permissions
from incidents.errors import require as refuse_unless
from incidents.models import Incident

MANAGE_CELL_CHANNEL = "manage_cell_channel"

CELL_ACTIONS = (MANAGE_CELL_CHANNEL,)


def available_actions(user, incident: Incident) -> list[str]:
    """The names, in CELL_ACTIONS order, of what this user may do on the incident's
    notification settings now. Uses the incident's prefetched cell when present."""
    return [MANAGE_CELL_CHANNEL] if permissions.can_lead(user, incident) else []


def require_manage_cell_channel(user, incident: Incident) -> None:
    """Raise NotAllowed (403) unless the user may set the cell's chat channel."""
    refuse_unless(
        MANAGE_CELL_CHANNEL in available_actions(user, incident),
        _("Only the lead can set the cell's chat channel."),
    )
