"""What a locked-out sign-in gets (django-axes calls lockout_response, AXES_LOCKOUT_CALLABLE):
the login page again, with "too many attempts, try again in N minutes" (the admin login
too), or JSON {"detail": ...} with 429 and Retry-After for the API."""

import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import ngettext


def cool_off_seconds(request=None) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def lockout_message(request=None) -> str:
    minutes = max(1, math.ceil(cool_off_seconds(request) / 60))
    return ngettext(
        "Too many failed sign-in attempts for this account. Try again in %(n)d minute.",
        "Too many failed sign-in attempts for this account. Try again in %(n)d minutes.",
        minutes,
    ) % {"n": minutes}


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    status = settings.AXES_HTTP_RESPONSE_CODE
    # The API and the sign-in dialog's endpoint (crisiscell/views.py `session`) read JSON.
    if request.path.startswith("/api/") or request.path == reverse("session"):
        response = JsonResponse({"detail": lockout_message(request)}, status=status)
        response["Retry-After"] = str(cool_off_seconds(request))
        return response
    # The login page (also for the admin's login, which then goes back to the admin).
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not next_url and request.path.startswith("/admin/"):
        next_url = "/admin/"
    username = request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {"form": form, "next": next_url, "locked_out": lockout_message(request)}
    return render(request, "registration/login.html", context, status=status)
