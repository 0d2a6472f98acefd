from django.urls import re_path

from incidents.consumers import IncidentConsumer, UserConsumer

websocket_urlpatterns = [
    re_path(r"^ws/incidents/(?P<pk>[0-9]{1,18})/$", IncidentConsumer.as_asgi()),
    re_path(r"^ws/me/$", UserConsumer.as_asgi()),
]
