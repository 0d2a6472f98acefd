"""The outbox in the admin: read-only (a message is written by the action that caused it
and moved on by the workers), with "Retry now" for failed and pending messages. The
recipient is shown by its label or masked: an Apprise URL often holds a token."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from incidents.admin import ReadOnlyAdmin
from incidents.errors import NotAllowed

from . import actions, rules
from .models import OutboundMessage


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "channel",
        "shown_recipient",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
        "incident",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["incident"]
    # Not `recipient`: a search must not reveal what the masked column hides.
    search_fields = ["recipient_label", "subject", "key", "last_error", "incident__title"]
    date_hierarchy = "created_at"
    fields = [
        "key",
        "channel",
        "shown_recipient",
        "user",
        "sender",
        "incident",
        "subject",
        "body",
        "status",
        "attempts",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    readonly_fields = fields
    actions = ["retry_now"]

    @admin.display(description=_("recipient"))
    def shown_recipient(self, message):
        return message.shown_recipient

    @admin.display(description=_("last error"))
    def short_error(self, message):
        error = message.last_error
        return error if len(error) <= 120 else error[:119] + "…"

    def has_view_permission(self, request, obj=None):
        return rules.can_watch_outbox(request.user) and super().has_view_permission(request, obj)

    def has_retry_permission(self, request):
        return rules.can_retry_messages(request.user)

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        try:
            count = actions.messages_retry(
                actor=request.user, ids=list(queryset.values_list("pk", flat=True))
            )
        except NotAllowed as refused:
            raise PermissionDenied(refused.message) from None
        self.message_user(
            request,
            ngettext(
                "%(count)d message will be sent again now (sent ones and those being sent are "
                "left alone).",
                "%(count)d messages will be sent again now (sent ones and those being sent are "
                "left alone).",
                count,
            )
            % {"count": count},
        )
