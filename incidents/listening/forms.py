"""Forms of the listening pages: the stream's filters (a GET form that works without
JavaScript), the import's steps and a watch's page."""

import json
import re
from datetime import date, datetime, time, timedelta

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents.choices import Category, Severity
from incidents.errors import DomainError
from incidents.forms import LocalDateTimeField
from incidents.models import OPEN_STATUSES, Incident, Platform
from incidents.people import display_name
from incidents.permissions import timeline_writable_by
from incidents.text import TITLE_MAX

from . import importing, rules
from .actions import (
    ALERT_RULES,
    BURST_FIELDS,
    MAX_ATTACH,
    REMATCH_DAYS,
    REMATCH_MAX,
    TERM_LISTS,
    clean_watch,
)
from .choices import Sentiment
from .ingest import lines as text_lines
from .matching import MAX_SEARCH, TextSearch
from .models import BURST_SIZE_RANGE, MAX_NAME, MAX_TERM, MAX_TERMS, ExpectedBurst, Watch

LANGUAGES = [("", _("Any language")), ("fr", _("French")), ("en", _("English")),
             ("unknown", _("Not known"))]  # fmt: skip


class StreamFilters(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=MAX_SEARCH,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    watch = forms.TypedChoiceField(label=_("Watch"), required=False, coerce=int, empty_value=None)
    platform = forms.ChoiceField(
        label=_("Platform"), required=False, choices=[("", _("Any platform")), *Platform.choices]
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=LANGUAGES)
    sentiment = forms.ChoiceField(
        label=_("Sentiment"), required=False, choices=[("", _("Any tone")), *Sentiment.choices]
    )
    min_followers = forms.IntegerField(
        label=_("Min. reach"),
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        # The field's own words, not the validator's ("greater than or equal to 0").
        error_messages={
            key: _("A number of followers, 0 or more.")
            for key in ("invalid", "min_value", "max_value")
        },
    )
    # A day of the viewer's time zone: the stream starts at the end of it (older posts
    # without paging back through the newer ones).
    until = forms.DateField(
        label=_("Posted up to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, data, *, watches):
        super().__init__(data)
        self._watch_platforms = {w.pk: w.platforms for w in watches}
        self.fields["watch"].choices = [("", _("All watches"))] + [(w.pk, w.name) for w in watches]
        self.fields["min_followers"].widget.attrs.update(
            placeholder=gettext("e.g. 1000"), inputmode="numeric"
        )
        self.fields["q"].widget.attrs.update(placeholder=gettext("Words, #hashtag, @handle"))

    def _valid(self) -> dict:
        """The values of the fields that are valid: a refused one (shown beside its field)
        does not switch off the others."""
        self.is_valid()
        return self.cleaned_data if hasattr(self, "cleaned_data") else {}

    def search(self) -> TextSearch | None:
        """What the search box asks, or None (nothing typed, nothing searchable, refused)."""
        return TextSearch(self._valid().get("q") or "") or None

    def search_ignored(self) -> bool:
        """Something was typed in the search box with no word in it ("!!!", an emoji)."""
        return bool(self._valid().get("q")) and self.search() is None

    def platforms(self) -> set[str] | None:
        """The platforms whose posts these filters can show: the one chosen, within the
        chosen watch's (a watch of no platform listens to every one); None: every one."""
        data = self._valid()
        chosen = {data["platform"]} if data.get("platform") else None
        listened = set(self._watch_platforms.get(data.get("watch"), ())) or None
        if chosen is None or listened is None:
            return chosen or listened
        return chosen & listened

    def selectors_filters(self) -> dict:
        """The valid filters as selectors.mentions() keywords (an invalid one is ignored)."""
        data = self._valid()
        found = {k: data[k] for k in ("watch", "platform", "sentiment") if data.get(k)}
        if data.get("min_followers") is not None:
            found["min_followers"] = data["min_followers"]
        if data.get("language"):
            found["language"] = "" if data["language"] == "unknown" else data["language"]
        if data.get("until") and data["until"] < date.max - timedelta(days=1):
            next_day = datetime.combine(data["until"] + timedelta(days=1), time.min)
            found["until"] = timezone.make_aware(next_day)
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
        label=importing.FILE_PLATFORM_LABEL,
        required=False,
        choices=[("", "—"), *Platform.choices],
    )
    zone = forms.CharField(label=_("Time zone of dates without one"), max_length=64)
    date_order = forms.ChoiceField(
        label=_("Dates like 01/02/2026"),
        choices=[(k, label) for k, (label, _patterns) in importing.DATE_ORDERS.items()],
    )

    # Off: such a row is refused, as the bulk API refuses it (importing.Conversion's note
    # names the values and counts the rows).
    unknown_as_other = forms.BooleanField(label=importing.UNKNOWN_AS_OTHER_LABEL, required=False)

    # The choices the import's messages name by their labels (a refused row: "ticking
    # “Import rows with an unknown platform as Other” above…"): the page links each name
    # to its field (listening's |choice_links).
    NAMED_IN_MESSAGES = ("unknown_as_other", "platform")

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
            unknown_as_other=data.get("unknown_as_other", False),
        )

    @staticmethod
    def initial_for(table, preset: str, zone: str) -> dict:
        """The choices a first look at `table` suggests: the preset's columns, the dates'
        order when the file tells it (importing.guess_date_order), else day first."""
        mapping = importing.guess_mapping(table.columns, preset)
        guess = importing.guess_date_order(table, mapping.get("posted_at", ""))
        initial = {"preset": preset, "zone": zone, "date_order": guess.order or "dmy"}
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


class DeclareFromSignalForm(forms.Form):
    """ "Declare an incident" on a signal's page: title, category and severity, pre-filled
    with actions.signal_declare_defaults (the same suggestions the API's declare uses)."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    category = forms.ChoiceField(
        label=_("Category"),
        choices=Category.choices,
        help_text=_(
            "Suggested from the signal's top terms: product, service or rumour words, else Brand."
        ),
    )
    severity = forms.TypedChoiceField(
        label=_("Severity"),
        choices=Severity.choices,
        coerce=int,
        help_text=_("Suggested: the signal's."),
    )


class LinkSignalForm(forms.Form):
    """ "Link to an open incident" on a signal's page: the open incidents whose timeline the
    person may write (the rules actions.signal_link applies)."""

    incident = forms.ModelChoiceField(
        label=_("Open incident"),
        queryset=Incident.objects.none(),
        empty_label=_("— Choose an incident —"),
        error_messages={
            "required": _("Choose the incident to link the signal to."),
            "invalid_choice": _(
                "This incident cannot take the signal: it is closed, or you may not write "
                "its timeline."
            ),
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = (
            timeline_writable_by(user)
            .filter(status__in=OPEN_STATUSES)
            .order_by("-declared_at", "-pk")
        )
        # A resolved incident is open to a link too: its status says which one it is.
        self.fields["incident"].label_from_instance = lambda incident: (
            f"{incident.title} · {incident.get_status_display()}"
        )


class LinesField(forms.CharField):
    """A JSON list of texts edited as one item per line. With `numbered`, a blank line is
    kept as "" (nothing: the action skips it) so that the list's n-th entry is the box's
    n-th line, the one a refusal names (actions._on_lines); trailing blank lines are
    dropped, and blank lines alone change nothing (has_changed, same()). Lines end where
    the box ends them, at CR LF, LF or a lone CR (ingest.lines), not at the other breaks
    str.splitlines knows (form feed, U+2028…), which the box shows inside a line: there
    they are spaces, as in any term (matching.clean_terms)."""

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *args, numbered=False, **kwargs):
        self.numbered = numbered
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        lines = [line.strip() for line in text_lines(value or "")]
        if not self.numbered:
            return [line for line in lines if line]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    @staticmethod
    def same(value, stored) -> bool:
        """Whether the lines typed are the list stored, blank lines aside."""
        return [line for line in value if line] == list(stored or [])

    def has_changed(self, initial, data):
        try:
            value = self.to_python(data)
        except forms.ValidationError:
            return True
        return not self.same(value, initial)


class AnyIdChoiceField(forms.TypedMultipleChoiceField):
    """Checkboxes of people whose ids are not checked against the list: whether someone may
    be chosen is the action's rule (actions.clean_watch), with its message."""

    def valid_value(self, value):
        return str(value).isascii() and str(value).isdigit() and len(str(value)) < 19


# The people listed as possible subscribers (listening readers, by name): a bound on the
# page; the watch's own subscribers are always listed too.
MAX_SUBSCRIBER_CHOICES = 200
# The watches listed as possible topics of a watch (by name).
MAX_TOPIC_CHOICES = 500
# A pasted list of terms, before the action counts and checks them.
MAX_LINES_CHARS = (MAX_TERMS + 1) * (MAX_TERM + 2)
_CODES = re.compile(r"[\s,;]+")
LISTED_LANGUAGES = [("fr", _("French")), ("en", _("English"))]


class ActionErrorsForm(forms.Form):
    """A form whose values an action checks: its refusal is shown beside the field it names
    (InvalidInput's `errors`), else above the form."""

    def error_field(self, field: str) -> str:
        return field

    def add_action_error(self, error: DomainError) -> None:
        named = error.extra.get("errors") or {None: [error.message]}
        for field, messages in named.items():
            field = self.error_field(field)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


# The values an edit page showed, sent back with the form (JSON; a watch's terms fit).
MAX_SHOWN = 200_000


class WholeNumberInput(forms.NumberInput):
    """A number field that shows 4.0 as "4" (a float threshold read as typed), 2.5 as is."""

    def format_value(self, value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super().format_value(value)


class AsShownForm(ActionErrorsForm):
    """An edit form that sends back what its page showed (a hidden `shown`), so that a
    save changes only the fields the person changed: compared with the record as stored
    when they save, a field someone else saved meanwhile would read as theirs, and be put
    back (a concurrency break-it pass)."""

    def add_shown(self, values: dict) -> None:
        self.fields["shown"] = forms.CharField(
            widget=forms.HiddenInput, required=False, max_length=MAX_SHOWN
        )
        self.initial["shown"] = json.dumps(values, cls=DjangoJSONEncoder)

    def shown_values(self, stored: dict) -> dict:
        """The values the page showed, as posted back; `stored` (the same keys) when they
        are missing or unreadable."""
        try:
            values = json.loads(self.data.get("shown") or "")
        except ValueError:
            return stored
        return values if isinstance(values, dict) and values.keys() == stored.keys() else stored


class WatchForm(AsShownForm):
    """A watch on its page (new or edit). The values are the action's (watch_values());
    the terms, languages, alert rules and alerted people are checked there, once
    (actions.clean_watch), and its errors are shown beside their field (add_action_error)."""

    name = forms.CharField(label=_("Name"), max_length=MAX_NAME)
    brand = forms.CharField(
        label=_("Brand"),
        max_length=MAX_NAME,
        help_text=_("The brand, product or person this watch is about."),
    )
    keywords = LinesField(
        label=_("Keywords and phrases"),
        required=False,
        numbered=True,
        max_length=MAX_LINES_CHARS,
        help_text=_(
            "One per line. A post matches when it contains one of them as whole words, "
            "whatever the case and accents (“maison lumière” matches “Maison Lumiere”)."
        ),
    )
    hashtags = LinesField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Hashtags"),
        required=False,
        numbered=True,
        max_length=MAX_LINES_CHARS,
        help_text=_("One per line, with or without #."),
    )
    handles = LinesField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("The brand's handles"),
        required=False,
        numbered=True,
        max_length=MAX_LINES_CHARS,
        help_text=_(
            "One per line, with or without @: posts by these accounts and posts naming them."
        ),
    )
    exclusions = LinesField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Exclusions"),
        required=False,
        numbered=True,
        max_length=MAX_LINES_CHARS,
        help_text=_("One per line: a post containing one of them never matches."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        required=False,
        choices=LISTED_LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
    )
    other_languages = forms.CharField(
        label=_("Other languages"),
        required=False,
        max_length=200,
        help_text=_(
            "ISO 639-1 codes separated by commas (de, es, it). None ticked and none here: "
            "every language. A post whose language is not known is always kept."
        ),
    )
    platforms = forms.MultipleChoiceField(
        label=_("Platforms"),
        required=False,
        choices=Platform.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every platform."),
    )
    volume_deviations = forms.FloatField(
        label=_("Volume spike threshold"),
        widget=WholeNumberInput,
        help_text=_(
            "How far above the volume expected at that hour (the same hour on past days, "
            "scaled to how busy the day runs), in deviations: 4 is clearly unusual; lower "
            "alerts sooner and more often."
        ),
    )
    volume_min_count = forms.IntegerField(
        label=_("Minimum mentions in an hour"),
        help_text=_(
            "No volume alert below this many mentions in the hour (in the two or three hours,"
            " for a slow sustained rise), however unusual."
        ),
    )
    tone_shift_points = forms.IntegerField(
        label=_("Tone shift (points)"),
        help_text=_(
            "Alert when the share of negative mentions rises this many points above the past "
            "week's (from 10% to 35% is 25 points)."
        ),
    )
    tone_min_scored = forms.IntegerField(
        label=_("Minimum scored mentions"),
        help_text=_("No tone alert on fewer mentions than this with a known tone."),
    )
    topic_watch = forms.TypedChoiceField(
        label=_("Topic watch"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_(
            "The watch of the whole conversation this brand is part of (its sector or "
            "category, its competitors): the post-mortem's share of voice compares the two. "
            "Empty: not known."
        ),
    )
    subscribers = AnyIdChoiceField(
        label=_("Alerted people"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Told of each alert in the app and by e-mail. Only people who may read listening "
            "data are listed; an administrator gives that in the admin panel (“Can view "
            "mention”, to a person or to their group)."
        ),
    )
    is_active = forms.BooleanField(
        label=_("Active: collect mentions and raise alerts"),
        required=False,
        help_text=_(
            "Untick to stop the watch: it no longer collects mentions nor alerts anyone. "
            "Nothing is deleted: its mentions and signals stay, and ticking it again "
            "resumes it. Watches are never deleted."
        ),
    )

    # The watch (new, or as changed) applied to the posts already stored
    # (actions.watch_rematch); its label, choices and help are written in __init__, in the
    # request's language.
    apply_since = forms.TypedChoiceField(
        label=_("Apply the changes to the posts already collected"),
        coerce=int,
        empty_value=0,
        required=False,
    )

    def __init__(self, *args, watch=None, creator=None, **kwargs):
        """`watch` to edit, else a new one, which alerts `creator` unless they untick it
        (a new watch that alerts nobody was easy to make by mistake)."""
        if watch is not None:
            kwargs.setdefault("initial", self.initial_for(watch))
        else:
            kwargs.setdefault(
                "initial",
                {
                    "is_active": True,
                    "subscribers": [creator.pk] if creator else [],
                    **{k: _model_default(k) for k in ALERT_RULES},
                    # A watch made mid-crisis starts with the day's posts it matches, not
                    # empty ("0 in 24 h" beside a stream full of them).
                    "apply_since": 1,
                },
            )
        super().__init__(*args, **kwargs)
        self.watch = watch
        if watch is not None:
            self.add_shown(self.stored_values(watch))
        for name, (low, high) in ALERT_RULES.items():
            step = "0.5" if isinstance(low, float) else "1"
            self.fields[name].widget.attrs.update(min=low, max=high, step=step)
        self.fields["other_languages"].widget.attrs.update(placeholder="de, es", autocomplete="off")
        self.fields["subscribers"].choices = self._people_choices(watch)
        self.fields["topic_watch"].choices = self._topic_choices(watch)
        self._offer_apply_since(new=watch is None)

    def _offer_apply_since(self, *, new: bool):
        field = self.fields["apply_since"]
        if new:
            # The posts other watches collected may be this one's too: its history now.
            field.label = gettext("Sort the posts already collected into it")
        field.help_text = " ".join(
            [
                gettext(
                    "Those the watch matches join its page, counts and alerts, and give it "
                    "its usual volume at once (a wave among them can raise a signal at the "
                    "next check)."
                )
                if new
                else gettext(
                    "Those the watch then matches join its page, counts and alerts (a wave "
                    "among them can raise a signal at the next check); those it no longer "
                    "matches leave it and stay stored. Signals already raised keep their "
                    "figures."
                ),
                gettext("At most the newest %(n)s posts of the period are read.")
                % {"n": number_format(REMATCH_MAX, force_grouping=True)},
            ]
        )
        field.choices = [
            (0, gettext("No: from now on only")),
            *(
                (days, gettext("Yes: the last 24 hours"))
                if days == 1
                else (days, gettext("Yes: the last %(n)s days") % {"n": days})
                for days in REMATCH_DAYS
            ),
        ]

    def _topic_choices(self, watch):
        """The watches that may be a topic (no topic themselves, not this one; at most
        MAX_TOPIC_CHOICES by name) and the current topic: one query."""
        watches = Watch.objects.filter(topic_watch__isnull=True).order_by("name")
        if watch is not None:
            watches = watches.exclude(pk=watch.pk)
            if watch.topic_watch_id is not None:
                watches = watches | Watch.objects.filter(pk=watch.topic_watch_id)
        listed = watches.values_list("pk", "name")[:MAX_TOPIC_CHOICES]
        return [("", _("Not known")), *listed]

    def _people_choices(self, watch):
        """Listening readers by name (at most MAX_SUBSCRIBER_CHOICES), and the watch's own
        subscribers: two queries."""
        readers = list(
            rules.listening_readers().order_by("first_name", "last_name", "username", "pk")[
                : MAX_SUBSCRIBER_CHOICES + 1
            ]
        )
        if len(readers) > MAX_SUBSCRIBER_CHOICES:
            field = self.fields["subscribers"]
            field.help_text = format_lazy(
                "{} {}",
                field.help_text,
                _("Only the first %(n)s people by name are listed.")
                % {"n": MAX_SUBSCRIBER_CHOICES},
            )
        people = {user.pk: user for user in readers[:MAX_SUBSCRIBER_CHOICES]}
        if watch is not None:
            for user in watch.subscribers.all():
                people.setdefault(user.pk, user)
        return [(pk, _person_label(user)) for pk, user in people.items()]

    @staticmethod
    def initial_for(watch) -> dict:
        listed = {code for code, _label in LISTED_LANGUAGES}
        initial = {name: getattr(watch, name) for name in (*TERM_LISTS, *ALERT_RULES)}
        initial.update(
            name=watch.name,
            brand=watch.brand,
            languages=[code for code in watch.languages if code in listed],
            other_languages=", ".join(code for code in watch.languages if code not in listed),
            platforms=watch.platforms,
            is_active=watch.is_active,
            topic_watch=watch.topic_watch_id,
            subscribers=[user.pk for user in watch.subscribers.all()],
        )
        return initial

    @classmethod
    def stored_values(cls, watch) -> dict:
        """The watch as watch_values() gives it (languages as one list), JSON-able."""
        current = cls.initial_for(watch)
        del current["other_languages"]
        current["languages"] = watch.languages
        return current

    def watch_values(self) -> dict:
        """The action's keywords (actions.WATCH_FIELDS) from the form's cleaned values (every
        one on a valid form); for an edit, only what differs from the watch as its page
        showed it (a subscriber who lost access since, left as is, does not stop the save; a
        field someone else saved meanwhile is left as they saved it)."""
        data = self.cleaned_data
        plain = ("name", "brand", *TERM_LISTS, "platforms", "is_active", "topic_watch")
        names = (*plain, *ALERT_RULES, "subscribers")
        values = {name: data[name] for name in names if name in data}
        if "languages" in data and "other_languages" in data:
            others = [code.lower() for code in _CODES.split(data["other_languages"]) if code]
            values["languages"] = list(dict.fromkeys([*data["languages"], *others]))
        if self.watch is None:
            return values
        current = self.shown_values(self.stored_values(self.watch))
        changed = {
            k: v
            for k, v in values.items()
            if (not LinesField.same(v, current[k]) if k in TERM_LISTS else v != current[k])
        }
        if "subscribers" in changed and set(values["subscribers"]) == set(current["subscribers"]):
            del changed["subscribers"]
        return changed

    def clean(self):
        cleaned = super().clean()
        if self._errors:
            # The action is not called while a field is refused: the fields that did clean
            # are checked by its rule now, so every refusal shows at once, not one per save.
            try:
                clean_watch(self.watch_values(), watch=self.watch)
            except DomainError as error:
                self.add_action_error(error)
        return cleaned

    def error_field(self, field: str) -> str:
        if field == "languages" and self.data.get("other_languages", "").strip():
            return "other_languages"
        return field

    def sections(self):
        """The fields in the page's groups: [(title, [bound fields], css class)]."""
        groups = [
            (_("What to listen for"), ["name", "brand", *TERM_LISTS], ""),
            (_("Share of voice"), ["topic_watch"], ""),
            (_("Where"), ["languages", "other_languages", "platforms"], ""),
            (_("When to alert"), list(ALERT_RULES), "field-grid"),
            (_("Who is alerted"), ["subscribers"], ""),
            (_("Status"), ["is_active"], ""),
        ]
        if "apply_since" in self.fields:
            groups.append((_("Mentions already collected"), ["apply_since"], ""))
        return [(title, [self[name] for name in names], css) for title, names, css in groups]


def _model_default(name):
    return Watch._meta.get_field(name).default


def _person_label(user) -> str:
    name = display_name(user)
    return name if name == user.get_username() else f"{name} ({user.get_username()})"


class ExpectedBurstForm(AsShownForm):
    """A planned campaign on its watch's page (new or edit), times in the viewer's zone.
    Its rule is the action's (actions.clean_burst): the form only reads the values."""

    starts_at = LocalDateTimeField(label=_("Starts at"))
    ends_at = LocalDateTimeField(label=_("Ends at"))
    expected_size = forms.FloatField(
        label=_("Expected size (times the usual volume)"),
        widget=WholeNumberInput,
        required=False,
        help_text=_(
            "How many times the usual mentions the campaign should bring (e.g. 4): a wave "
            "well beyond it still alerts. Empty: nothing in its window raises a volume alert."
        ),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        help_text=_("What it is, for the team: “Black Friday promotion on the KX-200”."),
    )

    def __init__(self, *args, burst=None, **kwargs):
        if burst is not None:
            kwargs.setdefault("initial", {name: getattr(burst, name) for name in BURST_FIELDS})
        super().__init__(*args, **kwargs)
        if burst is not None:
            self.add_shown({name: getattr(burst, name) for name in BURST_FIELDS})
        low, high = BURST_SIZE_RANGE
        self.fields["expected_size"].widget.attrs.update(
            min=f"{low:g}", max=f"{high:g}", step="0.5"
        )
        self.fields["note"].widget.attrs.update(maxlength=MAX_NAME, autocomplete="off")

    def changed_fields(self, burst: ExpectedBurst) -> list[str]:
        """The fields the person changed from what the page showed (times to the minute,
        as the page shows them: an untouched start with seconds is not moved)."""
        stored = {name: getattr(burst, name) for name in BURST_FIELDS}
        shown = self.shown_values(json.loads(json.dumps(stored, cls=DjangoJSONEncoder)))
        changed = []
        for name in BURST_FIELDS:
            value, before = self.cleaned_data[name], shown[name]
            if isinstance(value, datetime):
                try:
                    before = datetime.fromisoformat(before).replace(second=0, microsecond=0)
                except (TypeError, ValueError):
                    before = None
            if value != before:
                changed.append(name)
        return changed

    def burst(self, burst: ExpectedBurst) -> ExpectedBurst:
        """`burst` (a new one on its watch, or the stored one) with the typed values, for
        actions.expected_burst_save."""
        for name in BURST_FIELDS:
            setattr(burst, name, self.cleaned_data[name])
        return burst
