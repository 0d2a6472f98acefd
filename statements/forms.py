from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.forms import LocalDateTimeField

from .actions import needs_post_address
from .models import Channel, Language, Statement, StatementKind, StatementStatus


class StatementCreateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=StatementKind.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    title = forms.CharField(
        label=_("Internal title"),
        max_length=200,
        required=False,
        help_text=_("For the committee only, e.g. “Holding statement X”."),
    )
    text = forms.CharField(
        label=_("Text"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 8})
    )
    reply_to_account = forms.CharField(
        label=_("Replying to (account)"),
        max_length=200,
        required=False,
        help_text=_("For an individual reply: the account answered, e.g. @jdoe."),
    )
    reply_to_url = forms.URLField(
        label=_("Replying to (post URL)"), max_length=500, required=False, assume_scheme="https"
    )
    corrects = forms.ModelChoiceField(
        label=_("Corrects"),
        queryset=Statement.objects.none(),
        required=False,
        empty_label=_("— Not a correction —"),
        help_text=_("For a correction: the published statement it corrects."),
    )

    def __init__(self, *args, incident=None, **kwargs):
        super().__init__(*args, **kwargs)
        if incident is not None:
            self.fields["corrects"].queryset = Statement.objects.filter(
                incident=incident, status=StatementStatus.PUBLISHED
            )
            self.fields["language"].initial = "fr"


class StatementEditForm(forms.Form):
    text = forms.CharField(
        label=_("Text"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 8})
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ApproveForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RequestChangesForm(forms.Form):
    comment = forms.CharField(
        label=_("What must change"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class PublishForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    url = forms.CharField(
        label=_("Address (URL) of the published post"), max_length=500, required=False
    )
    published_at = LocalDateTimeField(
        label=_("Published at"),
        required=False,
        help_text=_("Leave empty for now."),
    )

    def ask_for_address(self, channel: str) -> "PublishForm":
        """Where the channel needs the post's address, the browser asks for it beside the
        field (the action refuses without it all the same)."""
        if needs_post_address(channel):
            widget = self.fields["url"].widget
            widget.input_type = "url"
            widget.attrs["required"] = True
        return self


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)
