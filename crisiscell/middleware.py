import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.translation import gettext

# The header static/js/keep.js recognises: "required" (signed out) or "csrf" (stale token).
SIGN_IN_HEADER = "X-Sign-In"


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
                {"detail": gettext("Your session has expired: sign in again.")}, status=401
            )
            response[SIGN_IN_HEADER] = "required"
        return response
