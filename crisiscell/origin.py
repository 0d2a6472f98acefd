"""The WebSocket Origin check (cross-site WebSocket hijacking).

Browsers send cookies with a WebSocket handshake whatever page opens it, and the handshake
is not subject to CORS: the Origin header is the only thing telling our own pages from
another site's. Channels' AllowedHostsOriginValidator compares the Origin's host with
ALLOWED_HOSTS only, so a page served on another port of the same host (another app, a dev
server) was accepted. Here the Origin must be the request's own origin, as Django's CSRF
check wants it for a form: same scheme (https when the socket is wss), same host, same
port, the host being one of ALLOWED_HOSTS; or one of CSRF_TRUSTED_ORIGINS.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin1")
    return ""


def _secure(scope) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        # "HTTP_X_FORWARDED_PROTO" -> b"x-forwarded-proto"
        name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
        return _header(scope, name).split(",")[0].strip() == proxy[1]
    return False


def _trusted(origin: str) -> bool:
    """CSRF_TRUSTED_ORIGINS, with Django's "https://*.example.com" wildcards."""
    parsed = urlsplit(origin)
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if origin == trusted:
            return True
        wanted = urlsplit(trusted)
        wildcard = wanted.scheme == parsed.scheme and "*" in wanted.netloc
        if wildcard and is_same_domain(parsed.netloc, wanted.netloc.replace("*", "", 1)):
            return True
    return False


def origin_allowed(scope) -> bool:
    origin = _header(scope, b"origin")
    if not origin or origin == "null":
        return False
    if _trusted(origin):
        return True
    try:
        parsed = urlsplit(origin)
        origin_port = parsed.port or DEFAULT_PORTS.get(parsed.scheme)
    except ValueError:  # a port that is not a number
        return False
    scheme = "https" if _secure(scope) else "http"
    if parsed.scheme != scheme or not parsed.hostname:
        return False
    host, port = split_domain_port(_header(scope, b"host"))
    if not host or not validate_host(host, settings.ALLOWED_HOSTS):
        return False
    try:
        request_port = int(port) if port else DEFAULT_PORTS[scheme]
    except ValueError:
        return False
    return parsed.hostname.lower() == host and origin_port == request_port


class SameOriginValidator:
    """ASGI middleware: refuse (HTTP 403) a WebSocket handshake from any other origin."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
