"""Playbooks and tasks API: thin views over the playbook actions and selectors."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import selectors as incident_selectors
from incidents.api.fields import BooleanField, IntegerField, ListField, ModelSerializer
from incidents.api.serializers import MemberSerializer, UserSummarySerializer
from incidents.models import ApproverFunction, Incident, Role

from . import actions, rules, selectors
from .models import (
    COPIED_CONTACT_FIELDS,
    Contact,
    Playbook,
    PlaybookPolicy,
    PlaybookStep,
    StatementTemplate,
    Task,
)

User = get_user_model()


class StepSerializer(ModelSerializer):
    class Meta:
        model = PlaybookStep
        fields = [
            "id",
            "order",
            "title",
            "guidance",
            "role",
            "due_minutes",
            "repeat_minutes",
            "completes_on",
        ]


class TemplateSerializer(ModelSerializer):
    class Meta:
        model = StatementTemplate
        fields = ["id", "order", "name", "kind", "channel", "language", "author_type", "text"]


class PolicySerializer(ModelSerializer):
    policy = serializers.CharField(source="policy.name")

    class Meta:
        model = PlaybookPolicy
        fields = ["severity", "policy"]


class ContactSerializer(ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", *COPIED_CONTACT_FIELDS]


class PlaybookSerializer(ModelSerializer):
    needs_review = serializers.SerializerMethodField()

    class Meta:
        model = Playbook
        fields = [
            "id",
            "name",
            "description",
            "categories",
            "min_severity",
            "max_severity",
            "brand",
            "version",
            "last_reviewed_on",
            "needs_review",
        ]

    def get_needs_review(self, playbook) -> bool:
        return playbook.needs_review()


class PlaybookDetailSerializer(PlaybookSerializer):
    steps = StepSerializer(many=True, read_only=True)
    templates = TemplateSerializer(many=True, read_only=True)
    policies = PolicySerializer(many=True, read_only=True)
    contacts = ContactSerializer(many=True, read_only=True)

    class Meta(PlaybookSerializer.Meta):
        fields = [*PlaybookSerializer.Meta.fields, "steps", "templates", "policies", "contacts"]


class UserRefSerializer(serializers.Serializer):
    id = IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


class TaskSerializer(ModelSerializer):
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    completed_by = UserRefSerializer(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField(
        help_text="What you may do with this task now: "
        + ", ".join(f"`{name}`" for name in rules.TASK_ACTIONS)
        + " (`assign`: anyone who can act, the lead; `take`/`release`: yourself)."
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "incident",
            "title",
            "guidance",
            "role",
            "due_at",
            "overdue",
            "repeat_minutes",
            "occurrence",
            "completes_on",
            "status",
            "assignee",
            "completed_at",
            "completed_by",
            "note",
            "available_actions",
        ]

    def get_overdue(self, task) -> bool:
        return task.is_overdue()

    @extend_schema_field(ListField(child=serializers.ChoiceField(choices=rules.TASK_ACTIONS)))
    def get_available_actions(self, task) -> list[str]:
        """For the requesting user; a list passes the `incident` with its cell loaded."""
        request = self.context.get("request")
        if request is None:
            return []
        incident = self.context.get("incident")
        return rules.available_actions(request.user, task, incident=incident)


class PlaybookListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "category", str, description="only playbooks suiting it (with severity)"
            ),
            OpenApiParameter("severity", int),
        ],
        responses=PlaybookSerializer(many=True),
    )
    def get(self, request):
        """Active playbooks; with `category` and `severity`, only those that suit them."""
        category, severity = (
            request.query_params.get("category"),
            request.query_params.get("severity"),
        )
        if severity is not None and severity not in ("1", "2", "3", "4"):
            raise ValidationError({"severity": "1, 2, 3 or 4."})
        playbooks = selectors.playbooks_for(category, severity)
        return Response(PlaybookSerializer(playbooks, many=True).data)


class PlaybookDetailView(APIView):
    @extend_schema(responses=PlaybookDetailSerializer)
    def get(self, request, pk):
        """One playbook with its steps, templates, policies by severity and contacts."""
        playbook = (
            Playbook.objects.filter(is_active=True)
            .prefetch_related(
                "steps",
                "templates",
                "contacts",
                Prefetch("policies", PlaybookPolicy.objects.select_related("policy")),
            )
            .filter(pk=pk)
            .first()
        )
        if playbook is None:
            raise NotFound()
        return Response(PlaybookDetailSerializer(playbook).data)


class IncidentTasksView(APIView):
    @extend_schema(responses=TaskSerializer(many=True))
    def get(self, request, pk):
        """The incident's tasks (open and done), by due time."""
        try:  # with its cell, so that each task's available_actions costs no query
            incident = incident_selectors.incident_for_room(request.user, pk)
        except Incident.DoesNotExist:
            raise NotFound() from None
        tasks = selectors.tasks_of(incident).order_by("due_at", "order", "id")
        context = {"request": request, "incident": incident}
        return Response(TaskSerializer(tasks, many=True, context=context).data)


