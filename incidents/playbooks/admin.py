"""Playbook authoring in the admin panel: a playbook with its checklist steps, statement
templates, approval policies by severity and contacts on one page; a preview of the
templates filled in for a sample incident; JSON export and import; a review reminder.

Registered by `incidents/admin.py`, which imports this module. docs/playbooks.md is the
editors' guide to these pages.
"""

import json
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from incidents.errors import InvalidInput, NotAllowed
from incidents.models import Category, Incident, Origin, Severity
from statements.models import CHANNEL_LIMITS

from . import actions, portable, validation
from .models import REVIEW_EVERY, Contact, Playbook, PlaybookPolicy, PlaybookStep, StatementTemplate
from .templating import render_template, values_for

SAMPLE_TITLE = _("Sample: product recall rumour")
SAMPLE_PLATFORMS = ["x", "instagram"]

# --- Forms: the checks of validation.py, shown next to the field concerned ------------------


class PlaybookForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        label=_("incident categories"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick none if the playbook suits every category."),
        error_messages={"invalid_choice": _("“%(value)s” is not an incident category.")},
    )

    class Meta:
        model = Playbook
        fields = portable.PLAYBOOK_FIELDS

    def clean_categories(self):
        chosen = self.cleaned_data["categories"]
        return [value for value in Category.values if value in chosen]

    def clean(self):
        cleaned = super().clean()
        problem = validation.severity_range_error(
            cleaned.get("min_severity"), cleaned.get("max_severity")
        )
        if problem:
            self.add_error("max_severity", problem)
        return cleaned


class StepForm(forms.ModelForm):
    class Meta:
        model = PlaybookStep
        fields = portable.SECTIONS["steps"][1]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 4, "cols": 80})}
        help_texts = {
            "guidance": _(
                "Markdown: **bold**, *italic*, lists with “- ” at the start of each line, "
                "links as [text](https://…)."
            ),
        }

    def clean_due_minutes(self):
        minutes = self.cleaned_data.get("due_minutes")
        problem = validation.due_minutes_error(minutes)
        if problem:
            raise forms.ValidationError(problem)
        return minutes

    def clean_repeat_minutes(self):
        minutes = self.cleaned_data.get("repeat_minutes")
        problem = validation.repeat_minutes_error(minutes)
        if problem:
            raise forms.ValidationError(problem)
        return minutes


class TemplateForm(forms.ModelForm):
    class Meta:
        model = StatementTemplate
        fields = portable.SECTIONS["templates"][1]
        widgets = {"text": forms.Textarea(attrs={"rows": 5, "cols": 80})}

    def clean_text(self):
        text = self.cleaned_data.get("text")
        problem = validation.template_text_error(text)
        if problem:
            raise forms.ValidationError(problem)
        return text


class PolicyForm(forms.ModelForm):
    class Meta:
        model = PlaybookPolicy
        fields = portable.POLICY_KEYS
        error_messages = {
            NON_FIELD_ERRORS: {
                "unique_together": _(
                    "This severity already has an approval policy in this playbook: keep one."
                )
            }
        }


class PolicyFormSet(BaseInlineFormSet):
    def clean(self):
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            severity = form.cleaned_data.get("severity")
            if severity is None:
                continue
            if severity in seen:
                form.add_error("severity", validation.duplicate_severity_error(severity))
            seen.add(severity)
        super().clean()


# --- Inlines --------------------------------------------------------------------------------


class PlaybookStepInline(admin.StackedInline):
    model = PlaybookStep
    form = StepForm
    extra = 0
    fields = [("order", "title"), ("role", "due_minutes", "repeat_minutes"), "guidance"]


class StatementTemplateInline(admin.StackedInline):
    model = StatementTemplate
    form = TemplateForm
    extra = 0
    fields = [("order", "name"), ("kind", "channel", "language"), "text", "preview"]
    readonly_fields = ["preview"]

    @admin.display(description=_("preview"))
    def preview(self, template):
        if template.pk is None:
            return gettext("Save the playbook to preview this template.")
        url = reverse("admin:incidents_playbook_preview", args=[template.playbook_id])
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


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = portable.SECTIONS["contacts"][1]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2, "cols": 80})}


class ContactInline(admin.StackedInline):
    model = Contact
    form = ContactForm
    extra = 0
    fields = [
        ("kind", "order"),
        ("name", "role_title"),
        ("phone", "email", "backup"),
        ("handle", "platform", "audience"),
        "language",
        "notes",
    ]


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


# --- Preview ------------------------------------------------------------------------------


@dataclass
class TemplatePreview:
    template: StatementTemplate
    text: str | None
    error: str | None
    limit: int | None

    @property
    def length(self) -> int:
        return len(self.text or "")

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.length > self.limit


def sample_incident(now, *, language: str) -> Incident:
    """An unsaved incident to fill the templates with; never written anywhere."""
    with translation.override(language):
        title = str(SAMPLE_TITLE)
    return Incident(
        title=title,
        category=Category.RUMOUR,
        origin=Origin.ONLINE,
        platforms=SAMPLE_PLATFORMS,
        severity=Severity.HIGH,
        declared_at=now,
    )


