"""Thin API views for statements: validate -> action -> serialize. A statement outside your
cells is a 404, like its incident."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from incidents.api.fields import IntegerField
from incidents.api.pagination import CursorPagination
from incidents.api.views import visible_incident

from .. import actions, outlets, permissions, rules, selectors
from ..drafting import draft_from_template
from ..models import Statement
from .serializers import (
    ApproveSerializer,
    PublishSerializer,
    RequestChangesSerializer,
    RevisionSerializer,
    StatementCreateSerializer,
    StatementEditSerializer,
    StatementSerializer,
    WithdrawSerializer,
)


def _serialize_list(request, statements) -> list:
    """Statements with the user's `available_actions`, their memberships read once."""
    members = rules.memberships_of(request.user, {s.incident_id for s in statements})
    context = {"request": request, "members": members}
    return StatementSerializer(statements, many=True, context=context).data


def visible_statement(request, pk) -> Statement:
    try:
        return selectors.statement_visible_to(request.user, pk)
    except Statement.DoesNotExist:
        raise NotFound() from None


class StatementPagination(CursorPagination):
    """Newest first: a page stays put while statements are drafted (as the evidence's)."""

    ordering = ("-created_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class InboxPagination(PageNumberPagination):
    """The inbox is decided in Python (who may sign what now), so it is paged by number."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


PAGE_PARAMETERS = [
    OpenApiParameter("page_size", int, description="statements a page (default 50, at most 200)")
]


class StatementPageSerializer(serializers.Serializer):
    """A cursor page of an incident's statements (its own schema name: the approvals inbox's
    number pages are `NumberedStatementPage`)."""

    next = serializers.URLField(allow_null=True, help_text="The next page; null at the end.")
    previous = serializers.URLField(allow_null=True)
    results = StatementSerializer(many=True)


class IncidentStatementsView(GenericAPIView):
    serializer_class = StatementSerializer
    pagination_class = StatementPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, description="the page: follow `next` / `previous`"),
            *PAGE_PARAMETERS,
        ],
        responses=StatementPageSerializer,
    )
    def get(self, request, pk):
        """The incident's statements, newest first, a page at a time: `{"next", "previous",
        "results"}` (cursor pages of `page_size`, default 50, at most 200; `next` is null on
        the last page)."""
        incident = visible_incident(request, pk)
        page = self.paginate_queryset(selectors.incident_statements(incident))
        statements = selectors.with_progress(page, incident)
        # One incident: the viewer's membership is in its cell, loaded for the rules.
        members = {incident.pk: permissions.membership(request.user, incident)}
        context = {"request": request, "members": members}
        data = StatementSerializer(statements, many=True, context=context).data
        return self.get_paginated_response(data)

    @extend_schema(request=StatementCreateSerializer, responses={201: StatementSerializer})
    def post(self, request, pk):
        """Draft a statement (revision 1). Observers cannot."""
        incident = visible_incident(request, pk)
        serializer = StatementCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        template_id = data.pop("template", None)
        if template_id is not None:
            draft = draft_from_template(incident, template_id)
            if draft is None:
                raise ValidationError({"template": ["No template with this id in this incident."]})
            data = {**draft, **data}
        corrects_id = data.pop("corrects", None)
        corrects = None
        if corrects_id is not None:
            corrects = Statement.objects.filter(pk=corrects_id, incident=incident).first()
            if corrects is None:
                raise ValidationError({"corrects": ["No statement with this id in this incident."]})
        statement = actions.statement_create(
            incident=incident, actor=request.user, corrects=corrects, **data
        )
        return Response(
            StatementSerializer(
                visible_statement(request, statement.pk), context={"request": request}
            ).data,
            status=status.HTTP_201_CREATED,
        )


class StatementViewSet(viewsets.GenericViewSet):
    serializer_class = StatementSerializer
    lookup_value_converter = "id"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _respond(self, pk, code=status.HTTP_200_OK):
        statement = visible_statement(self.request, pk)
        return Response(
            StatementSerializer(statement, context={"request": self.request}).data, status=code
        )

    def _run(self, pk, serializer_class, action_fn):
        statement = visible_statement(self.request, pk)
        kwargs = {}
        if serializer_class is not None:
            serializer = serializer_class(data=self.request.data)
            serializer.is_valid(raise_exception=True)
            kwargs.update(serializer.validated_data)
        action_fn(statement=statement, actor=self.request.user, **kwargs)
        return self._respond(pk)

    def retrieve(self, request, pk=None):
        return self._respond(pk)

    @extend_schema(request=StatementEditSerializer, responses=StatementSerializer)
    def partial_update(self, request, pk=None):
        """Save new text as the next revision. Send the `revision` you started from: if
        someone saved in between you get 409 with `current_revision` and `current_text`."""
        statement = visible_statement(request, pk)
        serializer = StatementEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.statement_edit(
            statement=statement,
            actor=request.user,
            text=serializer.validated_data["text"],
            base_revision=serializer.validated_data["revision"],
        )
        return self._respond(pk)

    @extend_schema(responses=RevisionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a plain list, as answered
    def revisions(self, request, pk=None):
        """Every revision, oldest first, each with the SHA-256 of its text."""
        statement = visible_statement(request, pk)
        return Response(RevisionSerializer(selectors.revisions_of(statement), many=True).data)

    @extend_schema(request=None, responses=StatementSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send for approval. 400 when the text is over the channel's limit (with a
        `suggested_thread` for X)."""
        return self._run(pk, None, actions.statement_submit)

    @extend_schema(request=ApproveSerializer, responses=StatementSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the revision you read (approvers only, never your own text)."""
        return self._run(pk, ApproveSerializer, actions.statement_approve)

    @extend_schema(request=RequestChangesSerializer, responses=StatementSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        """Send back to the author with a required comment."""
        return self._run(pk, RequestChangesSerializer, actions.statement_request_changes)

    @extend_schema(request=PublishSerializer, responses=StatementSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Record publication (spokesperson; the lead when the policy allows)."""
        return self._run(pk, PublishSerializer, actions.statement_publish)

    @extend_schema(request=WithdrawSerializer, responses=StatementSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Abandon an unpublished statement (author or lead)."""
        return self._run(pk, WithdrawSerializer, actions.statement_withdraw)


class AwaitingSerializer(serializers.Serializer):
    """Something else than a statement waiting for your sign-off (statements.outlets)."""

    kind = serializers.CharField(help_text='what it is: "postmortem"')
    what = serializers.CharField(help_text="its name, in your language")
    incident_id = IntegerField()
    incident = serializers.CharField(help_text="the incident's title")
    revision = IntegerField(help_text="the revision to sign")
    url = serializers.CharField(help_text="its page")
    api_url = serializers.CharField(help_text="where the API reads it and takes the review")
    since = serializers.DateTimeField(allow_null=True, help_text="when it was submitted")


class NumberedStatementPageSerializer(serializers.Serializer):
    """A page, by number, of statements decided in Python (who may do what now)."""

    count = IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = StatementSerializer(many=True)


class ApprovalsPageSerializer(NumberedStatementPageSerializer):
    others = AwaitingSerializer(many=True)


class ApprovalsInboxView(GenericAPIView):
    serializer_class = StatementSerializer
    pagination_class = InboxPagination

    @extend_schema(
        parameters=[OpenApiParameter("page", int), *PAGE_PARAMETERS],
        responses=ApprovalsPageSerializer,
    )
    def get(self, request):
        """Statements, across your incidents, waiting for your approval now, oldest
        submission first, a page at a time: `{"count", "next", "previous", "results"}`
        (`?page=`, `page_size` default 50, at most 200); and `others`, on every page: what
        else waits for your sign-off (post-mortems), as "My approvals" lists them."""
        page = self.paginate_queryset(selectors.approvals_inbox(request.user))
        response = self.get_paginated_response(_serialize_list(request, page))
        response.data["others"] = AwaitingSerializer(
            outlets.awaiting_approval(request.user), many=True
        ).data
        return response


class ToPublishView(GenericAPIView):
    serializer_class = StatementSerializer
    pagination_class = InboxPagination

    @extend_schema(
        parameters=[OpenApiParameter("page", int), *PAGE_PARAMETERS],
        responses=NumberedStatementPageSerializer,
    )
    def get(self, request):
        """Approved statements, across your incidents, that you may publish now (as the
        spokesperson, or the lead where the policy lets the lead publish), approved longest
        ago first, as "My approvals" lists them: `{"count", "next", "previous", "results"}`
        (`?page=`, `page_size` default 50, at most 200; at most 100 in all). Publish one
        with `POST /api/statements/{id}/publish/`."""
        page = self.paginate_queryset(selectors.to_publish(request.user))
        return self.get_paginated_response(_serialize_list(request, page))
