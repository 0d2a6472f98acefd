import zoneinfo

from django.utils import timezone
from django.utils.translation import gettext as _

from crisiscell.errors import bad_request


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
    serializer fields refuse it in multipart bodies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request.GET) or (
            request.content_type == "application/x-www-form-urlencoded" and _has_nul(request.POST)
        ):
            return bad_request(
                request,
                detail=_(
                    "A parameter or field contains a NUL character (code 0), which is refused."
                ),
            )
        return self.get_response(request)


def _has_nul(query_dict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in query_dict.lists()
    )
