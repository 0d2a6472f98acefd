from django.contrib.auth import views as auth_views

from incidents import events


class LogoutView(auth_views.LogoutView):
    """Logging out also closes the WebSockets this browser session opened."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.session.session_key:
            events.publish_session_ended(request.user.pk, request.session.session_key)
        return super().post(request, *args, **kwargs)
