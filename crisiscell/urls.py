from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crisiscell.converters import IdConverter
from crisiscell.errors import not_found
from crisiscell.views import LoginView, LogoutView, admin_login, session, set_language

register_converter(IdConverter, "id")

urlpatterns = [
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("accounts/session/", session, name="session"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/login/", admin_login),  # before the admin's own: see admin_login
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's settings as a script file: no inline script (CSP);
    # its page keeps a small inline <style>, allowed there only.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    # Each app's routes; the project is where the layered apps are put together.
    path("api/", include("incidents.api.urls")),
    path("api/", include("incidents.notifications.api_urls")),
    path("api/", include("incidents.listening.api_urls")),
    path("api/", include("statements.api.urls")),
    path("api/", include("incidents.publishing.api_urls")),
    path("api/", include("incidents.replies.api_urls")),
    path("api/", include("incidents.evidence.api_urls")),
    path("api/", include("incidents.playbooks.api_urls")),
    path("api/", include("incidents.postmortems.api_urls")),
    path("api/", include("incidents.crisiscenter.api_urls")),
    path("", include("incidents.urls")),
    path("", include("incidents.notifications.urls")),
    path("", include("incidents.outbox.urls")),
    path("", include("statements.urls")),
    path("", include("incidents.publishing.urls")),
    path("", include("incidents.replies.urls")),
    path("", include("incidents.evidence.urls")),
    path("", include("incidents.playbooks.urls")),
    path("", include("incidents.crisiscenter.urls")),
    path("", include("incidents.listening.urls")),
    path("", include("incidents.postmortems.urls")),
    path("", include("incidents.integrity.urls")),
    # Any other API path (an id too long for the `id` converter, a typo): the API's JSON
    # 404, whatever DEBUG says (with DEBUG on, Django answers an unknown path with its HTML
    # page, not handler404). Paths ending in "/" only: "/api/x" still gets its slash.
    # Exempt from CSRF: it only says 404, and a token client's POST there must not read
    # "sign in again" (the CSRF failure page).
    re_path(r"^api/.*/$", csrf_exempt(not_found)),
]

handler400 = "crisiscell.errors.bad_request"
handler404 = "crisiscell.errors.not_found"
handler403 = "crisiscell.errors.permission_denied"
handler500 = "crisiscell.errors.server_error"
