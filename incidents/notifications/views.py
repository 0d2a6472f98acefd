"""The notifications page, the bell (refreshed live), "mark all as read", each person's
preference page (events, channels, quiet when looking, the language of their messages and
why it is that one, their chat addresses) and an incident's cell channel page (its lead
sets the chat channel that hears every hand-off).

Thin: forms validate, one action writes, the page shows its message. A person's chat
targets are looked up among their own only, so someone else's is a 404."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from incidents.errors import DomainError
from incidents.shortcuts import incident_or_404

from . import actions, rules, selectors
from .choices import NotificationKind
from .forms import ChatTargetForm, PreferencesForm
from .messages import language_of
from .models import (
    MAX_CELL_TARGETS,
    MAX_PERSONAL_TARGETS,
    Notification,
    NotificationPreference,
)

PAGE_SIZE = 30


@login_required
@require_GET
def notifications(request):
    page = Paginator(selectors.notifications_of(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_GET
def bell(request):
    return render(request, "notifications/_bell.html")


@login_required
@require_GET
def notification_open(request, pk):
    """Follow one of my notifications: it is read (opening "Published …" left it unread
    until "Mark all as read"), then its page. Another person's is a 404."""
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    actions.notifications_mark_read(user=request.user, ids=[notification.pk])
    if url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()}):
        return redirect(notification.url)
    return redirect("notifications")


@login_required
@require_POST
def notifications_read(request):
    actions.notifications_mark_read(user=request.user)
    return redirect("notifications")


# --- One person's preferences --------------------------------------------------------------


def _initial(preference: NotificationPreference) -> dict:
    every = NotificationKind.values
    return {
        "email_kinds": [k for k in every if preference.wants(k, actions.EMAIL)],
        "chat_kinds": [k for k in every if preference.wants(k, actions.CHAT)],
        "quiet_when_looking": preference.quiet_when_looking,
        # "" until they choose: "Follow my browser" (saving the page keeps it so).
        "language": preference.language,
    }


def _message_language(preference: NotificationPreference) -> dict:
    """What the page says of the language the messages go in now: its name and why it is
    that one ("chosen", "browser": the last sign-in's, "site": the site's)."""
    code = language_of(preference)
    if preference.language:
        source = "chosen"
    elif preference.browser_language:
        source = "browser"
    else:
        source = "site"
    return {"name": dict(settings.LANGUAGES).get(code, code), "source": source}


def _settings_page(request, form=None, target_form=None, status=200):
    preference = selectors.preferences_of(request.user)
    form = form or PreferencesForm(initial=_initial(preference))
    targets = list(selectors.chat_targets_of(request.user))
    rows = [
        {
            "kind": kind,
            "label": label,
            "email": kind in (form["email_kinds"].value() or []),
            "chat": kind in (form["chat_kinds"].value() or []),
            # A failure notice never goes by chat: the failing channel may be a chat one.
            "by_chat": kind != NotificationKind.DELIVERY_FAILED,
        }
        for kind, label in NotificationKind.choices
    ]
    context = {
        "form": form,
        "rows": rows,
        "targets": targets,
        "target_form": target_form or ChatTargetForm(),
        "may_add_target": len(targets) < MAX_PERSONAL_TARGETS,
        "max_targets": MAX_PERSONAL_TARGETS,
        "message_language": _message_language(preference),
    }
    return render(request, "notifications/settings.html", context, status=status)


def set_language_cookie(response, language: str):
    """The browser's language cookie for a person's chosen language ("" none chosen: the
    cookie goes, and the pages follow the browser's Accept-Language again). The sign-in
    and the settings page both set it, so pages and messages agree at once."""
    if not language:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


