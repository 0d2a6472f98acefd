"""The post-mortem's API (docs/api.md, "Post-mortem"): the post-mortem of an incident with
its computed figures (figures.report, the page's own), its written parts and action items
(optimistic concurrency: `base_version`), the sign-off and the frozen versions. Whoever may
see the incident reads; the lead writes; the cell's approvers sign off. Thin: the rules
and writes are actions.py's."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import selectors as incident_selectors
from incidents.api.fields import BooleanField, FloatField, IntegerField, ListField
from incidents.choices import Category
from incidents.models import Incident
from incidents.people import display_name
from statements.choices import Language, StatementStatus

from . import actions, figures, metrics, metrics_export, rules, selectors
from .choices import Decision, ItemStatus, Part, PostmortemStatus
from .forms import MetricsFilterForm
from .models import COMMENT_MAX, PART_MAX, REASON_MAX, TITLE_MAX, ActionItem


def _incident(request, pk) -> Incident:
    try:
        return incident_selectors.incident_for_room(request.user, pk)
    except Incident.DoesNotExist:
        raise Http404 from None


def _postmortem(incident):
    pm = selectors.postmortem_of(incident)
    if pm is None:
        raise Http404
    return pm


class PostmortemPersonSerializer(serializers.Serializer):
    id = IntegerField()
    name = serializers.CharField()


class PrecedentItemSerializer(serializers.Serializer):
    """An action item as "has this happened before?" shows it (and the base of the full one)."""

    id = IntegerField()
    title = serializers.CharField()
    owner = PostmortemPersonSerializer()
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=ItemStatus.choices)


class ActionItemSerializer(PrecedentItemSerializer):
    reason = serializers.CharField()
    version = IntegerField()
    closed_at = serializers.DateTimeField(allow_null=True)
    can_close = BooleanField()


class PostmortemApprovalSerializer(serializers.Serializer):
    reviewer = PostmortemPersonSerializer()
    function = serializers.CharField()
    decision = serializers.ChoiceField(choices=Decision.choices)
    revision = IntegerField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class PostmortemVersionSummarySerializer(serializers.Serializer):
    number = IntegerField()
    revision = IntegerField()
    content_hash = serializers.CharField()
    signed_off_at = serializers.DateTimeField()


class PostmortemPhaseSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    at = serializers.DateTimeField()
    detail = serializers.CharField()
    late = BooleanField(allow_null=True)


class PostmortemFiguresSerializer(serializers.Serializer):
    """figures.as_json: phases, metrics (seconds, shares in [0, 1], null when the records
    do not allow the figure), the reaction to each published statement, the hourly series,
    the people, the key events and the timeline's head."""

    phases = PostmortemPhaseSerializer(many=True)
    metrics = serializers.DictField()
    statements = ListField(child=serializers.DictField())
    series = serializers.DictField()
    members = ListField(child=serializers.DictField())
    defenders = ListField(child=serializers.DictField())
    detractors = ListField(child=serializers.DictField())
    key_events = ListField(child=serializers.DictField())
    key_events_total = IntegerField()
    timeline_head = serializers.DictField()


class LessonsStatementSerializer(serializers.Serializer):
    """A "what we learned" statement started from the post-mortem (the statement's own
    resource: /api/statements/{id}/)."""

    id = IntegerField(help_text="The statement's id.")
    language = serializers.ChoiceField(choices=Language.choices)
    status = serializers.ChoiceField(choices=StatementStatus.choices)
    version = IntegerField(help_text="The signed-off version it was started from.")


def _lessons(link) -> dict:
    statement = link.statement
    return {
        "id": statement.pk,
        "language": statement.language,
        "status": statement.status,
        "version": link.version,
    }


class PostmortemSerializer(serializers.Serializer):
    incident = IntegerField()
    status = serializers.ChoiceField(choices=PostmortemStatus.choices)
    summary = serializers.CharField()
    went_well = serializers.CharField()
    went_wrong = serializers.CharField()
    lucky = serializers.CharField()
    factors = serializers.CharField()
    text_version = IntegerField(help_text="The base_version of the next save.")
    revision = IntegerField(help_text="The revision an approval is given on.")
    policy = serializers.CharField(allow_null=True)
    updated_by = PostmortemPersonSerializer()
    updated_at = serializers.DateTimeField()
    items = ActionItemSerializer(many=True)
    approvals = PostmortemApprovalSerializer(many=True)
    versions = PostmortemVersionSummarySerializer(many=True)
    lessons_statements = LessonsStatementSerializer(many=True)
    approval_stall = serializers.CharField(
        allow_null=True,
        help_text="In review: why the cell cannot bring it to sign-off (whom to add); null "
        "when it can.",
    )
    available_actions = ListField(
        child=serializers.ChoiceField(choices=[(a, a) for a in rules.ACTIONS])
    )
    figures = PostmortemFiguresSerializer()


