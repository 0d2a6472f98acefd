"""Error pages: JSON under /api/ (clients parse it), a friendly page elsewhere."""

import html

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import csrf

from incidents.errors import request_refusal

# The header static/js/keep.js recognises: "required" (signed out) or "csrf" (stale token).
SIGN_IN_HEADER = "X-Sign-In"


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "Server error. The team has been notified."}, status=500)
    return render(request, "500.html", status=500)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    # A refusal raised with a sentence says why (listening is granted by an administrator,
    # an export belongs to who asked for it); a bare one gets the page's general text.
    reason = str(exception) if exception is not None and str(exception) else ""
    if request.headers.get("HX-Request") == "true":
        # htmx shows a JSON `detail` as a message (static/js/app.js): the page's sentence,
        # not a whole page, which it could only reduce to "Something went wrong".
        detail = render_to_string("_refusal.html", {"reason": reason}, request=request)
        return JsonResponse({"detail": html.unescape(detail.strip())}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


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
