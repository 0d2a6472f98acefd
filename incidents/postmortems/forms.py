"""The post-mortem page's forms: field limits are the models' (one rule, the actions check
them again for the API)."""

import re
from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.choices import Category
from incidents.people import display_name

from . import metrics
from .choices import Decision, ItemStatus, Part
from .models import COMMENT_MAX, PART_MAX, REASON_MAX, TITLE_MAX

User = get_user_model()


class PartsForm(forms.Form):
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in Part.choices:
            self.fields[value] = forms.CharField(
                label=label,
                required=False,
                max_length=PART_MAX,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 4 if value != Part.SUMMARY else 5}),
            )


class ItemAddForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=TITLE_MAX)
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), empty_label=_("— Choose the owner —")
    )
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(pk__in=[u.pk for u in owners])
        self.fields["owner"].label_from_instance = display_name
        # The browser's hint; the action refuses a past date whatever is sent.
        self.fields["due_date"].widget.attrs["min"] = timezone.localdate().isoformat()


class ItemStatusForm(forms.Form):
    base_version = forms.IntegerField(min_value=1)
    status = forms.ChoiceField(choices=ItemStatus.choices)
    reason = forms.CharField(max_length=REASON_MAX, required=False)


class ReviewForm(forms.Form):
    revision = forms.IntegerField(min_value=1)
    decision = forms.ChoiceField(choices=Decision.choices)
    comment = forms.CharField(max_length=COMMENT_MAX, required=False)


# The years a month filter may name (a period's end plus one month stays a valid date).
MIN_YEAR, MAX_YEAR = 2000, 2999


class MonthField(forms.Field):
    """A month as YYYY-MM (an <input type="month">): the first day of that month."""

    widget = forms.TextInput(attrs={"type": "month", "maxlength": 7})

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}", value, flags=re.ASCII):
                raise ValueError
            month = date(int(value[:4]), int(value[5:]), 1)
        except ValueError:
            raise forms.ValidationError(_("Give a month as YYYY-MM.")) from None
        if not MIN_YEAR <= month.year <= MAX_YEAR:
            raise forms.ValidationError(_("Give a month as YYYY-MM.")) from None
        return month


class MetricsFilterForm(forms.Form):
    """The metrics page's and API's filters (GET): a period of whole months, at most
    metrics.MAX_MONTHS (the last DEFAULT_MONTHS when not given), and a category."""

    since = MonthField(label=_("From"), required=False)
    until = MonthField(label=_("To"), required=False)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("Every category")), *Category.choices],
    )

    def filters(self) -> metrics.Filters:
        """The cleaned filters (call after is_valid())."""
        default = metrics.Filters.default()
        until = self.cleaned_data.get("until") or default.last
        since = self.cleaned_data.get("since") or metrics.add_months(
            until, 1 - metrics.DEFAULT_MONTHS
        )
        return metrics.Filters(first=since, last=until, category=self.cleaned_data["category"])

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        filters = self.filters()
        if filters.last < filters.first:
            raise forms.ValidationError(_("The period ends before it starts."))
        if metrics.months_between(filters.first, filters.last) > metrics.MAX_MONTHS:
            raise forms.ValidationError(
                _("Choose a period of %(n)d months at most.") % {"n": metrics.MAX_MONTHS}
            )
        return cleaned