@login_required
def notification_settings(request):
    """GET the page; POST the preference form (the chat addresses have their own forms)."""
    if request.method != "POST":
        return _settings_page(request)
    form = PreferencesForm(request.POST)
    if form.is_valid():
        try:
            actions.preferences_update(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your notification settings are saved."))
            response = redirect("notification-settings")
            if form.cleaned_data.get("language") is not None:
                # The pages follow at once (Follow my browser: the browser's own again).
                set_language_cookie(response, form.cleaned_data["language"])
            return response
    return _settings_page(request, form=form, status=400)


@login_required
@require_POST
def chat_target_add(request):
    form = ChatTargetForm(request.POST)
    if form.is_valid():
        try:
            actions.chat_target_add(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error("url", exc.message)
        else:
            messages.success(request, _("Chat address added. Send a test to check it."))
            return redirect("notification-settings")
    return _settings_page(request, target_form=form, status=400)


def _test_sent(target) -> str:
    return _(
        "A test message to “%(label)s” is on its way. If it does not arrive, the bell will say why."
    ) % {"label": target.label}


def _own_target(request, pk):
    return get_object_or_404(selectors.chat_targets_of(request.user), pk=pk)


@login_required
@require_POST
def chat_target_remove(request, pk):
    target = _own_target(request, pk)
    actions.chat_target_remove(actor=request.user, target=target)
    messages.success(request, _("Chat address “%(label)s” removed.") % {"label": target.label})
    return redirect("notification-settings")


@login_required
@require_POST
def chat_target_test(request, pk):
    target = _own_target(request, pk)
    actions.chat_target_test(actor=request.user, target=target)
    messages.success(request, _test_sent(target))
    return redirect("notification-settings")


# --- The cell's chat channel ----------------------------------------------------------------


def _cell_page(request, incident, form=None, status=200):
    channels = list(selectors.cell_channels(incident))
    available = rules.available_actions(request.user, incident)
    context = {
        "incident": incident,
        "channels": channels,
        "available_actions": available,
        "form": form or ChatTargetForm(),
        "may_add": rules.MANAGE_CELL_CHANNEL in available and len(channels) < MAX_CELL_TARGETS,
        "max_channels": MAX_CELL_TARGETS,
    }
    return render(request, "notifications/cell.html", context, status=status)


@login_required
def incident_notifications(request, pk):
    """The cell's chat channels: every member (and staff) sees them, masked; the lead adds
    (POST), tests and removes them."""
    incident = incident_or_404(request, pk)
    if request.method != "POST":
        return _cell_page(request, incident)
    form = ChatTargetForm(request.POST)
    if form.is_valid():
        try:
            actions.chat_target_add(actor=request.user, incident=incident, **form.cleaned_data)
        except DomainError as exc:
            if exc.status_code == 403:
                return _refused(request, incident, exc.message)
            form.add_error("url", exc.message)
        else:
            messages.success(request, _("The cell's chat channel is added."))
            return redirect("incident-notifications", pk=incident.pk)
    return _cell_page(request, incident, form=form, status=400)


def _refused(request, incident, message):
    messages.error(request, message)
    return redirect("incident-notifications", pk=incident.pk)


def _cell_target(incident, target_pk):
    return get_object_or_404(selectors.cell_channels(incident), pk=target_pk)


@login_required
@require_POST
def incident_channel_remove(request, pk, target):
    incident = incident_or_404(request, pk)
    channel = _cell_target(incident, target)
    try:
        actions.chat_target_remove(actor=request.user, target=channel)
    except DomainError as exc:
        return _refused(request, incident, exc.message)
    messages.success(request, _("Chat channel “%(label)s” removed.") % {"label": channel.label})
    return redirect("incident-notifications", pk=incident.pk)


@login_required
@require_POST
def incident_channel_test(request, pk, target):
    incident = incident_or_404(request, pk)
    channel = _cell_target(incident, target)
    try:
        actions.chat_target_test(actor=request.user, target=channel)
    except DomainError as exc:
        return _refused(request, incident, exc.message)
    messages.success(request, _test_sent(channel))
    return redirect("incident-notifications", pk=incident.pk)
