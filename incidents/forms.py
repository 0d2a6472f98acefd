from datetime import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from . import localtime, rules, selectors
from .errors import InvalidInput
from .models import (
    MANUAL_KIND_CHOICES,
    NON_LEAD_ROLE_CHOICES,
    ApproverFunction,
    Category,
    Origin,
    Platform,
    Role,
    Severity,
    role_label,
)
from .people import display_name
from .text import ENTRY_MAX, SUMMARY_MAX, TITLE_MAX

User = get_user_model()


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _parsed(text: str) -> datetime | None:
    """The datetime typed, or None when it is not one (the field then says so): well
    formed but no such time ("2026-02-30T10:00", "…T24:00") included."""
    try:
        return parse_datetime(text.strip())
    except ValueError:
        return None


class LocalDateTimeWidget(forms.MultiWidget):
    """The wall-clock time, and, only when that time happened twice (the autumn night the
    clocks go back), a choice between its two occurrences (`<name>_fold`)."""

    def __init__(self, attrs=None):
        widgets = {"": LocalDateTimeInput(), "fold": forms.Select(attrs={"hidden": True})}
        super().__init__(widgets, attrs)

    def id_for_label(self, id_):
        return id_  # the time input keeps the field's own id (get_context): labels reach it

    def decompress(self, value):
        if isinstance(value, datetime):
            local = timezone.localtime(value) if timezone.is_aware(value) else value
            return [local.replace(tzinfo=None), local.fold]
        if isinstance(value, str):  # as typed in a refused form, given back
            return [_parsed(value), None]
        return [None, None]

    def get_context(self, name, value, attrs):
        when = value[0] if isinstance(value, list | tuple) and value else None
        if isinstance(when, str):
            when = _parsed(when)
        found = localtime.occurrences(when) if isinstance(when, datetime) else ()
        fold = self.widgets[1]
        if len(found) == 2 and not timezone.is_aware(when):
            fold.attrs.pop("hidden", None)
            fold.choices = [
                ("", _("Which one?")),
                (
                    "0",
                    _("The first (UTC%(offset)s, before the clocks went back)")
                    % {"offset": found[0].offset},
                ),
                (
                    "1",
                    _("The second (UTC%(offset)s, after the clocks went back)")
                    % {"offset": found[1].offset},
                ),
            ]
        else:
            fold.attrs["hidden"] = True
            fold.choices = []
        context = super().get_context(name, value, attrs)
        # Keep the time input's id the field's own (labels point at it); the choice's is
        # "<id>_fold".
        id_ = context["widget"]["attrs"].get("id")
        if id_:
            for subwidget, suffix in zip(
                context["widget"]["subwidgets"], ("", "_fold"), strict=True
            ):
                subwidget["attrs"]["id"] = id_ + suffix
        return context


