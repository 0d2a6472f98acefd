"""Watches are edited in the admin (by people with `listening.change_watch`), through the
same actions as the API and the watch page: one term per line. Mentions are read-only:
they are what people posted, as collected. Who may see and change what here is asked of
rules.py, as the pages and the API do: the admin's own model permissions alone (e.g. "Can
add expected burst" without the right to change watches) give nothing more."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.admin import ReadOnlyAdmin
from incidents.errors import DomainError

from . import actions, rules, selectors
from .actions import TERM_LISTS, WATCH_FIELDS
from .forms import LinesField
from .models import CollectorState, ExpectedBurst, Mention, Signal, Watch

LIST_FIELDS = [*TERM_LISTS, "languages", "platforms"]


class WatchForm(forms.ModelForm):
    """The watch's fields, checked by the action's rule (clean_watch): on a change, only the
    fields changed, as on the watch's page, so a watch saved before a rule existed (two
    forms of one term) can still be renamed or stopped; a change to that list says which
    lines to delete (numbered: blank lines count, as the box shows them)."""

    keywords = LinesField(required=False, numbered=True, help_text=_("One per line."))
    exclusions = LinesField(required=False, numbered=True, help_text=_("One per line."))
    hashtags = LinesField(
        required=False, numbered=True, help_text=_("One per line, with or without #.")
    )
    handles = LinesField(
        required=False, numbered=True, help_text=_("One per line, with or without @.")
    )
    languages = LinesField(required=False, help_text=_("ISO codes (fr, en), one per line."))
    platforms = LinesField(required=False, help_text=_("One per line (x, bluesky...)."))

    class Meta:
        model = Watch
        fields = [
            "name",
            "brand",
            *LIST_FIELDS,
            "is_active",
            "topic_watch",
            "volume_deviations",
            "volume_min_count",
            "tone_shift_points",
            "tone_min_scored",
            "subscribers",
        ]

    def watch_values(self) -> dict:
        """The action's values (actions.WATCH_FIELDS): all of them for a new watch, the
        changed ones for an existing one."""
        cleaned = self.cleaned_data
        values = {name: cleaned[name] for name in WATCH_FIELDS if name in cleaned}
        if self.instance.pk:
            values = {name: value for name, value in values.items() if name in self.changed_data}
        return values

    def clean(self):
        cleaned = super().clean()
        values = self.watch_values()
        try:
            watch = self.instance if self.instance.pk else None
            cleaned.update(actions.clean_watch(values, watch=watch))
        except DomainError as error:
            # Beside the refused field when the rule names it.
            raise ValidationError(error.extra.get("errors") or error.message) from None
        return cleaned


class ListeningAdmin(admin.ModelAdmin):
    """Read by the people who may read listening data, changed by those who may change
    watches (rules.py)."""

    def has_module_permission(self, request):
        return rules.can_view_listening(request.user)

    def has_view_permission(self, request, obj=None):
        return rules.can_view_listening(request.user)

    def has_add_permission(self, request):
        return rules.can_edit_watches(request.user)

    def has_change_permission(self, request, obj=None):
        return rules.can_edit_watches(request.user)

    def has_delete_permission(self, request, obj=None):
        return rules.can_edit_watches(request.user)


class ListeningReadOnlyAdmin(ReadOnlyAdmin):
    def has_module_permission(self, request):
        return rules.can_view_listening(request.user)

    def has_view_permission(self, request, obj=None):
        return rules.can_view_listening(request.user)


@admin.register(Watch)
class WatchAdmin(ListeningAdmin):
    form = WatchForm
    list_display = ["name", "brand", "topic_watch", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "brand"]
    filter_horizontal = ["subscribers"]
    list_select_related = ["topic_watch"]

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the mentions it collected keep their match

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "subscribers":  # only those an alert may reach (the action's rule)
            kwargs["queryset"] = rules.listening_readers().order_by("username")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        values = form.watch_values()
        if change:
            watch = actions.watch_update(
                watch=Watch.objects.get(pk=obj.pk), actor=request.user, **values
            )
        else:
            watch = actions.watch_create(actor=request.user, **values)
        obj.pk = watch.pk

    def save_related(self, request, form, formsets, change):
        pass  # the subscribers were saved by the action (save_model), the only related field


@admin.register(Mention)
class MentionAdmin(ListeningReadOnlyAdmin):
    list_display = ["posted_at", "platform", "author_handle", "sentiment", "language", "incident"]
    list_filter = ["platform", "sentiment", "source", "language"]
    search_fields = ["author_handle", "text", "external_id"]
    list_select_related = ["incident"]
    date_hierarchy = "posted_at"


class ExpectedBurstForm(forms.ModelForm):
    class Meta:
        model = ExpectedBurst
        fields = ["watch", "starts_at", "ends_at", "expected_size", "note"]

    def clean(self):
        cleaned = super().clean()
        values = {name: cleaned.get(name) for name in actions.BURST_FIELDS}
        if values["starts_at"] and values["ends_at"] and not self.errors:
            # The action's rule, beside the refused field (a new one: its watch's cap too).
            burst = ExpectedBurst(pk=self.instance.pk, watch=cleaned.get("watch"), **values)
            try:
                actions.clean_burst(burst)
            except DomainError as error:
                raise ValidationError(error.extra.get("errors") or error.message) from None
        return cleaned


@admin.register(ExpectedBurst)
class ExpectedBurstAdmin(ListeningAdmin):
    """Planned campaigns and announcements (leads declare them on the watch's page, "Planned
    campaigns"): their window raises no volume signal, or, given an expected size, none
    below a wave well beyond it. Saved and deleted through the actions; an ended one is
    read-only (rules.burst_is_open)."""

    form = ExpectedBurstForm
    list_display = ["watch", "starts_at", "ends_at", "expected_size", "note"]
    list_filter = ["watch"]
    list_select_related = ["watch"]
    actions = None  # no bulk delete: each one through the action

    def has_change_permission(self, request, obj=None):
        if obj is not None and not rules.burst_is_open(obj, timezone.now()):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not rules.burst_is_open(obj, timezone.now()):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        fields = form.changed_data if change else None
        actions.expected_burst_save(burst=obj, actor=request.user, fields=fields)
        # Saved all the same: a freeze concerns promotional posts, not the alerts' window.
        freezes = selectors.campaign_freezes(request.user, planner=True)
        if freezes.concerns(obj, timezone.now()):
            self.message_user(request, selectors.DURING_FREEZE_WARNING, messages.WARNING)

    def delete_model(self, request, obj):
        actions.expected_burst_delete(burst=obj, actor=request.user)


@admin.register(Signal)
class SignalAdmin(ListeningReadOnlyAdmin):
    """Written by the detector, declared from the Listening page or the API."""

    list_display = ["opened_at", "watch", "kind", "severity", "status", "incident"]
    list_filter = ["status", "kind", "severity"]
    list_select_related = ["watch", "incident"]


@admin.register(CollectorState)
class CollectorStateAdmin(ReadOnlyAdmin):
    """Where each collector stands (its cursor) and its last error."""

    list_display = ["name", "updated_at", "last_success_at", "last_error"]
    search_fields = ["name"]
