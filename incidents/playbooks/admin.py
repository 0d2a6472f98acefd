"""Playbook authoring in the admin panel: a playbook with its checklist steps, statement
templates, approval policies by severity and contacts on one page; a preview of the
templates filled in for a sample incident; JSON export and import; a review reminder.

This module holds the ModelAdmin classes and the registration; their forms are in
`admin_forms`, their own pages (preview, export, import) in `admin_views`. Django
discovers it as the playbooks app's admin module. docs/playbooks.md is the editors' guide to
these pages.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from incidents.admin import ReadOnlyAdmin
from incidents.choices import AuthorType
from incidents.errors import NotAllowed
from incidents.models import Category, Severity

from . import actions, admin_views, portable
from .admin_forms import (
    AdviceForm,
    AdviceFormSet,
    ContactForm,
    PlaybookForm,
    PolicyForm,
    PolicyFormSet,
    StepForm,
    TemplateForm,
)
from .models import (
    REVIEW_EVERY,
    AppliedPlaybook,
    Contact,
    Playbook,
    PlaybookAdvice,
    PlaybookPolicy,
    PlaybookStep,
    StatementTemplate,
    Task,
)

# --- Inlines --------------------------------------------------------------------------------


class PlaybookStepInline(admin.StackedInline):
    model = PlaybookStep
    form = StepForm
    extra = 0
    fields = [
        ("order", "title"),
        ("role", "due_minutes", "repeat_minutes"),
        "completes_on",
        "guidance",
    ]


class StatementTemplateInline(admin.StackedInline):
    model = StatementTemplate
    form = TemplateForm
    extra = 0
    fields = [("order", "name"), ("kind", "channel", "language", "author_type"), "text", "preview"]
    readonly_fields = ["preview"]

    @admin.display(description=_("preview"))
    def preview(self, template):
        if template.pk is None:
            return gettext("Save the playbook to preview this template.")
        url = reverse("admin:playbooks_playbook_preview", args=[template.playbook_id])
        return format_html(
            '<a href="{}#template-{}">{}</a>',
            url,
            template.pk,
            gettext("Preview with a sample incident"),
        )


class PlaybookPolicyInline(admin.TabularInline):
    model = PlaybookPolicy
    form = PolicyForm
    formset = PolicyFormSet
    extra = 0
    max_num = len(Severity)
    fields = ["severity", "policy"]

    def get_queryset(self, request):
        # Each row shows its str(), which names the policy.
        return super().get_queryset(request).select_related("policy")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "policy":
            # Every row would otherwise query the policies for its own select.
            formfield.choices = list(formfield.choices)
        return formfield


class ContactInline(admin.StackedInline):
    model = Contact
    form = ContactForm
    extra = 0
    fields = [
        ("kind", "order"),
        ("name", "role_title"),
        ("phone", "email"),
        ("role", "function"),
        ("backup", "backup_email"),
        ("handle", "platform", "audience"),
        "language",
        "notes",
    ]


class PlaybookAdviceInline(admin.TabularInline):
    """The reply queue's handling advice per author type, in this playbook's words."""

    model = PlaybookAdvice
    form = AdviceForm
    formset = AdviceFormSet
    extra = 0
    max_num = len(AuthorType)
    fields = ["author_type", "text_en", "text_fr"]
    verbose_name_plural = _("handling advice in the reply queue (blank: the default advice)")


# --- List: scope and review ---------------------------------------------------------------


def scope_text(playbook) -> str:
    """'Product, Rumour / fake · severity 2 to 4', in the active language."""
    if playbook.categories:
        categories = ", ".join(
            str(Category(value).label) if value in Category.values else value
            for value in playbook.categories
        )
    else:
        categories = gettext("All categories")
    low, high = playbook.min_severity, playbook.max_severity
    if (low, high) == (min(Severity.values), max(Severity.values)):
        severity = gettext("any severity")
    elif low == high:
        severity = gettext("severity %(level)s only") % {"level": low}
    else:
        severity = gettext("severity %(low)s to %(high)s") % {"low": low, "high": high}
    return f"{categories} · {severity}"


def stale_review() -> Q:
    """The database side of Playbook.needs_review()."""
    return Q(last_reviewed_on__isnull=True) | Q(
        last_reviewed_on__lt=timezone.localdate() - REVIEW_EVERY
    )


class ReviewFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("due", _("Review due")), ("ok", _("Up to date"))]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return queryset.filter(stale_review())
        if self.value() == "ok":
            return queryset.exclude(stale_review())
        return queryset


# --- The playbook admin ---------------------------------------------------------------------


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    form = PlaybookForm
    list_display = ["name", "scope", "version", "last_reviewed_on", "review", "is_active"]
    list_filter = [ReviewFilter, "is_active"]
    search_fields = ["name", "description", "brand"]
    readonly_fields = ["review", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "description", "brand", "is_active"]}),
        (_("When it applies"), {"fields": ["categories", ("min_severity", "max_severity")]}),
        (_("Review"), {"fields": [("version", "last_reviewed_on"), "review", "updated_at"]}),
    ]
    inlines = [
        PlaybookStepInline,
        StatementTemplateInline,
        PlaybookPolicyInline,
        ContactInline,
        PlaybookAdviceInline,
    ]
    actions = ["export_json", "mark_reviewed", "mark_reviewed_new_version"]
    save_on_top = True
    save_as = True
    change_list_template = "admin/playbooks/change_list.html"
    change_form_template = "admin/playbooks/change_form.html"

    @admin.display(description=_("scope"))
    def scope(self, playbook):
        return scope_text(playbook)

    @admin.display(description=_("review"), ordering="last_reviewed_on")
    def review(self, playbook):
        if playbook is None or playbook.pk is None:
            return "—"
        if not playbook.needs_review():
            return gettext("Up to date")
        if playbook.last_reviewed_on is None:
            why = gettext("never reviewed")
        else:
            why = gettext("last reviewed over 6 months ago")
        return format_html(
            '<strong class="playbook-review-due">⚠ {}</strong> ({})', gettext("Review due"), why
        )

    # --- URLs

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="{}_{}_import".format(*info)),
            path(
                "<path:object_id>/preview/",
                wrap(self.preview_view),
                name="{}_{}_preview".format(*info),
            ),
            path(
                "<path:object_id>/export/",
                wrap(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id):
        return admin_views.preview_view(self, request, object_id)

    def export_view(self, request, object_id):
        return admin_views.export_view(self, request, object_id)

    def import_view(self, request):
        return admin_views.import_view(self, request)

    # --- Actions

    @admin.action(description=_("Export selected as JSON"), permissions=["view"])
    def export_json(self, request, queryset):
        playbooks = list(queryset.order_by("name"))
        if len(playbooks) == 1:
            return admin_views.json_download(
                portable.export_playbook(playbooks[0]), admin_views.export_filename(playbooks[0])
            )
        return admin_views.json_download(portable.export_playbooks(playbooks), "playbooks.json")

    @admin.action(description=_("Mark as reviewed today"), permissions=["change"])
    def mark_reviewed(self, request, queryset):
        self._mark_reviewed(request, queryset, new_version=False)

    @admin.action(
        description=_("Mark as reviewed today, as a new version (+1)"), permissions=["change"]
    )
    def mark_reviewed_new_version(self, request, queryset):
        self._mark_reviewed(request, queryset, new_version=True)

    def _mark_reviewed(self, request, queryset, *, new_version):
        try:
            reviewed = actions.playbooks_mark_reviewed(
                actor=request.user, playbooks=queryset, new_version=new_version
            )
        except NotAllowed as refused:
            raise PermissionDenied(refused.message) from None
        self.message_user(
            request,
            ngettext(
                "%(count)d playbook marked as reviewed today.",
                "%(count)d playbooks marked as reviewed today.",
                len(reviewed),
            )
            % {"count": len(reviewed)},
        )


# The incident side is written by the cell in the incident room; the admin only shows it.


@admin.register(AppliedPlaybook)
class AppliedPlaybookAdmin(ReadOnlyAdmin):
    list_display = ["incident", "name", "version", "brand", "applied_by", "applied_at"]
    list_select_related = ["incident", "applied_by"]
    search_fields = ["incident__title", "name"]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "incident",
        "role",
        "due_at",
        "status",
        "completes_on",
        "assignee",
        "completed_at",
    ]
    list_filter = ["status", "role"]
    list_select_related = ["incident", "assignee"]
    search_fields = ["title", "incident__title"]