class _WallClockField(forms.DateTimeField):
    """A datetime as typed, not yet placed in a time zone (LocalDateTimeField does)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        return _parsed(str(value)) or BaseTemporalField.to_python(self, value)


class LocalDateTimeField(forms.MultiValueField):
    """A time typed in the viewer's zone, placed by the one rule of incidents/localtime.py:
    a time that did not exist is refused, a repeated one needs its occurrence chosen."""

    widget = LocalDateTimeWidget

    def __init__(self, **kwargs):
        fields = (
            _WallClockField(),
            forms.TypedChoiceField(
                choices=[("0", "0"), ("1", "1")], coerce=int, required=False, empty_value=None
            ),
        )
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        when, fold = [*data_list, None, None][:2]
        if when is None:
            return None
        if timezone.is_aware(when):
            return when
        try:
            return localtime.resolve(when, fold=fold)
        except localtime.LocalTimeError as error:
            raise forms.ValidationError(error.message, code=error.code) from None


class IncidentDetailsForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What happened, where it started, who is talking about it."),
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", _("Choose a category")), *Category.choices]
    )
    origin = forms.ChoiceField(
        label=_("Origin"), choices=Origin.choices, widget=forms.RadioSelect, initial="online"
    )
    platforms = forms.MultipleChoiceField(
        label=_("Platforms concerned"),
        choices=Platform.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    detected_at = LocalDateTimeField(
        label=_("Detected at"),
        required=False,
        help_text=_("Leave empty for now. Set it if the first signs came earlier."),
    )


class DeclareIncidentForm(IncidentDetailsForm):
    severity = forms.TypedChoiceField(
        label=_("Severity"), choices=Severity.choices, coerce=int, initial=Severity.MODERATE
    )
    activate = forms.BooleanField(
        label=_("Activate the crisis cell now"),
        required=False,
        help_text=_("Otherwise the incident starts as “detected”, under watch."),
    )


class TimelineEntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MANUAL_KIND_CHOICES, initial="note")
    text = forms.CharField(
        label=_("What happened"), max_length=ENTRY_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    occurred_at = LocalDateTimeField(
        label=_("Occurred at"),
        required=False,
        help_text=_("Only for an observation made earlier."),
    )
    key_event = forms.BooleanField(label=_("Key event"), required=False)


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    key_events = forms.BooleanField(label=_("Key events only"), required=False)
    actor = forms.TypedChoiceField(label=_("Author"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, authors=(), **kwargs):
        super().__init__(*args, **kwargs)
        from .models import EntryKind

        self.fields["kind"].choices = [("", _("All kinds")), *EntryKind.choices]
        self.fields["actor"].choices = [("", _("Everyone"))] + [
            (u.pk, display_name(u)) for u in authors
        ]


def _role_function_choices():
    """One select for role and approver function: "Approver — Legal" reads better than two.
    No bare "approver": an approver always signs off for a function (rules.py)."""
    choices = []
    for value, label in NON_LEAD_ROLE_CHOICES:
        if value == Role.APPROVER:
            choices += [
                (f"{value}:{f.value}", role_label(value, f.value)) for f in ApproverFunction
            ]
        else:
            choices.append((value, label))
    return choices


class RoleFunctionField(forms.ChoiceField):
    """Cleans to a (role, function) pair. A bare role ("approver") still cleans, so that the
    rule (rules.membership_function, through the action) says what is missing."""

    def __init__(self, **kwargs):
        super().__init__(choices=_role_function_choices, **kwargs)

    def valid_value(self, value):
        return super().valid_value(value) or value in Role.values

    def clean(self, value):
        role, _sep, function = super().clean(value).partition(":")
        return role, function


FUNCTION_CHOICES = [("", _("Choose a function")), *ApproverFunction.choices]


class MemberAddForm(forms.Form):
    """Add someone to the cell: the person picked in the search (`user`, the id of one of
    the candidates listed) or named in `person` (username, e-mail or full name, resolved
    here: without JavaScript this is the whole picker), a role, and for an approver the
    function they sign off for (required by rules.membership_function)."""

    person = forms.CharField(
        label=_("Person"),
        required=False,
        max_length=254,
        help_text=_("Name, username or e-mail."),
    )
    user = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("Role"), choices=NON_LEAD_ROLE_CHOICES, initial=Role.DRAFTER)
    function = forms.ChoiceField(label=_("Signs off for"), choices=FUNCTION_CHOICES, required=False)

    def clean(self):
        cleaned = super().clean()
        self._clean_person(cleaned)
        role = cleaned.get("role")
        if role:
            try:
                cleaned["function"] = rules.membership_function(role, cleaned.get("function", ""))
            except InvalidInput as error:
                self.add_error("function" if role == Role.APPROVER else "role", error.message)
        return cleaned

    def _clean_person(self, cleaned):
        picked = cleaned.get("user")
        if picked:
            # One of the listed candidates; whether they may join is the action's rule.
            cleaned["user"] = User.objects.filter(pk=picked).first()
            if cleaned["user"] is None:
                self.add_error("person", _("This account no longer exists."))
            return
        text = cleaned.get("person", "")
        if not text.strip():
            if "person" not in self.errors:
                self.add_error("person", _("Type the name, username or e-mail of the person."))
            return
        found = selectors.people_named(text)
        if not found:
            self.add_error(
                "person",
                _(
                    "Nobody with an active account is called “%(text)s”: type their exact "
                    "username, e-mail or full name, or pick them in the list."
                )
                % {"text": text.strip()},
            )
        elif len(found) > 1:
            self.add_error(
                "person",
                _(
                    "Several people are called “%(text)s”: type the username or e-mail of "
                    "the one you mean, or pick them in the list."
                )
                % {"text": text.strip()},
            )
        else:
            cleaned["user"] = found[0]


class RoleForm(forms.Form):
    role = RoleFunctionField(label=_("Role"))


class HandOverForm(forms.Form):
    to_user = forms.TypedChoiceField(label=_("New lead"), coerce=int)
    former_lead_role = forms.ChoiceField(
        label=_("Your role afterwards"), choices=NON_LEAD_ROLE_CHOICES, initial=Role.DRAFTER
    )

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].choices = [
            (m.user_id, display_name(m.user)) for m in members if m.role != Role.LEAD
        ]
