"""ASGI entry point: HTTP through Django, WebSockets through Channels, and the lifespan
that runs the embedded mode's periodic jobs (crisiscell/scheduler.py)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisiscell.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402

from crisiscell.origin import SameOriginValidator  # noqa: E402
from crisiscell.routing import websocket_urlpatterns  # noqa: E402
from crisiscell.scheduler import lifespan  # noqa: E402


def build_application(http_app=django_asgi_app):
    return ProtocolTypeRouter(
        {
            "http": http_app,
            "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
            # Served with `--lifespan on` (make run): the embedded mode's scheduler.
            "lifespan": lifespan,
        }
    )


application = build_application()
