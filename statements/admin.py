"""Approval policies are prepared here; statements, revisions and reviews are records and
only visible (they change through the workflow, never by hand)."""

from django.contrib import admin

from incidents.admin import ReadOnlyAdmin

from . import actions
from .models import (
    ApprovalPolicy,
    ApprovalRequirement,
    Escalation,
    IncidentPolicy,
    Review,
    Revision,
    Statement,
    TemplatePreapproval,
)


class ApprovalRequirementInline(admin.TabularInline):
    model = ApprovalRequirement
    extra = 1
    fields = ["step", "function", "deadline_minutes"]


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "mode", "allow_lead_publish", "is_default"]
    list_filter = ["mode", "is_default"]
    search_fields = ["name", "description"]
    inlines = [ApprovalRequirementInline]

    def has_delete_permission(self, request, obj=None):
        # Statements keep a reference to the policy they were reviewed under.
        return obj is None or not Statement.objects.filter(policy=obj).exists()

    def save_related(self, request, form, formsets, change):
        """Statements in review follow the edited requirements at once: their leads are
        told when the change leaves one waiting on nobody."""
        before = actions.approval_policy_before_edit(form.instance) if change else None
        super().save_related(request, form, formsets, change)
        if before is not None:
            actions.approval_policy_edited(policy=form.instance, actor=request.user, before=before)


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ["number", "author", "created_at", "content_hash", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReviewInline(RevisionInline):
    model = Review
    fields = ["revision", "reviewer", "function", "decision", "comment", "created_at"]
    readonly_fields = fields


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "incident", "kind", "channel", "status", "revision", "author"]
    list_filter = ["status", "kind", "channel", "language"]
    search_fields = ["title", "text", "incident__title"]
    list_select_related = ["incident", "author"]
    inlines = [RevisionInline, ReviewInline]


@admin.register(IncidentPolicy)
class IncidentPolicyAdmin(ReadOnlyAdmin):
    """Which approval policy each incident's statements follow (set by its playbook)."""

    list_display = ["incident", "policy", "preapproved_replies", "set_by", "set_at"]
    list_select_related = ["incident", "policy", "set_by"]
    search_fields = ["incident__title"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    """Approval steps that passed their deadline, and whom the sweep alerted."""

    list_display = ["statement", "revision", "step", "functions", "deadline_at", "escalated_at"]
    list_select_related = ["statement"]
    search_fields = ["statement__title", "statement__incident__title"]


@admin.register(TemplatePreapproval)
class TemplatePreapprovalAdmin(ReadOnlyAdmin):
    """Reply templates approved in advance: who signed which exact text (its SHA-256), when,
    and any withdrawal. Given and withdrawn from the reply queue's templates page or API."""

    list_display = [
        "template_name",
        "incident",
        "approver",
        "function",
        "approved_at",
        "withdrawn_at",
    ]
    list_filter = ["function"]
    list_select_related = ["incident", "approver"]
    search_fields = ["template_name", "incident__title", "text"]
