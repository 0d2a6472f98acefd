from django.contrib import admin, messages

from . import rules
from .models import CrisisPage, CrisisPageTemplate, Subscriber


@admin.register(CrisisPageTemplate)
class CrisisPageTemplateAdmin(admin.ModelAdmin):
    """The dark site a playbook prepares, per language (placeholders as in the playbook's
    statement templates). A text holding {{ next_update_at }} is saved with a warning
    (rules.NEXT_UPDATE_IN_TEMPLATE): it goes stale, but existing templates keep working."""

    list_display = ["playbook", "language"]
    list_filter = ["language"]
    autocomplete_fields = ["playbook"]
    fieldsets = [
        (None, {"fields": ["playbook", "language"]}),
        (
            None,
            {
                "fields": list(rules.TEMPLATE_TEXT_FIELDS),
                "description": rules.NEXT_UPDATE_HELP,
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if rules.holds_next_update(obj):
            messages.warning(request, rules.NEXT_UPDATE_IN_TEMPLATE)


@admin.register(CrisisPage)
class CrisisPageAdmin(admin.ModelAdmin):
    """Read-only: pages change through the room (actions)."""

    list_display = ["slug", "incident", "state", "live_at", "resolved_at"]
    list_filter = ["state"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    """Staff see who subscribed to a page's e-mails; read-only (the public subscribes,
    confirms and unsubscribes through the links)."""

    list_display = [
        "address",
        "page",
        "language",
        "requested_at",
        "confirmed_at",
        "unsubscribed_at",
    ]
    list_filter = ["language", "page"]
    search_fields = ["address"]
    list_select_related = ["page"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
