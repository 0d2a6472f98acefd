import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _

from crisiscell.errors import SIGN_IN_HEADER, bad_request, method_not_allowed


class ViewerTimezoneMiddleware:
    """Show times in the viewer's zone: static/js/app.js stores the browser's IANA zone in
    the `tz` cookie; an unknown or missing zone falls back to settings.TIME_ZONE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get("tz", "")
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


class RefuseNulMiddleware:
    """Refuse (400) a NUL character in any query parameter or url-encoded form field, names
    included, before a view passes it to the database: PostgreSQL text cannot hold it and
    psycopg raises (a 500) on `?status=%00`. One place for every filter and form; JSON
    bodies are checked by the API's parser (incidents.api.parsers), and the form and
    serializer fields refuse it in multipart bodies. The answer is errors.bad_request's:
    the app's page (signed in: it runs after the auth middleware), JSON for the API and
    htmx."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            nul = _has_nul(request.GET) or (
                request.content_type == "application/x-www-form-urlencoded"
                and _has_nul(request.POST)
            )
        except (RequestDataTooBig, TooManyFieldsSent) as refused:
            # Read here first: answered as errors.bad_request answers it, also under DEBUG
            # (Django's debug page, HTML, answered the API otherwise; a 500 for a query).
            return bad_request(request, refused)
        if nul:
            return bad_request(
                request,
                detail=_(
                    "What you sent contains an invisible character (NUL, code 0), often "
                    "pasted from another program, that cannot be saved: remove it and send "
                    "again."
                ),
            )
        return self.get_response(request)


def _has_nul(query_dict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in query_dict.lists()
    )


class HtmxSignInMiddleware:
    """An htmx request from someone no longer signed in gets 401 with `X-Sign-In: required`
    instead of the redirect to the login page (which htmx would follow and swap into the
    page): static/js/keep.js shows its sign-in dialog and sends the request again. Other
    requests keep the redirect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code in (301, 302, 303, 307, 308)
            and not request.user.is_authenticated
            and urlsplit(response.get("Location", "")).path == resolve_url(settings.LOGIN_URL)
        ):
            response = JsonResponse(
                {"detail": _("Your session has expired: sign in again.")}, status=401
            )
            response[SIGN_IN_HEADER] = "required"
        return response


class MethodNotAllowedMiddleware:
    """Django has no handler405: a view's empty 405 (require_POST on an address opened in
    a browser) gets errors.method_not_allowed's page or JSON here, for every view at once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405:
            response = method_not_allowed(request, response)
        return response


class PublicFileMiddleware:
    """Public files (the crisis pages, incidents/crisiscenter/serve.py) are the same bytes
    for everyone: outermost, it takes back what the middleware inside added for pages that
    depend on the visitor (`Vary: Accept-Language`, `Vary: Cookie`, the negotiated
    Content-Language), so a CDN keeps one copy per file. Responses mark themselves with
    `public_file = True`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, "public_file", False):
            del response["Vary"]
            del response["Content-Language"]
        return response
