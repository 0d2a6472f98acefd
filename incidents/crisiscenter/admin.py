from django.contrib import admin

from .models import CrisisPage, CrisisPageTemplate, Subscriber


@admin.register(CrisisPageTemplate)
class CrisisPageTemplateAdmin(admin.ModelAdmin):
    """The dark site a playbook prepares, per language (placeholders as in the playbook's
    statement templates)."""

    list_display = ["playbook", "language"]
    list_filter = ["language"]
    autocomplete_fields = ["playbook"]


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
