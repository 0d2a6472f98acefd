"""The post-mortem page's forms: field limits are the models' (one rule, the actions check
them again for the API)."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

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
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(pk__in=[u.pk for u in owners])
        self.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.username


class ItemStatusForm(forms.Form):
    base_version = forms.IntegerField(min_value=1)
    status = forms.ChoiceField(choices=ItemStatus.choices)
    reason = forms.CharField(max_length=REASON_MAX, required=False)


class ReviewForm(forms.Form):
    revision = forms.IntegerField(min_value=1)
    decision = forms.ChoiceField(choices=Decision.choices)
    comment = forms.CharField(max_length=COMMENT_MAX, required=False)
