# WebSocket routes. The incident room consumer arrives with the live-collaboration work;
# events are already published to the `incident_<id>` groups (incidents/events.py).
websocket_urlpatterns: list = []
