import zoneinfo

from django.utils import timezone


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