def _person(user) -> dict:
    return {"id": user.pk, "name": display_name(user)}


def serialize(request, incident) -> dict:
    state = selectors.state_of(incident)
    pm = state.postmortem
    return {
        "incident": incident.pk,
        "status": pm.status,
        **{part: getattr(pm, part) for part in Part.values},
        "text_version": pm.text_version,
        "revision": pm.revision,
        "policy": pm.policy.name if pm.policy else None,
        "updated_by": _person(pm.updated_by),
        "updated_at": pm.updated_at,
        "items": [
            {
                "id": item.pk,
                "title": item.title,
                "owner": _person(item.owner),
                "due_date": item.due_date,
                "status": item.status,
                "reason": item.reason,
                "version": item.version,
                "closed_at": item.closed_at,
                "can_close": rules.can_close_item(request.user, incident, item),
            }
            for item in state.items
        ],
        "approvals": [
            {
                "reviewer": _person(a.reviewer),
                "function": a.function,
                "decision": a.decision,
                "revision": a.revision,
                "comment": a.comment,
                "created_at": a.created_at,
            }
            for a in state.approvals
        ],
        "versions": [
            {
                "number": v.number,
                "revision": v.revision,
                "content_hash": v.content_hash,
                "signed_off_at": v.signed_off_at,
            }
            for v in state.versions
        ],
        "lessons_statements": [_lessons(link) for link in state.lessons_statements],
        "approval_stall": state.stall or None,
        "available_actions": state.actions_for(request.user, incident),
        "figures": figures.as_json(figures.report(incident)),
    }


def _answer(request, incident, status=200):
    return Response(PostmortemSerializer(serialize(request, incident)).data, status=status)


class PostmortemPartsSerializer(serializers.Serializer):
    base_version = IntegerField(
        min_value=1, help_text="The text_version the text was written from."
    )
    summary = serializers.CharField(max_length=PART_MAX, required=False, allow_blank=True)
    went_well = serializers.CharField(max_length=PART_MAX, required=False, allow_blank=True)
    went_wrong = serializers.CharField(max_length=PART_MAX, required=False, allow_blank=True)
    lucky = serializers.CharField(max_length=PART_MAX, required=False, allow_blank=True)
    factors = serializers.CharField(max_length=PART_MAX, required=False, allow_blank=True)


class PostmortemView(APIView):
    @extend_schema(operation_id="incidents_postmortem_retrieve", responses=PostmortemSerializer)
    def get(self, request, pk):
        """The incident's post-mortem with its computed figures (whoever may see the
        incident); 404 when none was started."""
        incident = _incident(request, pk)
        _postmortem(incident)
        return _answer(request, incident)

    @extend_schema(request=None, responses={201: PostmortemSerializer})
    def post(self, request, pk):
        """Start the post-mortem (the lead; any time, as a draft). Again: the same one."""
        incident = _incident(request, pk)
        actions.postmortem_create(incident=incident, actor=request.user)
        return _answer(request, incident, status=201)

    @extend_schema(request=PostmortemPartsSerializer, responses=PostmortemSerializer)
    def patch(self, request, pk):
        """Save written parts from `base_version` (the lead). 409 with `current_version`
        when someone saved since: nothing is overwritten."""
        incident = _incident(request, pk)
        pm = _postmortem(incident)
        serializer = PostmortemPartsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        actions.postmortem_write(
            postmortem=pm, actor=request.user, base_version=data.pop("base_version"), **data
        )
        return _answer(request, incident)


class ActionItemInSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX)
    owner = IntegerField(min_value=1, help_text="A user id from the cell.")
    due_date = serializers.DateField()


class ItemsView(APIView):
    @extend_schema(request=ActionItemInSerializer, responses={201: PostmortemSerializer})
    def post(self, request, pk):
        """Add an action item (the lead): an owner from the cell, a due date not in the
        past."""
        incident = _incident(request, pk)
        pm = _postmortem(incident)
        serializer = ActionItemInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = next((u for u in selectors.owners(incident) if u.pk == data["owner"]), None)
        actions.item_add(
            postmortem=pm,
            actor=request.user,
            title=data["title"],
            owner=owner,
            due_date=data["due_date"],
        )
        return _answer(request, incident, status=201)


