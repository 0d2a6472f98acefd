from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.api.fields import (
    BooleanField,
    IntegerField,
    ListField,
    LocalDateTimeField,
    ModelSerializer,
    active_locale,
    choice_label,
    datetime_representation,
)
from incidents.api.serializers import BlankableURLField, UserSummarySerializer, user_summary

from .. import drafting, limits, preapproval, rules
from ..models import Channel, Language, Review, Revision, Statement, StatementKind


class ReviewSerializer(ModelSerializer):
    reviewer = UserSummarySerializer(read_only=True)

    class Meta:
        model = Review
        fields = ["revision", "reviewer", "function", "decision", "comment", "created_at"]

    def to_representation(self, review):
        # Built directly, as the incidents' read serializers are (incidents/api/fields.py):
        # a ModelSerializer builds and walks its fields, and each statement nests two lists.
        zone, _language = active_locale(self)
        return {
            "revision": review.revision,
            "reviewer": user_summary(review.reviewer),
            "function": review.function,
            "decision": review.decision,
            "comment": review.comment,
            "created_at": datetime_representation(review.created_at, zone),
        }


class PreapproverSerializer(serializers.Serializer):
    id = IntegerField()
    name = serializers.CharField()
    function = serializers.CharField()


class PreapprovalSerializer(serializers.Serializer):
    template = IntegerField(allow_null=True)
    template_name = serializers.CharField()
    applies = BooleanField(help_text="Submitted as it is now, the statement is approved at once.")
    detail = serializers.CharField(help_text="The sentence the statement page shows.")
    approved_in_advance_by = PreapproverSerializer(many=True)


class StatementSerializer(ModelSerializer):
    author = UserSummarySerializer(read_only=True)
    revised_by = UserSummarySerializer(read_only=True)
    published_by = UserSummarySerializer(read_only=True, allow_null=True)
    reply_to_url = BlankableURLField(read_only=True)
    published_url = BlankableURLField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    policy = serializers.CharField(source="policy.name", read_only=True)
    limit = IntegerField(read_only=True, allow_null=True)
    length = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField()
    awaiting = serializers.SerializerMethodField()
    reviews = serializers.SerializerMethodField()
    approval_stall = serializers.SerializerMethodField(
        help_text="Why the statement waits (in review), or would wait once submitted (draft), "
        "on nobody: the policy functions no approver of the cell can sign off, and whom the "
        "playbook roster suggests adding. The same text as the 409 that refuses `submit`; "
        "null when the cell can approve it."
    )
    unfilled_blanks = serializers.SerializerMethodField(
        help_text='Fill-ins the text still holds, as written ("[product]", "[your first '
        'name]": square brackets around words with a lower-case letter), at most 10; empty '
        "when none, and for a published or withdrawn statement."
    )
    approval_deadline = serializers.DateTimeField(
        source="deadline_at",
        read_only=True,
        allow_null=True,
        help_text="In review: when the awaited approval step is late (its policy deadline); "
        "null without a deadline.",
    )
    escalated_at = serializers.SerializerMethodField(
        help_text="When the awaited step, late, was escalated to the roster's backups and the "
        "lead; null if not (yet)."
    )
    edit_voids_approval = serializers.SerializerMethodField(
        help_text="Saving new text now would void approvals already given (an approved "
        "statement goes back to review)."
    )
    template = IntegerField(
        source="template_id",
        read_only=True,
        allow_null=True,
        help_text="The incident's template it was made from (a reply from the reply queue's "
        "templates), or null.",
    )
    preapproval = serializers.SerializerMethodField(
        help_text="One statement only (null in lists, and when not made from a template): "
        "whether submitting it as it is approves it at once (`applies`: made from a reply "
        "template approved in advance, only its placeholders filled, the incident's policy "
        "allowing it), who approved the template, and the sentence the page shows."
    )
    available_actions = serializers.SerializerMethodField(
        help_text="What you may do with this statement now: "
        + ", ".join(f"`{name}`" for name in rules.STATEMENT_ACTIONS)
        + ". The statement page offers exactly these; anything else is refused (403 or "
        "409). `correct` means drafting a correction of this published statement."
    )

    class Meta:
        model = Statement
        fields = [
            "id",
            "incident",
            "kind",
            "channel",
            "language",
            "title",
            "reply_to_account",
            "reply_to_url",
            "corrects",
            "status",
            "status_label",
            "revision",
            "text",
            "length",
            "limit",
            "author",
            "revised_by",
            "policy",
            "approvals",
            "awaiting",
            "approval_stall",
            "unfilled_blanks",
            "approval_deadline",
            "escalated_at",
            "reviews",
            "available_actions",
            "edit_voids_approval",
            "template",
            "preapproval",
            "created_at",
            "submitted_at",
            "approved_at",
            "published_at",
            "published_url",
            "published_by",
            "withdrawn_at",
        ]
        read_only_fields = fields

    def to_representation(self, statement):
        """Built directly (as the incidents' read serializers are): the same dict as the
        declared fields give (tests/statements/test_api_reads.py checks it), without DRF
        walking 33 fields per row. The zone and language are read once per serializer,
        each person summarized once per response."""
        zone, language = active_locale(self)
        people = self.__dict__.setdefault("_people", {})

        def person(user):
            if user is None:
                return None
            summary = people.get(user.pk)
            if summary is None:
                summary = people[user.pk] = user_summary(user)
            return summary

        escalation = getattr(statement, "escalation", None)
        return {
            "id": statement.pk,
            "incident": statement.incident_id,
            "kind": statement.kind,
            "channel": statement.channel,
            "language": statement.language,
            "title": statement.title,
            "reply_to_account": statement.reply_to_account,
            "reply_to_url": statement.reply_to_url,
            "corrects": statement.corrects_id,
            "status": statement.status,
            "status_label": choice_label(Statement, "status", statement.status, language),
            "revision": statement.revision,
            "text": statement.text,
            "length": self.get_length(statement),
            "limit": statement.limit,
            "author": person(statement.author),
            "revised_by": person(statement.revised_by),
            "policy": statement.policy.name,
            "approvals": self._reviews(statement.approvals, person, zone),
            "awaiting": self.get_awaiting(statement),
            "approval_stall": self.get_approval_stall(statement),
            "unfilled_blanks": self.get_unfilled_blanks(statement),
            "approval_deadline": datetime_representation(statement.deadline_at, zone),
            "escalated_at": (
                None
                if escalation is None
                else datetime_representation(escalation.escalated_at, zone)
            ),
            "reviews": self._reviews(statement.all_reviews, person, zone),
            "available_actions": self.get_available_actions(statement),
            "edit_voids_approval": rules.edit_voids_approval(statement),
            "template": statement.template_id,
            "preapproval": self.get_preapproval(statement),
            "created_at": datetime_representation(statement.created_at, zone),
            "submitted_at": datetime_representation(statement.submitted_at, zone),
            "approved_at": datetime_representation(statement.approved_at, zone),
            "published_at": datetime_representation(statement.published_at, zone),
            "published_url": statement.published_url,
            "published_by": person(statement.published_by),
            "withdrawn_at": datetime_representation(statement.withdrawn_at, zone),
        }

    @staticmethod
    def _reviews(reviews, person, zone) -> list[dict]:
        """ReviewSerializer's dicts, without a serializer per statement and list."""
        return [
            {
                "revision": review.revision,
                "reviewer": person(review.reviewer),
                "function": review.function,
                "decision": review.decision,
                "comment": review.comment,
                "created_at": datetime_representation(review.created_at, zone),
            }
            for review in reviews
        ]

    @extend_schema_field(PreapprovalSerializer(allow_null=True))
    def get_preapproval(self, statement) -> dict | None:
        if self.parent is not None or statement.template_id is None:
            return None  # a list: no query per statement
        check = preapproval.check_reply(statement)
        return check.as_json() if check is not None else None

    def get_length(self, statement) -> int:
        """As the channel counts it (statements/limits.py), like the editor and submit."""
        return limits.length(statement.text, statement.channel)

    def get_approvals(self, statement) -> list[dict]:
        """Approvals of the current revision (earlier ones were voided by later edits)."""
        return ReviewSerializer(statement.approvals, many=True).data

    def get_awaiting(self, statement) -> list[str]:
        """The sign-offs still missing, e.g. "1. Legal"; empty when approved."""
        if statement.is_final or statement.progress.complete:
            return []
        return [str(r) for r in statement.progress.missing]

    @extend_schema_field(ListField(child=serializers.ChoiceField(choices=rules.STATEMENT_ACTIONS)))
    def get_available_actions(self, statement) -> list[str]:
        """For the requesting user. A list view passes `members` (the user's membership
        per incident, loaded once) so that no statement costs a query."""
        request = self.context.get("request")
        if request is None:
            return []
        members = self.context.get("members")
        member = members.get(statement.incident_id) if members is not None else rules.LOOKUP
        return rules.available_actions(request.user, statement, member=member)

    @extend_schema_field(ListField(child=serializers.CharField()))
    def get_unfilled_blanks(self, statement) -> list[str]:
        return drafting.blanks_to_fill(statement)

    def get_approval_stall(self, statement) -> str | None:
        request = self.context.get("request")
        return rules.approval_stall(statement, viewer=request.user if request else None)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_escalated_at(self, statement):
        escalation = getattr(statement, "escalation", None)
        if escalation is None:
            return None
        return serializers.DateTimeField().to_representation(escalation.escalated_at)

    def get_edit_voids_approval(self, statement) -> bool:
        return rules.edit_voids_approval(statement)

    def get_reviews(self, statement) -> list[dict]:
        """Every decision on every revision, oldest first, with comments."""
        return ReviewSerializer(statement.all_reviews, many=True).data


