from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import MAX_REPLY_TO, MAX_SECRET, MAX_URL, BrandAccount


class PublishViaForm(forms.Form):
    """The confirmation step: the revision the person read, and the post answered."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=1_000_000)
    in_reply_to = forms.CharField(
        label=_("In reply to (optional)"),
        required=False,
        max_length=MAX_REPLY_TO,
        help_text=_("The address of the post to answer; empty: a post of the brand account."),
        widget=forms.TextInput(attrs={"maxlength": MAX_REPLY_TO}),
    )


MODEL_FIELDS = ["platform", "label", "base_url", "handle", "active"]


class BrandAccountForm(forms.ModelForm):
    """The admin's form: the secret is write-only (never rendered back)."""

    base_url = forms.URLField(
        label=capfirst(BrandAccount._meta.get_field("base_url").verbose_name),
        max_length=MAX_URL,
        assume_scheme="https",
        help_text=BrandAccount._meta.get_field("base_url").help_text,
    )

    secret = forms.CharField(
        label=_("Access token or app password"),
        required=False,
        max_length=MAX_SECRET,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Mastodon: an access token with the write:statuses and read:search scopes. "
            "Bluesky: an app password. Stored encrypted, never shown again: leave empty to "
            "keep the stored one."
        ),
    )

    class Meta:
        model = BrandAccount
        fields = MODEL_FIELDS

    def clean(self):
        from incidents.errors import InvalidInput

        from .actions import clean_account

        cleaned = super().clean()
        if self.errors:
            return cleaned
        # The instance gets the form's values only after clean(): judge a copy.
        probe = BrandAccount(
            pk=self.instance.pk,
            secret_encrypted=self.instance.secret_encrypted,
            **{name: cleaned.get(name) for name in MODEL_FIELDS if name in cleaned},
        )
        try:
            clean_account(probe, cleaned.get("secret", ""))
        except InvalidInput as error:
            field = error.extra.get("field")
            self.add_error(field if field in self.fields else None, error.message)
        return cleaned
