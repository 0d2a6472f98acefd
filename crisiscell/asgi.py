"""ASGI entry point: HTTP through Django, WebSockets through Channels (routing grows later)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisiscell.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402

from crisiscell.origin import SameOriginValidator  # noqa: E402
from crisiscell.routing import websocket_urlpatterns  # noqa: E402


def build_application(http_app=django_asgi_app):
    return ProtocolTypeRouter(
        {
            "http": http_app,
            "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )


application = build_application()
