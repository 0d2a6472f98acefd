from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import permissions, rules
from ..errors import InvalidInput
from ..models import (
    MANUAL_KIND_CHOICES,
    NON_LEAD_ROLE_CHOICES,
    ApproverFunction,
    Category,
    Incident,
    Membership,
    Origin,
    Platform,
    Role,
    Severity,
    Status,
    TimelineEntry,
)
from ..people import display_name
from ..text import ENTRY_MAX, SUMMARY_MAX
from .fields import (
    BooleanField,
    ListField,
    LocalDateTimeField,
    ModelSerializer,
    PrimaryKeyRelatedField,
    active_locale,
    choice_label,
    datetime_representation,
)

User = get_user_model()


class UserSummarySerializer(ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name"]

    def get_name(self, user) -> str:
        return display_name(user)

    def to_representation(self, user):
        return user_summary(user)


def user_summary(user) -> dict:
    """`{"id", "username", "name"}`: how the API names a person (UserSummarySerializer)."""
    return {"id": user.pk, "username": user.username, "name": display_name(user)}


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "uri"}, {"type": "string", "enum": [""]}]}
)
class BlankableURLField(serializers.URLField):
    """A URL, or "" when there is none (a model URLField with blank=True): documented as
    such, so clients and the schema checks accept the empty string."""


class TimelineEntrySerializer(ModelSerializer):
    """The one representation of an entry: API responses and live events both use it."""

    actor = UserSummarySerializer(read_only=True, allow_null=True)  # None: the system
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = TimelineEntry
        fields = [
            "seq",
            "kind",
            "kind_label",
            "text",
            "actor",
            "occurred_at",
            "recorded_at",
            "key_event",
            "data",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields

    def to_representation(self, entry):
        """`entry`: a TimelineEntry, or a dict of ENTRY_ROW_FIELDS (the timeline's API
        pages read their rows as such, without model instances)."""
        if isinstance(entry, dict):
            row, actor = entry, self._row_actor(entry)
        else:
            row = {name: getattr(entry, name) for name in _ENTRY_FIELDS}
            actor = None if entry.actor_id is None else user_summary(entry.actor)
        zone, language = active_locale(self)
        return {
            "seq": row["seq"],
            "kind": row["kind"],
            "kind_label": choice_label(TimelineEntry, "kind", row["kind"], language),
            "text": row["text"],
            "actor": actor,
            "occurred_at": datetime_representation(row["occurred_at"], zone),
            "recorded_at": datetime_representation(row["recorded_at"], zone),
            "key_event": row["key_event"],
            "data": row["data"],
            "prev_hash": row["prev_hash"],
            "hash": row["hash"],
        }

    def _row_actor(self, row: dict) -> dict | None:
        return person_summary(
            self,
            row["actor_id"],
            row["actor__username"],
            row["actor__first_name"],
            row["actor__last_name"],
        )


def person_summary(serializer, user_id, username, first_name, last_name) -> dict | None:
    """user_summary() of a person read as columns, not as a User: None without an id. A
    list names its few people many times, so each is summarized once per serializer."""
    if user_id is None:
        return None
    known = serializer.__dict__.setdefault("_people", {})
    if user_id not in known:
        person = User(pk=user_id, username=username, first_name=first_name, last_name=last_name)
        known[user_id] = user_summary(person)
    return known[user_id]


_ENTRY_FIELDS = (
    "seq",
    "kind",
    "text",
    "occurred_at",
    "recorded_at",
    "key_event",
    "data",
    "prev_hash",
    "hash",
)
# What a timeline row read without model instances holds: the entry's fields and its
# actor's (None for the system).
ENTRY_ROW_FIELDS = (
    *_ENTRY_FIELDS,
    "actor_id",
    "actor__username",
    "actor__first_name",
    "actor__last_name",
)


class TimelineEntryCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MANUAL_KIND_CHOICES)
    text = serializers.CharField(max_length=ENTRY_MAX, trim_whitespace=True)
    occurred_at = LocalDateTimeField(required=False)
    key_event = BooleanField(required=False, default=False)


class IncidentStateSerializer(ModelSerializer):
    """What a live event needs to refresh the room's header."""

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "status",
            "severity",
            "first_response_due_at",
            "first_response_at",
        ]

    def to_representation(self, incident):
        zone, _language = active_locale(self)
        return {
            "id": incident.pk,
            "title": incident.title,
            "status": incident.status,
            "severity": incident.severity,
            "first_response_due_at": datetime_representation(incident.first_response_due_at, zone),
            "first_response_at": datetime_representation(incident.first_response_at, zone),
        }


