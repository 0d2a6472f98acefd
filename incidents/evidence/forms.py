from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.forms import LocalDateTimeField
from incidents.models import Platform

from .models import EvidenceKind


class EvidenceDetailsForm(forms.Form):
    """What the committee knows about the evidence; shared by every file of one upload.
    The author may delete the post or the account later: type what you see now."""

    kind = forms.ChoiceField(label=_("What is it?"), choices=EvidenceKind.choices)
    platform = forms.ChoiceField(
        label=_("Platform"), choices=[("", "—"), *Platform.choices], required=False
    )
    source_url = forms.CharField(
        label=_("Address of the post"),
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    published_at = LocalDateTimeField(label=_("Published at (as shown)"), required=False)
    author_handle = forms.CharField(
        label=_("Author's handle"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "@"}),
    )
    author_name = forms.CharField(label=_("Display name"), required=False, max_length=200)
    author_profile_url = forms.CharField(
        label=_("Profile address"),
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    author_followers = forms.IntegerField(label=_("Followers"), required=False, min_value=0)
    author_facts = forms.CharField(
        label=_("Other facts about the author"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Bio, location, account age, verified badge… anything that may vanish."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CaptureForm(forms.Form):
    url = forms.CharField(
        label=_("Address to capture"),
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://", "required": True}),
    )
    kind = forms.ChoiceField(label=_("What is it?"), choices=EvidenceKind.choices)
    platform = forms.ChoiceField(
        label=_("Platform"), choices=[("", "—"), *Platform.choices], required=False
    )