class ActionItemUpdateSerializer(serializers.Serializer):
    base_version = IntegerField(min_value=1, help_text="The item's version.")
    title = serializers.CharField(max_length=TITLE_MAX, required=False)
    owner = IntegerField(min_value=1, required=False)
    due_date = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=ItemStatus.choices, required=False)
    reason = serializers.CharField(max_length=REASON_MAX, required=False, allow_blank=True)


class ItemView(APIView):
    @extend_schema(request=ActionItemUpdateSerializer, responses=PostmortemSerializer)
    def patch(self, request, pk, item_pk):
        """Change an action item from its `base_version`: action, owner, due date (the
        lead); status done / dropped (with a reason) / open (the lead or the owner)."""
        incident = _incident(request, pk)
        pm = _postmortem(incident)
        item = get_object_or_404(ActionItem, pk=item_pk, postmortem=pm)
        serializer = ActionItemUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "owner" in data:
            wanted = data.pop("owner")
            data["owner"] = next((u for u in selectors.owners(incident) if u.pk == wanted), None)
            if data["owner"] is None:
                raise serializers.ValidationError(
                    {"owner": ["An action's owner must be a member of the crisis cell."]}
                )
        actions.item_update(item=item, actor=request.user, **data)
        return _answer(request, incident)


class SubmitView(APIView):
    @extend_schema(request=None, responses=PostmortemSerializer)
    def post(self, request, pk):
        """Ask for sign-off (the lead), under the incident's approval policy."""
        incident = _incident(request, pk)
        actions.postmortem_submit(postmortem=_postmortem(incident), actor=request.user)
        return _answer(request, incident)


class PostmortemReviewSerializer(serializers.Serializer):
    revision = IntegerField(min_value=1)
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(max_length=COMMENT_MAX, required=False, allow_blank=True)


class ReviewView(APIView):
    @extend_schema(request=PostmortemReviewSerializer, responses=PostmortemSerializer)
    def post(self, request, pk):
        """An approver's decision on `revision` (409 when it changed since). Once the
        policy is met, the post-mortem is signed off and frozen as a new version."""
        incident = _incident(request, pk)
        serializer = PostmortemReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.postmortem_review(
            postmortem=_postmortem(incident), actor=request.user, **serializer.validated_data
        )
        return _answer(request, incident)


