from django.http import Http404
from django.utils.translation import gettext as _

from . import selectors
from .models import Incident


def incident_or_404(request, pk) -> Incident:
    """The incident with its active cell, or 404 when it is not the user's to see: an
    outsider cannot even learn that it exists."""
    try:
        return selectors.incident_for_room(request.user, pk)
    except Incident.DoesNotExist:
        raise Http404(_("No incident here, or you are not in its crisis cell.")) from None
