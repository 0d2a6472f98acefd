"""The notifications API: your notifications (newest first, paginated), marking them read,
and your preferences with your chat addresses. Everything here is the requesting person's
own: no id of someone else's notification or chat address is ever found. Chat addresses
(Apprise URLs) are write-only: answers show them masked."""

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.fields import BooleanField, IntegerField, ListField, ModelSerializer

from . import actions, chat, selectors
from .choices import MESSAGE_LANGUAGES, NotificationKind
from .models import MAX_PERSONAL_TARGETS, ChatTarget, Notification

MAX_IDS = 500
MAX_KINDS = len(NotificationKind.choices) * 2  # every kind, even named twice
LANGUAGES = [("", "The site's language"), *MESSAGE_LANGUAGES]
LANGUAGE_HELP = (
    "The language you chose for your e-mails and chat messages; empty: none chosen (the "
    "language of your last sign-in, else the site's)."
)


def kind_list(**kwargs) -> ListField:
    return ListField(
        child=serializers.ChoiceField(choices=NotificationKind.choices),
        max_length=MAX_KINDS,
        **kwargs,
    )


class NotificationSerializer(ModelSerializer):
    kind = serializers.ChoiceField(choices=NotificationKind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    url = serializers.SerializerMethodField(help_text="Where to act: an absolute URL.")
    incident = IntegerField(source="incident_id", read_only=True, allow_null=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "subject", "url", "incident", "created_at"]
        fields += ["read_at", "read"]
        read_only_fields = fields

    def get_url(self, notification) -> str:
        request = self.context.get("request")
        url = notification.url or "/"
        return request.build_absolute_uri(url) if request else url

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class NotificationListView(ListAPIView):
    serializer_class = NotificationSerializer

    def get_queryset(self):
        unread = self.request.query_params.get("unread", "").lower() in ("1", "true")
        return selectors.notifications_of(self.request.user, unread_only=unread)

    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="1 or true: only unread ones")]
    )
    def get(self, request, *args, **kwargs):
        """Your notifications, newest first, 50 a page (`?page=`)."""
        return super().get(request, *args, **kwargs)


class MarkReadSerializer(serializers.Serializer):
    ids = ListField(
        child=IntegerField(min_value=1, max_value=10**18),
        required=False,
        max_length=MAX_IDS,
        help_text="Only these (yours; others are ignored). Without it: all of yours.",
    )


class MarkReadView(APIView):
    @extend_schema(
        request=MarkReadSerializer,
        responses=inline_serializer("MarkReadResponse", {"marked": IntegerField()}),
    )
    def post(self, request):
        """Mark your unread notifications read: all of them, or `{"ids": [...]}`. Answers
        how many changed."""
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = actions.notifications_mark_read(
            user=request.user, ids=serializer.validated_data.get("ids")
        )
        return Response({"marked": marked})


class ChatTargetSerializer(ModelSerializer):
    masked_url = serializers.CharField(source="masked", read_only=True)

    class Meta:
        model = ChatTarget
        fields = ["id", "label", "service", "masked_url", "created_at"]
        read_only_fields = fields


class ChatTargetInputSerializer(serializers.Serializer):
    id = IntegerField(
        required=False, min_value=1, max_value=10**18, help_text="Keep this chat address."
    )
    label = serializers.CharField(max_length=chat.MAX_LABEL)
    url = serializers.CharField(
        required=False,
        write_only=True,
        max_length=chat.MAX_URL,
        trim_whitespace=False,
        help_text="A new chat address (Apprise URL). Never shown back.",
    )

    def validate(self, data):
        if ("id" in data) == ("url" in data):
            raise serializers.ValidationError(
                "Give the id of a chat address to keep, or the url of a new one."
            )
        return data


class PreferencesSerializer(serializers.Serializer):
    email_kinds = kind_list(help_text="The kinds of notification sent to you by e-mail.")
    chat_kinds = kind_list(help_text="The kinds sent to your chat addresses.")
    quiet_when_looking = BooleanField(
        help_text="No e-mail or chat about an incident whose room you have open."
    )
    language = serializers.ChoiceField(choices=LANGUAGES, help_text=LANGUAGE_HELP)
    email = serializers.EmailField(
        read_only=True, allow_blank=True, help_text="Where e-mails go (your account's)."
    )
    chat_targets = ChatTargetSerializer(many=True, read_only=True)


class PreferencesUpdateSerializer(serializers.Serializer):
    email_kinds = kind_list(required=False, help_text="Replaces the kinds sent by e-mail.")
    chat_kinds = kind_list(required=False, help_text="Replaces the kinds sent by chat.")
    quiet_when_looking = BooleanField(required=False)
    # allow_blank: a form body's "language=" means the site's, as JSON "" does (DRF skipped it).
    language = serializers.ChoiceField(
        choices=LANGUAGES, required=False, allow_blank=True, help_text=LANGUAGE_HELP
    )
    chat_targets = ChatTargetInputSerializer(
        many=True,
        required=False,
        max_length=MAX_PERSONAL_TARGETS,
        help_text="Your chat addresses after this call: `{id, label}` keeps (and renames) "
        "one, `{label, url}` adds one, any not listed is removed.",
    )


def _preferences(user) -> dict:
    preference = selectors.preferences_of(user)
    every = NotificationKind.values
    return {
        "email_kinds": [k for k in every if preference.wants(k, actions.EMAIL)],
        "chat_kinds": [k for k in every if preference.wants(k, actions.CHAT)],
        "quiet_when_looking": preference.quiet_when_looking,
        "language": preference.language,
        "email": user.email,
        "chat_targets": selectors.chat_targets_of(user),
    }


class PreferencesView(APIView):
    @extend_schema(responses=PreferencesSerializer)
    def get(self, request):
        """Your notification preferences and chat addresses (masked)."""
        return Response(PreferencesSerializer(_preferences(request.user)).data)

    @extend_schema(request=PreferencesUpdateSerializer, responses=PreferencesSerializer)
    def put(self, request):
        """Set your preferences: each field given replaces its value, a field left out
        keeps it. A chat address that Apprise cannot parse is refused (400) and nothing
        changes; none is ever contacted to check it."""
        serializer = PreferencesUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        targets = data.pop("chat_targets", None)
        with transaction.atomic():
            actions.preferences_update(actor=request.user, **data)
            if targets is not None:
                actions.chat_targets_set(actor=request.user, targets=targets)
        return Response(PreferencesSerializer(_preferences(request.user)).data)
