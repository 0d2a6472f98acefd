"""Admin: a window on incidents, cells and timelines. Changes that must be logged on the
timeline (status, severity, cell) happen in the incident room, not here."""

from django.contrib import admin

from .models import Incident, Membership, PromotionFreeze, TimelineEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "incident"
    fields = ["user", "role", "added_by", "added_at", "left_at", "removed_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["title", "category", "severity", "status", "declared_at", "declared_by"]
    list_filter = ["status", "severity", "category", "origin"]
    search_fields = ["title", "summary"]
    date_hierarchy = "declared_at"
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["incident", "user", "role", "added_at", "left_at", "added_by"]
    list_filter = ["role", ("left_at", admin.EmptyFieldListFilter)]
    search_fields = ["incident__title", "user__username"]
    list_select_related = ["incident", "user", "added_by"]


@admin.register(PromotionFreeze)
class PromotionFreezeAdmin(ReadOnlyAdmin):
    """Each period of an incident's promotion freeze (set and lifted in the room)."""

    list_display = ["incident", "set_at", "set_by", "lifted_at", "lifted_by"]
    list_select_related = ["incident", "set_by", "lifted_by"]
    search_fields = ["incident__title"]


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyAdmin):
    """Visible, never editable or deletable: the timeline is legal evidence."""

    list_display = ["incident", "seq", "kind", "actor", "occurred_at", "recorded_at", "key_event"]
    list_filter = ["kind", "key_event"]
    search_fields = ["incident__title", "text"]
    list_select_related = ["incident", "actor"]
    ordering = ["incident", "-seq"]
