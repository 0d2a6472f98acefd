"""Forms of the listening pages: the stream's filters (a GET form that works without
JavaScript) and the import's steps."""

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import Platform

from . import importing
from .actions import MAX_ATTACH
from .choices import Sentiment

LANGUAGES = [("", _("Any language")), ("fr", _("French")), ("en", _("English")),
             ("unknown", _("Not known"))]  # fmt: skip


class StreamFilters(forms.Form):
    watch = forms.TypedChoiceField(label=_("Watch"), required=False, coerce=int, empty_value=None)
    platform = forms.ChoiceField(
        label=_("Platform"), required=False, choices=[("", _("Any platform")), *Platform.choices]
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=LANGUAGES)
    sentiment = forms.ChoiceField(
        label=_("Sentiment"), required=False, choices=[("", _("Any tone")), *Sentiment.choices]
    )
    min_followers = forms.IntegerField(
        label=_("Min. reach"), required=False, min_value=0, max_value=2**31 - 1
    )

    def __init__(self, data, *, watches):
        super().__init__(data)
        self.fields["watch"].choices = [("", _("All watches"))] + [(w.pk, w.name) for w in watches]
        self.fields["min_followers"].widget.attrs.update(placeholder="1000", inputmode="numeric")

    def selectors_filters(self) -> dict:
        """The valid filters as selectors.mentions() keywords (an invalid one is ignored)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        found = {k: data[k] for k in ("watch", "platform", "sentiment") if data.get(k)}
        if data.get("min_followers") is not None:
            found["min_followers"] = data["min_followers"]
        if data.get("language"):
            found["language"] = "" if data["language"] == "unknown" else data["language"]
        return found


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Export file"),
        help_text=_("CSV (with a header line), JSON (an array of objects) or NDJSON, UTF-8."),
    )


class MappingForm(forms.Form):
    """The column of each field, the platform when no column gives it, the zone of dates
    written without one, and how to read 01/02/2026."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    preset = forms.ChoiceField(
        label=_("Column names"),
        choices=[(k, label) for k, (label, _names) in importing.PRESETS.items()],
        required=False,
    )
    platform = forms.ChoiceField(
        label=_("Platform when no column says"),
        required=False,
        choices=[("", "—"), *Platform.choices],
    )
    zone = forms.CharField(label=_("Time zone of dates without one"), max_length=64)
    date_order = forms.ChoiceField(
        label=_("Dates like 01/02/2026"),
        choices=[(k, label) for k, (label, _patterns) in importing.DATE_ORDERS.items()],
    )

    def __init__(self, *args, columns=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— not in the file —"))] + [(c, c) for c in columns]
        self.column_fields = []
        for key, label, required in importing.FIELDS:
            name = "col_" + key.replace(".", "_")
            self.fields[name] = forms.ChoiceField(label=label, required=False, choices=choices)
            self.fields[name].widget.attrs["data-required"] = "1" if required else ""
            self.column_fields.append((name, key, required))
        self.fields["zone"].widget.attrs.update(list="zones", autocomplete="off")

    def bound_columns(self):
        return [(self[name], required) for name, _key, required in self.column_fields]

    def options(self) -> importing.Options:
        data = self.cleaned_data
        return importing.Options(
            mapping={key: data.get(name, "") for name, key, _r in self.column_fields},
            platform=data.get("platform", ""),
            zone=data["zone"],
            date_order=data["date_order"],
        )

    @staticmethod
    def initial_for(columns, preset: str, zone: str) -> dict:
        mapping = importing.guess_mapping(columns, preset)
        initial = {"preset": preset, "zone": zone, "date_order": "dmy"}
        for key in importing.FIELD_KEYS:
            initial["col_" + key.replace(".", "_")] = mapping.get(key, "")
        return initial


class MentionIdsField(forms.Field):
    """The ticked mentions' ids (checkboxes named alike): distinct, in the order sent."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            ids = [int(v) for v in value or []]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Unknown mentions were sent.")) from None
        if any(not 0 < pk < 2**63 for pk in ids):
            raise forms.ValidationError(_("Unknown mentions were sent."))
        return list(dict.fromkeys(ids))

    def validate(self, value):
        if not value:
            raise forms.ValidationError(_("Tick at least one mention."))
        if len(value) > MAX_ATTACH:
            message = _(
                "%(n)s mentions are selected: at most %(max)s can be attached at a time. "
                "Select fewer and attach the rest in another go."
            )
            raise forms.ValidationError(message % {"n": len(value), "max": MAX_ATTACH})


class AttachSelectedForm(forms.Form):
    """The stream's "Attach selected to incident…": the ticked mentions and the chosen
    incident's id (who may attach there is the action's rule: actions.mentions_attach)."""

    mentions = MentionIdsField()
    incident = forms.IntegerField(
        min_value=1, max_value=2**63 - 1, error_messages={"required": _("Choose an incident.")}
    )