class MemberSerializer(ModelSerializer):
    user = UserSummarySerializer(read_only=True)
    added_by = UserSummarySerializer(read_only=True)
    role_label = serializers.CharField(source="role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "role", "role_label", "function", "added_by", "added_at", "left_at"]


FUNCTION_HELP = (
    "What an approver signs off for: required when `role` is `approver` (approval policies "
    "ask for functions), ignored for the other roles."
)


def _validate_function(attrs: dict) -> dict:
    """The one rule (rules.membership_function), reported on the `function` field."""
    try:
        attrs["function"] = rules.membership_function(attrs["role"], attrs.get("function", ""))
    except InvalidInput as error:
        raise serializers.ValidationError({"function": [error.message]}) from None
    return attrs


class MemberCreateSerializer(serializers.Serializer):
    user = PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    role = serializers.ChoiceField(choices=NON_LEAD_ROLE_CHOICES)
    function = serializers.ChoiceField(
        choices=ApproverFunction.choices, required=False, allow_blank=True, help_text=FUNCTION_HELP
    )

    def validate(self, attrs):
        return _validate_function(attrs)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    function = serializers.ChoiceField(
        choices=ApproverFunction.choices, required=False, allow_blank=True, help_text=FUNCTION_HELP
    )

    def validate(self, attrs):
        return _validate_function(attrs)


class PromotionFreezeStateSerializer(serializers.Serializer):
    """The promotion freeze as it stands (its history is on the timeline)."""

    frozen = BooleanField(help_text="While true, nobody publishes promotional posts for the brand.")
    since = serializers.DateTimeField(allow_null=True)
    by = UserSummarySerializer(allow_null=True, help_text="Who set it.")


class PromotionFreezeSerializer(serializers.Serializer):
    frozen = BooleanField(
        help_text="true sets the promotion freeze, false lifts it (normal posting resumes). "
        "The current state again changes nothing."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=ENTRY_MAX)


class IncidentSerializer(ModelSerializer):
    platforms = serializers.MultipleChoiceField(choices=Platform.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    severity_label = serializers.CharField(source="get_severity_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    lead = serializers.SerializerMethodField()
    my_role = serializers.SerializerMethodField()
    allowed_transitions = ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The statuses the lifecycle allows from the current one (for anyone).",
    )
    available_actions = serializers.SerializerMethodField(
        help_text="What you may do on this incident now: "
        + ", ".join(f"`{name}`" for name in rules.INCIDENT_ACTIONS)
        + ". The room shows exactly these controls; anything else is refused."
    )
    available_transitions = serializers.SerializerMethodField(
        help_text="The statuses you may move the incident to now (empty unless you lead)."
    )
    detected_at = LocalDateTimeField(required=False)
    promotion_freeze = serializers.SerializerMethodField(
        help_text="The promotion freeze: on by default from severity 3; set and lifted by "
        "the lead (POST promotion-freeze/)."
    )

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "summary",
            "category",
            "origin",
            "platforms",
            "severity",
            "severity_label",
            "status",
            "status_label",
            "allowed_transitions",
            "available_actions",
            "available_transitions",
            "detected_at",
            "declared_at",
            "active_at",
            "monitoring_at",
            "resolved_at",
            "closed_at",
            "first_response_due_at",
            "first_response_at",
            "lead",
            "my_role",
            "promotion_freeze",
        ]
        read_only_fields = [
            "status",
            "declared_at",
            "active_at",
            "monitoring_at",
            "resolved_at",
            "closed_at",
            "first_response_due_at",
            "first_response_at",
        ]
        extra_kwargs = {
            "category": {"choices": Category.choices},
            "origin": {"choices": Origin.choices},
            "summary": {"max_length": SUMMARY_MAX},
        }

    def writable_fields_names(self) -> list[str]:
        return [field.field_name for field in self._writable_fields]

    def to_representation(self, incident):
        zone, language = active_locale(self)
        return {
            "id": incident.pk,
            "title": incident.title,
            "summary": incident.summary,
            "category": incident.category,
            "origin": incident.origin,
            "platforms": list(incident.platforms),  # as stored: a set would not be ordered
            "severity": incident.severity,
            "severity_label": choice_label(Incident, "severity", incident.severity, language),
            "status": incident.status,
            "status_label": choice_label(Incident, "status", incident.status, language),
            "allowed_transitions": [str(status) for status in incident.allowed_transitions],
            "available_actions": self.get_available_actions(incident),
            "available_transitions": self.get_available_transitions(incident),
            **{
                name: datetime_representation(getattr(incident, name), zone) for name in self._TIMES
            },
            "lead": self.get_lead(incident),
            "my_role": self.get_my_role(incident),
            "promotion_freeze": self.get_promotion_freeze(incident, zone),
        }

    _TIMES = (
        "detected_at",
        "declared_at",
        "active_at",
        "monitoring_at",
        "resolved_at",
        "closed_at",
        "first_response_due_at",
        "first_response_at",
    )

    def get_lead(self, incident) -> dict | None:
        if hasattr(incident, "lead_username"):  # annotated by selectors.incidents_for_list
            return person_summary(
                self,
                incident.lead_user_id,
                incident.lead_username,
                incident.lead_first_name,
                incident.lead_last_name,
            )
        members = getattr(incident, "active_memberships", None) or []
        lead = next((m.user for m in members if m.role == Role.LEAD), None)
        return user_summary(lead) if lead else None

    @extend_schema_field(ListField(child=serializers.ChoiceField(choices=rules.INCIDENT_ACTIONS)))
    def get_available_actions(self, incident) -> list[str]:
        request = self.context.get("request")
        return rules.available_actions(request.user, incident) if request else []

    @extend_schema_field(ListField(child=serializers.ChoiceField(choices=Status.choices)))
    def get_available_transitions(self, incident) -> list[str]:
        request = self.context.get("request")
        return rules.available_transitions(request.user, incident) if request else []

    @extend_schema_field(PromotionFreezeStateSerializer)
    def get_promotion_freeze(self, incident, zone=None) -> dict:
        zone = zone or active_locale(self)[0]
        by = incident.promotion_frozen_by if incident.promotion_frozen_at else None
        return {
            "frozen": incident.promotion_frozen_at is not None,
            "since": datetime_representation(incident.promotion_frozen_at, zone),
            "by": user_summary(by) if by else None,
        }

    def get_my_role(self, incident) -> str | None:
        if hasattr(incident, "my_role"):
            return incident.my_role
        request = self.context.get("request")
        return permissions.active_role(request.user, incident) if request else None


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
