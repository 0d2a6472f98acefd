"""The playbook admin's forms: the checks of validation.py, shown next to the field
concerned (the same checks an imported file goes through)."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from incidents.models import Category

from . import portable, validation
from .models import (
    Contact,
    Playbook,
    PlaybookAdvice,
    PlaybookPolicy,
    PlaybookStep,
    StatementTemplate,
)


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

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get("text")
        if text is not None:
            problem = validation.template_text_error(text, cleaned.get("kind"))
            if problem:
                self.add_error("text", problem)
        return cleaned


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


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = portable.SECTIONS["contacts"][1]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2, "cols": 80})}

    def clean(self):
        cleaned = super().clean()
        problems = validation.contact_roster_errors(
            cleaned.get("kind"), cleaned.get("role", ""), cleaned.get("function", "")
        )
        for field, problem in problems.items():
            self.add_error(field, problem)
        return cleaned


class AdviceForm(forms.ModelForm):
    class Meta:
        model = PlaybookAdvice
        fields = portable.SECTIONS["advice"][1]
        widgets = {
            "text_en": forms.Textarea(attrs={"rows": 4, "cols": 36}),
            "text_fr": forms.Textarea(attrs={"rows": 4, "cols": 36}),
        }


class AdviceFormSet(BaseInlineFormSet):
    """One advice per author type, said next to the second one (as the file import says)."""

    def clean(self):
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            author_type = form.cleaned_data.get("author_type")
            if not author_type:
                continue
            if author_type in seen:
                form.add_error("author_type", validation.duplicate_advice_error(author_type))
            seen.add(author_type)
        super().clean()