def preview_templates(playbook, *, now) -> list[TemplatePreview]:
    previews = []
    for template in playbook.templates.all():
        values = values_for(
            sample_incident(now, language=template.language),
            brand=playbook.brand,
            language=template.language,
            next_update_at=now + timedelta(hours=1),
        )
        try:
            text, error = render_template(template.text, values), None
        except InvalidInput as problem:
            text, error = None, problem.message
        previews.append(
            TemplatePreview(template, text, error, CHANNEL_LIMITS.get(template.channel))
        )
    return previews


# --- Downloads ------------------------------------------------------------------------------


def json_download(data, filename: str) -> HttpResponse:
    response = HttpResponse(portable.dumps(data), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def export_filename(playbook) -> str:
    return f"playbook-{slugify(playbook.name) or playbook.pk}.json"


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
    inlines = [PlaybookStepInline, StatementTemplateInline, PlaybookPolicyInline, ContactInline]
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

    def _viewable(self, request, object_id):
        playbook = self.get_object(request, unquote(object_id))
        if playbook is not None and not self.has_view_or_change_permission(request, playbook):
            raise PermissionDenied
        return playbook

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    # --- Preview and export of one playbook

    def preview_view(self, request, object_id):
        playbook = self._viewable(request, object_id)
        if playbook is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        context = self._context(
            request,
            title=gettext("Templates of “%(name)s” with a sample incident")
            % {"name": playbook.name},
            original=playbook,
            previews=preview_templates(playbook, now=timezone.now()),
            sample_title=str(SAMPLE_TITLE),
        )
        return TemplateResponse(request, "admin/playbooks/preview.html", context)

    def export_view(self, request, object_id):
        playbook = self._viewable(request, object_id)
        if playbook is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return json_download(portable.export_playbook(playbook), export_filename(playbook))

    # --- Actions

    @admin.action(description=_("Export selected as JSON"), permissions=["view"])
    def export_json(self, request, queryset):
        playbooks = list(queryset.order_by("name"))
        if len(playbooks) == 1:
            return json_download(
                portable.export_playbook(playbooks[0]), export_filename(playbooks[0])
            )
        return json_download(portable.export_playbooks(playbooks), "playbooks.json")

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

    # --- Import

    def import_view(self, request):
        if not actions.can_import_playbooks(request.user):
            raise PermissionDenied
        context = self._context(
            request,
            title=gettext("Import playbooks from JSON"),
            max_kb=portable.MAX_IMPORT_BYTES // 1024,
            errors=[],
        )
        if request.method != "POST":
            return TemplateResponse(request, "admin/playbooks/import.html", context)

        action = request.POST.get("action", "upload")
        data = None
        try:
            data = self._read_import(request, action)
            results = actions.playbooks_import(
                actor=request.user, data=data, replace=action == "replace", source="the admin"
            )
        except NotAllowed as refused:
            raise PermissionDenied(refused.message) from None
        except portable.PlaybookExists as exists:
            return self._confirm_import(request, context, data, exists.names)
        except portable.PlaybookFileError as error:
            context["errors"] = error.errors
            return TemplateResponse(request, "admin/playbooks/import.html", context, status=400)

        for result in results:
            self._report_import(request, result)
        if len(results) == 1:
            url = reverse("admin:incidents_playbook_change", args=[results[0].playbook.pk])
        else:
            url = reverse("admin:incidents_playbook_changelist")
        return HttpResponseRedirect(url)

    def _read_import(self, request, action):
        """The JSON data of the upload (first step) or of the confirmation form."""
        if action in ("replace", "rename"):
            data = portable.read_json(request.POST.get("payload", "").encode())
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise portable.PlaybookFileError([gettext("Choose a JSON file to import.")])
            if upload.size > portable.MAX_IMPORT_BYTES:
                raise portable.PlaybookFileError(
                    [portable.too_large_message(portable.MAX_IMPORT_BYTES)]
                )
            data = portable.read_json(upload.read())
        if action == "rename":
            name = request.POST.get("new_name", "").strip()
            if not isinstance(data, dict):
                raise portable.PlaybookFileError(
                    [gettext("Only a file with one playbook can be imported under a new name.")]
                )
            if not name:
                raise portable.PlaybookFileError([gettext("Enter the new name.")])
            data = {**data, "name": name}
        return data

    def _confirm_import(self, request, context, data, names):
        existing = Playbook.objects.filter(name__in=names).order_by("name")
        single = isinstance(data, dict)
        suggested = ""
        if single:
            suggested = gettext("%(name)s (imported %(date)s)") % {
                "name": str(data.get("name", ""))[:120],
                "date": timezone.localdate().isoformat(),
            }
        context.update(
            title=gettext("Replace existing playbooks?"),
            existing=existing,
            payload=json.dumps(data, ensure_ascii=False),
            single=single,
            suggested_name=suggested,
            can_replace=actions.can_import_playbooks(request.user, replace=True),
        )
        return TemplateResponse(request, "admin/playbooks/import_confirm.html", context)

    def _report_import(self, request, result):
        playbook = result.playbook
        values = {"name": playbook.name, "version": playbook.version}
        if result.outcome == portable.Outcome.CREATED:
            text = gettext("Imported the playbook “%(name)s” (version %(version)s).")
        elif result.outcome == portable.Outcome.REPLACED:
            text = gettext(
                "Replaced the contents of the playbook “%(name)s”; it is now version %(version)s."
            )
        else:
            text = gettext("The playbook “%(name)s” already matched the file: nothing changed.")
        self.message_user(request, text % values)