def _task_response(request, task) -> dict:
    fresh = selectors.tasks_of(task.incident).get(pk=task.pk)
    return TaskSerializer(fresh, context={"request": request, "incident": task.incident}).data


def visible_task(request, pk) -> Task:
    task = (
        Task.objects.filter(incident__in=incident_selectors.incidents_visible_to(request.user))
        .select_related("incident")
        .filter(pk=pk)
        .first()
    )
    if task is None:
        raise NotFound()
    return task


class TaskCompleteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class TaskCompleteView(APIView):
    @extend_schema(request=TaskCompleteSerializer, responses=TaskSerializer)
    def post(self, request, pk):
        """Mark the task done (any member but observers). A repeating task schedules its
        next occurrence."""
        task = visible_task(request, pk)
        serializer = TaskCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = actions.task_complete(task=task, actor=request.user, **serializer.validated_data)
        return Response(_task_response(request, task))


class TaskAssignSerializer(serializers.Serializer):
    assignee = IntegerField(
        allow_null=True, help_text="A user id of the cell (not an observer), or null to unassign."
    )


class TaskAssignView(APIView):
    @extend_schema(request=TaskAssignSerializer, responses=TaskSerializer)
    def post(self, request, pk):
        """Assign the task (the lead: anyone who can act; others: themselves)."""
        task = visible_task(request, pk)
        serializer = TaskAssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_id = serializer.validated_data["assignee"]
        assignee = None
        if user_id is not None:
            assignee = User.objects.filter(pk=user_id).first()
            if assignee is None:
                raise ValidationError({"assignee": "No such user."})
        task = actions.task_assign(task=task, actor=request.user, assignee=assignee)
        return Response(_task_response(request, task))


# --- The committee roster and staffing the cell from it -----------------------------------


class CellPlaceSerializer(serializers.Serializer):
    role = serializers.CharField()
    function = serializers.CharField()
    role_label = serializers.CharField(source="role_display")


class RosterPersonSerializer(serializers.Serializer):
    contact = IntegerField(
        source="contact.pk", help_text="The roster entry's id: what `staff/` takes."
    )
    name = serializers.CharField(source="contact.name")
    role_title = serializers.CharField(source="contact.role_title")
    email = serializers.CharField(source="contact.email")
    role = serializers.CharField(
        source="contact.role", help_text="The cell role the roster gives them, or empty."
    )
    function = serializers.CharField(
        source="contact.function", help_text="For an approver: what they sign off for."
    )
    backup = serializers.CharField(source="contact.backup")
    backup_email = serializers.CharField(source="contact.backup_email")
    account = UserSummarySerializer(
        allow_null=True, help_text="The active account with this e-mail, or null."
    )
    backup_account = UserSummarySerializer(allow_null=True)
    in_cell = CellPlaceSerializer(
        source="membership", allow_null=True, help_text="Their place in the cell now, or null."
    )
    selectable = BooleanField(
        help_text="Has an account and is not in the cell: `staff/` can add them."
    )


class RosterSerializer(serializers.Serializer):
    available_actions = ListField(
        child=serializers.ChoiceField(choices=rules.ROSTER_ACTIONS),
        help_text="`staff_cell`: you may add people of the roster (the lead).",
    )
    people = RosterPersonSerializer(many=True)


def _room_incident(request, pk) -> Incident:
    try:  # with its cell: the rules and the "in the cell" column cost no more queries
        return incident_selectors.incident_for_room(request.user, pk)
    except Incident.DoesNotExist:
        raise NotFound() from None


class RosterView(APIView):
    @extend_schema(responses=RosterSerializer)
    def get(self, request, pk):
        """The incident's committee roster (from its playbook) with each person's account
        (matched by e-mail) and place in the cell; at most 200 people."""
        incident = _room_incident(request, pk)
        data = {
            "available_actions": rules.roster_actions(request.user, incident),
            "people": selectors.roster_rows(incident),
        }
        return Response(RosterSerializer(data).data)


class StaffPersonSerializer(serializers.Serializer):
    contact = IntegerField(help_text="A roster entry's id (GET roster/).")
    role = serializers.ChoiceField(
        choices=[(r, Role(r).label) for r in actions.STAFF_ROLES],
        help_text="Not `lead`: leadership is handed over.",
    )
    function = serializers.ChoiceField(
        choices=ApproverFunction.choices,
        required=False,
        allow_blank=True,
        help_text="Required for an approver; ignored for other roles.",
    )


class StaffSerializer(serializers.Serializer):
    people = StaffPersonSerializer(many=True, max_length=actions.MAX_STAFFED)


class StaffResultSerializer(serializers.Serializer):
    added = MemberSerializer(many=True)


class RosterStaffView(APIView):
    @extend_schema(request=StaffSerializer, responses={201: StaffResultSerializer})
    def post(self, request, pk):
        """Add several people of the roster to the cell at once (the lead), all or none:
        400 lists every problem in `problems` ({"contact", "detail"}), nobody is added."""
        incident = _room_incident(request, pk)
        serializer = StaffSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        added = actions.cell_staff(
            incident=incident, actor=request.user, people=serializer.validated_data["people"]
        )
        return Response(StaffResultSerializer({"added": added}).data, status=201)
