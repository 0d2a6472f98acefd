from django.conf import settings
from django.contrib import admin
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from incidents import events
from incidents.notifications.actions import (
    message_language_remember,
    preferences_update,
    preferred_language,
)
from incidents.notifications.views import set_language_cookie


def _signed_in(request, response, user):
    """After a sign-in (the page, the dialog and the admin's): the language this browser
    reads the app in is remembered for the person's messages while they choose none
    (message_language_remember; the next sign-in replaces it, and it stays with this
    browser), and only a language they chose follows them here (the language cookie):
    signed in again elsewhere, a French lead found the app in English; signed in once from
    a French browser, a new user found every browser French for good."""
    message_language_remember(actor=user, language=translation.get_language())
    language = preferred_language(user)
    if language:
        set_language_cookie(response, language)
    return response


class LoginView(auth_views.LoginView):
    def form_valid(self, form):
        return _signed_in(self.request, super().form_valid(form), form.get_user())


@require_POST
def set_language(request):
    """The header's language switch (Django's set_language), which, for someone signed in,
    is also the language of their messages (their notification settings): they switched
    to French and the bell and the e-mails went on in English."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        preferences_update(actor=request.user, language=language)
    return response


def admin_login(request):
    """The admin panel's sign-in (Django's), recording the language as the site's does."""
    was_anonymous = not request.user.is_authenticated
    response = admin.site.login(request)
    if was_anonymous and request.user.is_authenticated:
        return _signed_in(request, response, request.user)
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
    return _signed_in(request, _session_state(request), form.get_user())
