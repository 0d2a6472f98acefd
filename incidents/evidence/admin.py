"""Admin: evidence is visible to staff, never editable or deletable (legal proof)."""

from django.contrib import admin

from incidents.admin import ReadOnlyAdmin

from .models import CaptureJob, CustodyEvent, EvidenceExport, EvidenceItem


class CustodyInline(admin.TabularInline):
    model = CustodyEvent
    fields = ["seq", "action", "actor", "at", "detail", "hash"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(EvidenceItem)
class EvidenceItemAdmin(ReadOnlyAdmin):
    """Evidence is proof: the admin shows it and never changes or deletes it."""

    list_display = [
        "__str__",
        "incident",
        "kind",
        "source",
        "author_handle",
        "captured_at",
        "sha256",
    ]
    list_filter = ["kind", "source", "platform"]
    list_select_related = ["incident"]
    search_fields = ["sha256", "author_handle", "author_name", "source_url", "description"]
    date_hierarchy = "captured_at"
    inlines = [CustodyInline]


@admin.register(CaptureJob)
class CaptureJobAdmin(ReadOnlyAdmin):
    list_display = ["url", "incident", "status", "requested_by", "requested_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["incident", "requested_by"]


@admin.register(EvidenceExport)
class EvidenceExportAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "incident",
        "status",
        "item_count",
        "requested_by",
        "requested_at",
        "finished_at",
    ]
    list_filter = ["status"]
    list_select_related = ["incident", "requested_by"]
    exclude = ["items"]  # thousands of rows; the manifest and the custody list them