class StatementCreateSerializer(serializers.Serializer):
    template = IntegerField(
        required=False,
        min_value=1,
        help_text="An incident template (from its playbook): fills kind, channel, language "
        "and text, each of which you may still give yourself.",
    )
    kind = serializers.ChoiceField(choices=StatementKind.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    text = serializers.CharField(max_length=50_000, required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    reply_to_account = serializers.CharField(max_length=200, required=False, allow_blank=True)
    reply_to_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    corrects = IntegerField(required=False, allow_null=True)

    def validate(self, data):
        if "template" not in data:
            missing = [f for f in ("kind", "channel", "language", "text") if f not in data]
            if missing:
                raise serializers.ValidationError(
                    {field: ["This field is required (or give a template)."] for field in missing}
                )
        return data


class StatementEditSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=50_000)
    revision = IntegerField(min_value=1, help_text="The revision number your edit is based on.")


class ApproveSerializer(serializers.Serializer):
    revision = IntegerField(min_value=1, help_text="The revision you read.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class RequestChangesSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000)


class PublishSerializer(serializers.Serializer):
    url = serializers.CharField(
        default="",
        allow_blank=True,
        max_length=500,
        help_text="Where it was posted; required for social channels (400 without it).",
    )
    revision = IntegerField(
        required=False,
        min_value=1,
        help_text="The revision you copied; 409 if the text changed since.",
    )
    published_at = LocalDateTimeField(required=False)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RevisionSerializer(ModelSerializer):
    author = UserSummarySerializer(read_only=True)

    class Meta:
        model = Revision
        fields = ["number", "text", "author", "created_at", "content_hash"]
