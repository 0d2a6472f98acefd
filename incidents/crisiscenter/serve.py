"""Serving the public files from settings.CRISIS_CENTER_ROOT in Django (`make run`, or
production without a web server in front serving them itself): no database query, no
session, no CSRF token, ETag and Last-Modified with 304 answers, a Cache-Control a CDN can
follow, a strict Content-Security-Policy. A dark or unknown page has no file: 404."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.utils._os import safe_join
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from .render import PUBLIC_CSP

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
}
FEED_JSON = "application/feed+json"


def _file(path: str) -> Path:
    if path == "" or path.endswith("/"):
        path += "index.html"
    if any(part.startswith(".") for part in path.split("/")):
        raise Http404
    try:
        found = Path(safe_join(settings.CRISIS_CENTER_ROOT, path))
    except (ValueError, SuspiciousFileOperation):  # outside the root ("//etc/passwd")
        raise Http404 from None
    if found.suffix not in TYPES or not found.is_file():
        raise Http404
    return found


def _headers(response, *, etag: str, mtime: float, path: Path) -> None:
    response["ETag"] = etag
    response["Last-Modified"] = http_date(mtime)
    response["Cache-Control"] = settings.CRISIS_CENTER_CACHE_CONTROL
    response["Content-Security-Policy"] = PUBLIC_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if path.suffix in (".atom", ".json"):
        response["Access-Control-Allow-Origin"] = "*"
    response.public_file = True  # crisiscell.middleware.PublicFileMiddleware


@require_safe
def public_file(request, path: str = ""):
    found = _file(path)
    try:
        stat = found.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        content = found.read_bytes()
    except FileNotFoundError:  # replaced between the check and the read: gone
        raise Http404 from None
    modified_since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    match = request.headers.get("If-None-Match")
    if (match is not None and etag in [tag.strip() for tag in match.split(",")]) or (
        match is None and modified_since is not None and int(stat.st_mtime) <= modified_since
    ):
        response = HttpResponseNotModified()
    else:
        kind = FEED_JSON if found.name == "feed.json" else TYPES[found.suffix]
        response = HttpResponse(content, content_type=kind)
    _headers(response, etag=etag, mtime=stat.st_mtime, path=found)
    return response
