from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django_htmx.http import trigger_client_event

from . import selectors
from .errors import DomainError, NotAllowed
from .models import Incident


def incident_or_404(request, pk, *, require=None) -> Incident:
    """The incident with its active cell, or 404 when it is not the user's to see: an
    outsider cannot even learn that it exists. `require(user, incident)`: what the page
    asks besides seeing the incident (a rule's check, raising NotAllowed): someone who sees
    it (in its cell, or staff) but is refused gets 403 with the rule's sentence
    (PermissionDenied; the page names the incident's lead, crisiscell.errors), never a 404
    that would tell them the incident they see is not there."""
    try:
        incident = selectors.incident_for_room(request.user, pk)
    except Incident.DoesNotExist:
        raise Http404(_("No incident here, or you are not in its crisis cell.")) from None
    if require is not None:
        try:
            require(request.user, incident)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from None
    return incident


# Every panel of the room refreshes itself on this event (the WebSocket fires it too).
CHANGED = "incident-changed"


# The room shows the message this event carries (static/js/app.js, a toast).
ROOM_MESSAGE = "room-message"


def done(request, incident, message: str, *, notice: str = "", say: bool = False):
    """A form action succeeded: htmx gets an empty 200 that refreshes the room's panels; a
    plain post is redirected back to the room with the message. `notice`: what the person
    must read besides (a warning, or an outcome the panels do not show): with htmx the room
    shows it as a message (ROOM_MESSAGE), otherwise it follows the message. `say`: with
    htmx, show the message too, for an action whose effect is far from the button (a
    playbook's tasks, the status in the header)."""
    if request.htmx:
        response = trigger_client_event(HttpResponse(""), CHANGED)
        said = " ".join(part for part in (message if say else "", notice) if part)
        if said:
            trigger_client_event(response, ROOM_MESSAGE, {"message": said})
        return response
    messages.success(request, message)
    if notice:
        messages.warning(request, notice)
    return redirect("incident-room", pk=incident.pk)


def refused(request, incident, message: str):
    """A form action was refused: htmx gets 422 with the message to show in place."""
    if request.htmx:
        return HttpResponse(format_html('<p class="form-error">{}</p>', message), status=422)
    messages.error(request, message)
    return redirect("incident-room", pk=incident.pk)


def perform(request, incident, success_message, action, /, *, say=False, **kwargs):
    """Run one room action for the requesting user (`action(actor=user, **kwargs)`) and
    answer as `done` (`say`: see there) or, with the action's own message, as `refused`.
    `success_message` may be a callable given the action's result."""
    try:
        result = action(actor=request.user, **kwargs)
    except DomainError as exc:
        return refused(request, incident, exc.message)
    if callable(success_message):
        success_message = success_message(result)
    return done(request, incident, success_message, say=say)
