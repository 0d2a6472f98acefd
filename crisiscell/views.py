from django.contrib import admin
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from incidents import events
from incidents.notifications.actions import message_language_remember


class LoginView(auth_views.LoginView):
    """Signing in also gives the person's messages the language this browser reads the app
    in, when they never chose one (notifications' message_language_remember); the sign-in
    dialog (`session`) does the same."""

    def form_valid(self, form):
        response = super().form_valid(form)
        message_language_remember(actor=form.get_user(), language=translation.get_language())
        return response


def admin_login(request):
    """The admin panel's sign-in (Django's), recording the language as the site's does."""
    was_anonymous = not request.user.is_authenticated
    response = admin.site.login(request)
    if was_anonymous and request.user.is_authenticated:
        message_language_remember(actor=request.user, language=translation.get_language())
    return response


class LogoutView(auth_views.LogoutView):
    """Logging out also closes the WebSockets this browser session opened."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.session.session_key:
            events.publish_session_ended(request.user.pk, request.session.session_key)
        return super().post(request, *args, **kwargs)


def _session_state(request, status=200, **extra):
    user = request.user.pk if request.user.is_authenticated else None
    return JsonResponse({"user": user, "csrf_token": get_token(request), **extra}, status=status)


@never_cache
@sensitive_post_parameters("password")
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def session(request):
    """The sign-in dialog's endpoint (static/js/keep.js), so a page keeps what was typed.

    GET: who is signed in and a fresh CSRF token. POST username + password: sign in through
    the same AuthenticationForm as the login page, so django-axes counts failures and locks
    out the same way (crisiscell/lockout.py answers JSON here); answers with the new token.
    """
    if request.method == "GET":
        return _session_state(request)
    form = AuthenticationForm(request, data=request.POST)
    if not form.is_valid():
        detail = _("Your username and password didn't match. Please try again.")
        return JsonResponse({"detail": detail}, status=400)
    auth_login(request, form.get_user())
    message_language_remember(actor=form.get_user(), language=translation.get_language())
    return _session_state(request)
