from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.playbooks.models import AppliedPlaybook, Playbook
from incidents.text import own_language
from statements.models import MAX_TEXT

from . import selectors
from .actions import SLUG_MAX
from .choices import Section


class PrepareForm(forms.Form):
    playbook = forms.ModelChoiceField(
        label=_("From the playbook"),
        queryset=Playbook.objects.filter(is_active=True, crisis_templates__isnull=False).distinct(),
        required=False,
        empty_label=_("— an empty page —"),
    )
    slug = forms.CharField(
        label=_("Address (/crisis/…/)"),
        max_length=SLUG_MAX,
        required=False,
        # What it is and what an empty one gives (actions._clean_slug): the lead could not
        # tell a URL from a slug.
        widget=forms.TextInput(attrs={"placeholder": _("e.g. kettle-lids; empty: the date")}),
    )
    next_update_at = forms.DateTimeField(
        label=_("Next update at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, incident=None, **kwargs):
        """`incident`: the playbook it follows is preselected when it has a dark site (an
        empty page was the default: a hurried lead prepared one by mistake)."""
        super().__init__(*args, **kwargs)
        field = self.fields["playbook"]
        # Read once: a list of no playbook is no choice, so the field goes (the page starts
        # empty) rather than showing a menu of one entry.
        playbooks = list(field.queryset)
        if playbooks:
            field.queryset = field.queryset.filter(pk__in=[p.pk for p in playbooks])
            field.choices = [
                ("", field.empty_label),
                *((p.pk, own_language(str(p))) for p in playbooks),
            ]
            followed = (
                AppliedPlaybook.objects.filter(incident=incident)
                .values_list("playbook_id", flat=True)
                .first()
                if incident is not None
                else None
            )
            if followed in {p.pk for p in playbooks}:
                field.initial = followed
        else:
            del self.fields["playbook"]


class NextUpdateForm(forms.Form):
    next_update_at = forms.DateTimeField(
        label=_("Next update at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class PublishUpdateForm(forms.Form):
    """Publish an approved update and say when the next one comes (empty: no new promise).
    The room fills in the page's last interval from now (promises.default_next)."""

    statement = forms.IntegerField(widget=forms.HiddenInput)
    next_update_at = forms.DateTimeField(
        label=_("Next update at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class TextForm(forms.Form):
    section = forms.ChoiceField(
        label=_("Section"),
        choices=Section.choices,
        help_text=_(
            "A summary's first line is the page's title; an FAQ entry's first line is its "
            "question. The text goes on the page once approved."
        ),
    )
    language = forms.ChoiceField(label=_("Language"), choices=[])
    text = forms.CharField(
        label=_("Text"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, **kwargs):
        # Its own ids: the room holds other forms with a "text" field (the timeline's).
        kwargs.setdefault("auto_id", "crisis_text_%s")
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [(code, code.upper()) for code in selectors.languages()]
