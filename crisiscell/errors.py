"""Error pages: JSON under /api/ (clients parse it), a friendly page elsewhere."""

import html

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import csrf

from crisiscell.contacts import admins_to_ask
from incidents.errors import request_refusal
from incidents.people import display_name

# The header static/js/keep.js recognises: "required" (signed out) or "csrf" (stale token).
SIGN_IN_HEADER = "X-Sign-In"


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """The same page for every page not found, whatever the reason (no such page, or an
    incident the person may not see): its next step (ask whoever sent the link, else the
    administrators, `admins`) says nothing of whether the incident exists."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", {"admins": admins_to_ask()}, status=404)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "Server error. The team has been notified."}, status=500)
    return render(request, "500.html", status=500)


# The pages of one incident, by the start of their route: a refusal there is a matter of
# role in its cell. Each route's `pk` is the id of the model named: the incident's own
# pages, then those of one of its records (a statement, with publishing's "publish on",
# an evidence item, an export), whose incident_id says which. tests/test_refusal_contacts.py
# checks that every page route with an id is here or named there as no incident's.
INCIDENT_ROUTES = (
    ("incidents/<id:pk>/", "incidents.Incident"),
    ("statements/<id:pk>/", "statements.Statement"),
    ("evidence/<id:pk>/", "evidence.EvidenceItem"),
    ("evidence/exports/<id:pk>/", "evidence.EvidenceExport"),
)


def incident_of(match):
    """The incident a resolved page (a ResolverMatch, or None) belongs to, by
    INCIDENT_ROUTES: `(True, incident)`, the incident's id (int) on its own pages, else a
    Subquery of the record's incident_id (read in the query that uses it; no row: NULL,
    which matches no incident), or None when the route's id does not read; `(False, None)`
    for a page of no incident. No query."""
    from django.apps import apps  # once the apps are loaded
    from django.db.models import Subquery

    from incidents.text import parse_id

    route = (match.route or "") if match else ""
    for start, model in INCIDENT_ROUTES:
        if route.startswith(start):
            pk = parse_id(match.kwargs.get("pk"))
            if pk is None or model == "incidents.Incident":
                return True, pk
            rows = apps.get_model(model).objects.filter(pk=pk).values("incident_id")
            return True, Subquery(rows[:1])
    return False, None


def refusal_context(request, exception=None) -> dict:
    """What templates/_refusal.html says, and whom it names: `reason`, the refusal's own
    sentence if it was raised with one (listening is granted by an administrator, an export
    belongs to who asked for it); `in_incident`, on an incident's pages (`incident_of`:
    its statements', evidence's and exports' too); `leads`, that incident's lead(s), for
    someone who may see it (selectors.leads_to_ask: nobody otherwise, not even that it
    exists, or that the statement or item does); else `admins`, the site's administrators
    (admins_to_ask: settings.CRISISCELL_ADMIN_CONTACT, none by default). Read only
    when a refusal is rendered: at most one query."""
    from incidents.selectors import leads_to_ask  # once the apps are loaded

    reason = str(exception) if exception is not None and str(exception) else ""
    in_incident, incident = incident_of(getattr(request, "resolver_match", None))
    leads = []
    user = getattr(request, "user", None)  # none if refused before the middleware set it
    if in_incident and user is not None:
        leads = leads_to_ask(user, incident)
    return {
        "reason": reason,
        "in_incident": in_incident,
        "leads": [display_name(user) for user in leads],
        "admins": [] if in_incident else admins_to_ask(),
    }


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    context = refusal_context(request, exception)
    if request.headers.get("HX-Request") == "true":
        # htmx shows a JSON `detail` as a message (static/js/app.js): the page's sentence,
        # not a whole page, which it could only reduce to "Something went wrong".
        detail = render_to_string("_refusal.html", context, request=request)
        return JsonResponse({"detail": html.unescape(detail.strip())}, status=403)
    return render(request, "403.html", context, status=403)


def method_not_allowed(request, response):
    """A 405 as Django's require_POST and its kin answer it (an empty body, `Allow` saying
    which methods), made readable: a page for a browser that opened a form's address (a
    link, a reload after sending), a sentence as JSON for htmx and the API; the `Allow`
    header kept. An answer that already says something (DRF's JSON) is left as it is, and
    so is a visitor's (the public crisis pages have no app layout to show it in)."""
    user = getattr(request, "user", None)
    if response.status_code != 405 or response.content:
        return response
    if _is_api(request):
        answer = JsonResponse({"detail": "Method not allowed."}, status=405)
    elif user is None or not user.is_authenticated:
        return response
    else:
        match = getattr(request, "resolver_match", None)
        room = None  # the incident the address is one of, to go back to (no query)
        if match and (match.route or "").startswith("incidents/<id:pk>/"):
            room = match.kwargs.get("pk")
        context = {"room": room}
        if request.headers.get("HX-Request") == "true":
            detail = render_to_string("_not_allowed.html", context, request=request)
            answer = JsonResponse({"detail": html.unescape(detail.strip())}, status=405)
        else:
            answer = render(request, "405.html", context, status=405)
    if "Allow" in response:
        answer["Allow"] = response["Allow"]
    return answer


def bad_request(request, exception=None, detail=None):
    """Requests Django refuses before any view runs (e.g. far too many files at once): 400
    with a sentence, or 413 for a body past DATA_UPLOAD_MAX_MEMORY_SIZE (form and JSON
    bodies; files have their own limits). The public crisis pages' writes (subscribing,
    a mail's links) answer with the public pages' own message page instead."""
    from incidents.crisiscenter import subscribe  # imported once the apps are loaded

    if subscribe.answers_publicly(request):
        # The public crisis pages' writes answer with their own page: no app chrome.
        return subscribe.refused_body(request, too_large=isinstance(exception, RequestDataTooBig))
    status = 400
    if detail is None:
        status, detail = request_refusal(exception)
    # htmx shows a JSON `detail` as a message (static/js/app.js), not a page's whole text.
    if _is_api(request) or request.headers.get("HX-Request") == "true":
        return JsonResponse({"detail": detail}, status=status)
    return render(request, "400.html", {"detail": detail}, status=status)


def csrf_failure(request, reason=""):
    """A refused CSRF token (CSRF_FAILURE_VIEW). Usually a tab opened before signing in
    again elsewhere (the token rotates at each sign-in): htmx and scripts get JSON and
    `X-Sign-In: csrf`, so static/js/keep.js fetches a fresh token and sends the request again
    without losing what was typed; a page gets Django's explanation."""
    wants_json = (
        _is_api(request)
        or request.headers.get("HX-Request") == "true"
        or "application/json" in request.headers.get("Accept", "")
    )
    if not wants_json:
        return csrf.csrf_failure(request, reason=reason)
    response = JsonResponse(
        {"detail": _("Your page was out of date: sign in again or reload the page.")}, status=403
    )
    response[SIGN_IN_HEADER] = "csrf"
    return response