class ShareSerializer(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=[], help_text="One of the crisis page's languages (CRISIS_CENTER_LANGUAGES)."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = actions.lessons_languages()


class ShareView(APIView):
    @extend_schema(
        request=ShareSerializer,
        responses={201: LessonsStatementSerializer, 200: LessonsStatementSerializer},
    )
    def post(self, request, pk):
        """Start the public "what we learned" statement (the lead and drafters, once signed
        off): a draft update of the crisis center channel pre-filled from the signed-off
        lessons, then statements' workflow. 201 when started; 200 with the one already
        started in that language (not withdrawn): never a duplicate."""
        incident = _incident(request, pk)
        pm = _postmortem(incident)
        serializer = ShareSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link, created = actions.lessons_statement_start(
            postmortem=pm, actor=request.user, language=serializer.validated_data["language"]
        )
        return Response(
            LessonsStatementSerializer(_lessons(link)).data, status=201 if created else 200
        )


class PostmortemVersionSerializer(PostmortemVersionSummarySerializer):
    content = serializers.DictField(help_text="What was signed off, whole (read-only).")


class VersionView(APIView):
    @extend_schema(responses=PostmortemVersionSerializer)
    def get(self, request, pk, number):
        """A signed-off version, frozen: never changed."""
        incident = _incident(request, pk)
        pm = _postmortem(incident)
        try:
            version = selectors.version_of(pm, number)
        except pm.versions.model.DoesNotExist:
            raise Http404 from None
        return Response(
            PostmortemVersionSerializer(
                {
                    "number": version.number,
                    "revision": version.revision,
                    "content_hash": version.content_hash,
                    "signed_off_at": version.signed_off_at,
                    "content": version.content,
                }
            ).data
        )


class PrecedentSerializer(serializers.Serializer):
    id = IntegerField()
    title = serializers.CharField()
    severity = IntegerField()
    status = serializers.CharField()
    declared_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    postmortem_status = serializers.ChoiceField(
        choices=PostmortemStatus.choices, allow_null=True, help_text="null: none was written."
    )
    summary = serializers.CharField(help_text="The post-mortem's summary ('' without one).")
    went_well = serializers.CharField()
    went_wrong = serializers.CharField()
    items = PrecedentItemSerializer(many=True, help_text="Open first, then by due date.")


class PrecedentsSerializer(serializers.Serializer):
    category = serializers.CharField()
    results = PrecedentSerializer(many=True)
    more = BooleanField(
        help_text="More ended incidents of this category exist than the ones shown."
    )


def _precedent(row) -> dict:
    pm = row.pm
    return {
        "id": row.pk,
        "title": row.title,
        "severity": row.severity,
        "status": row.status,
        "declared_at": row.declared_at,
        "resolved_at": row.resolved_at,
        "postmortem_status": pm.status if pm else None,
        "summary": pm.summary if pm else "",
        "went_well": pm.went_well if pm else "",
        "went_wrong": pm.went_wrong if pm else "",
        "items": [
            {
                "id": item.pk,
                "title": item.title,
                "owner": {"id": item.owner_id, "name": display_name(item.owner)},
                "due_date": item.due_date,
                "status": item.status,
            }
            for item in row.pm_items
        ],
    }


class PrecedentsView(APIView):
    @extend_schema(responses=PrecedentsSerializer)
    def get(self, request, pk):
        """ "Has this happened before?": the resolved or closed incidents of the same
        category the caller may see (staff: all; others: the cells they are in), newest
        first, at most 5, with their post-mortem's lessons and action items."""
        incident = _incident(request, pk)
        found = selectors.precedents(request.user, incident)
        return Response(
            PrecedentsSerializer(
                {
                    "category": incident.category,
                    "results": [_precedent(row) for row in found.incidents],
                    "more": found.more,
                }
            ).data
        )


class MetricsCountSerializer(serializers.Serializer):
    count = IntegerField()


class MetricsCategorySerializer(MetricsCountSerializer):
    category = serializers.ChoiceField(choices=Category.choices)


class MetricsSeveritySerializer(MetricsCountSerializer):
    severity = IntegerField(min_value=1, max_value=4)


class MetricsFiguresSerializer(serializers.Serializer):
    """Times in seconds and shares in [0, 1]; null when no incident of the set allows it."""

    incidents = IntegerField()
    by_category = MetricsCategorySerializer(many=True)
    by_severity = MetricsSeveritySerializer(many=True)
    declare_median_seconds = FloatField(allow_null=True)
    first_response_median_seconds = FloatField(allow_null=True)
    deadlines_due = IntegerField()
    deadlines_met = IntegerField()
    deadlines_met_share = FloatField(allow_null=True)
    approvals = IntegerField()
    approval_median_seconds = FloatField(allow_null=True)
    replies_needing = IntegerField()
    replies_answered = IntegerField()
    reply_coverage = FloatField(allow_null=True)
    promises_due = IntegerField(
        help_text="Crisis pages' promised updates that came due (kept, late or missed)."
    )
    promises_kept = IntegerField(help_text="Of those, kept on time.")
    promises_kept_share = FloatField(allow_null=True)


class MetricsMonthSerializer(MetricsFiguresSerializer):
    month = serializers.CharField(help_text="YYYY-MM, in the site's time zone.")


class MetricsOwnerSerializer(serializers.Serializer):
    owner = PostmortemPersonSerializer()
    open = IntegerField()
    overdue = IntegerField()


class MetricsSerializer(serializers.Serializer):
    since = serializers.CharField()
    until = serializers.CharField()
    category = serializers.CharField(help_text="'' for every category.")
    total = MetricsFiguresSerializer()
    months = MetricsMonthSerializer(many=True)
    open_items_by_owner = MetricsOwnerSerializer(many=True)


class MetricsView(APIView):
    @extend_schema(
        operation_id="metrics_retrieve",
        parameters=[
            OpenApiParameter("since", str, description="First month, YYYY-MM."),
            OpenApiParameter("until", str, description="Last month, YYYY-MM (included)."),
            OpenApiParameter("category", str, enum=Category.values),
        ],
        responses=MetricsSerializer,
    )
    def get(self, request):
        """Response metrics across the incidents the caller may see, per month of
        declaration (the last 12 months by default, 24 at most): staff and the leads of
        crisis cells (403 otherwise). The metrics page's figures (docs/api.md, "Metrics")."""
        if not metrics.can_view(request.user):
            raise PermissionDenied(_("The metrics are for the leads of crisis cells and staff."))
        form = MetricsFilterForm(request.query_params)
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    field: [e["message"] for e in errors]
                    for field, errors in form.errors.get_json_data().items()
                }
            )
        report = metrics.report(request.user, form.filters())
        return Response(MetricsSerializer(metrics_export.as_json(report)).data)
