"""The reply queue's forms: the same limits and choices as the actions (which check again)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import Platform
from statements.choices import Channel
from statements.models import MAX_TEXT

from . import rules
from .actions import COMMENT_MAX, MAX_BATCH
from .choices import DECISIONS, AuthorType, NeedsAnswer, Outcome, QueueView, ReviewDecision
from .models import NOTE_MAX, REASON_MAX

UNKNOWN_LANGUAGE = "unknown"
MAX_ID = 10**18 - 1  # as the URLs' `id` converter: 18 digits


class TriageForm(forms.Form):
    author_type = forms.ChoiceField(label=_("Author type"), choices=AuthorType.choices)
    needs_answer = forms.ChoiceField(label=_("Needs an answer?"), choices=NeedsAnswer.choices)
    note = forms.CharField(label=_("Note"), max_length=NOTE_MAX, required=False)
    suggested = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"), choices=[(o.value, o.label) for o in DECISIONS]
    )
    reason = forms.CharField(label=_("Why"), max_length=REASON_MAX)


class ThankForm(forms.Form):
    note = forms.CharField(label=_("How"), max_length=REASON_MAX, required=False)


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Reply"), max_length=MAX_TEXT, strip=True, required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", "—"), *Channel.choices], required=False
    )
    # "Start from a template": one of the incident's reply templates, filled in with the
    # mention's values instead of `text`.
    template = forms.IntegerField(
        label=_("Template"), required=False, min_value=1, max_value=MAX_ID
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("text") and not cleaned.get("template"):
            raise forms.ValidationError(_("Write the reply, or start from a template."))
        if not cleaned.get("template"):
            cleaned.pop("template", None)
        return cleaned


class PreapproveForm(forms.Form):
    # The SHA-256 of the template's text as the approver read it.
    fingerprint = forms.RegexField(regex=r"^[0-9a-f]{64}$", max_length=64)


class WithdrawPreapprovalForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=REASON_MAX, required=False)


class PreapprovedRepliesForm(forms.Form):
    enabled = forms.BooleanField(required=False)


class ReviewForm(forms.Form):
    """The batch review page: the chosen replies (their revisions come as `revision-<id>`
    fields beside each checkbox), one decision and one comment for all."""

    pick = forms.TypedMultipleChoiceField(
        label=_("Replies"),
        coerce=int,
        required=True,
        choices=(),
        error_messages={"required": _("Tick at least one reply.")},
    )
    decision = forms.ChoiceField(label=_("Decision"), choices=ReviewDecision.choices)
    comment = forms.CharField(label=_("Comment"), max_length=COMMENT_MAX, required=False)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        # Any id: the action checks each one (and the bound: MAX_BATCH).
        picked = data.getlist("pick")[: MAX_BATCH + 1] if data is not None else []
        self.fields["pick"].choices = [(v, v) for v in picked]


class QueueFilters(forms.Form):
    """The queue's query string: the view (tab) and the filters. Unknown values are
    ignored (the queue shows unfiltered) rather than refused: it is a link people share."""

    view = forms.ChoiceField(choices=QueueView.choices, required=False)
    type = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Every type")), *AuthorType.choices], required=False
    )
    platform = forms.ChoiceField(
        label=_("Platform"), choices=[("", _("Every platform")), *Platform.choices], required=False
    )
    language = forms.RegexField(
        label=_("Language"), regex=r"^([a-z]{2,3}|unknown)$", max_length=8, required=False
    )
    # One person's posts, in every view ("N posts here"): a handle, "@" or not.
    author = forms.CharField(required=False, strip=False)
    page = forms.IntegerField(min_value=1, max_value=10_000, required=False)

    def clean_author(self) -> str:
        return rules.author_filter(self.cleaned_data["author"])

    def values(self) -> dict:
        """What the page shows: each filter that is valid (one that is not is ignored, the
        others still apply)."""
        self.is_valid()  # an unbound form is not: its cleaned_data is never set
        data = getattr(self, "cleaned_data", {})
        language = data.get("language") or None
        return {
            "view": data.get("view") or QueueView.TO_ANSWER,
            "author_type": data.get("type") or None,
            "platform": data.get("platform") or None,
            "language": "" if language == UNKNOWN_LANGUAGE else language,
            "author": data.get("author") or None,
            "page": data.get("page") or 1,
        }


# Decided outcomes shown on a handled item.
OUTCOME_LABELS = dict(Outcome.choices)
