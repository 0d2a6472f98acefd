from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from incidents.admin import ReadOnlyAdmin

from .models import ChatTarget, Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "subject", "incident", "created_at", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "incident"]
    search_fields = ["user__username", "subject"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    """What each person chose; they change it themselves (/notifications/settings/)."""

    list_display = ["user", "quiet_when_looking", "language", "browser_language", "updated_at"]
    fields = ["user", "email_off", "chat_off", "quiet_when_looking", "language"]
    fields += ["browser_language", "updated_at"]
    readonly_fields = fields
    list_select_related = ["user"]
    search_fields = ["user__username"]


@admin.register(ChatTarget)
class ChatTargetAdmin(ReadOnlyAdmin):
    """Chat addresses, masked: the URL holds a token and is never shown, even to staff.
    Staff may delete one (a leaked or abandoned webhook); owners add them."""

    list_display = ["label", "service", "masked_address", "user", "incident", "created_at"]
    fields = ["label", "service", "masked_address", "user", "incident", "created_by"]
    fields += ["created_at"]
    readonly_fields = fields
    list_select_related = ["user", "incident"]
    search_fields = ["label", "user__username"]

    @admin.display(description=_("chat address"))
    def masked_address(self, target):
        return target.masked

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
