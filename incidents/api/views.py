"""Thin API views: validate -> action -> serialize. Outsiders get 404, not 403, so the
API never confirms that an incident they are not part of exists."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from .. import actions, events, rules, selectors
from ..models import Incident, Membership
from .pagination import CursorPagination, FirstPageCountingPaginator
from .parsers import DEFAULT_PARSERS
from .serializers import (
    ENTRY_ROW_FIELDS,
    IncidentSerializer,
    MemberCreateSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    PromotionFreezeSerializer,
    TimelineEntryCreateSerializer,
    TimelineEntrySerializer,
    TransitionSerializer,
)

User = get_user_model()


class TokenThrottle(AnonRateThrottle):
    scope = "token"


@extend_schema(
    request=inline_serializer(
        "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
    ),
    responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
)
class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (`Authorization: Token <key>`).
    The sign-in lockout of the login page applies (django-axes: 429 with `detail` and
    Retry-After, crisiscell/lockout.py); the per-address throttle only stops floods."""

    throttle_classes = [TokenThrottle]
    parser_classes = DEFAULT_PARSERS  # ObtainAuthToken lists DRF's own JSON parser

    def get_serializer_context(self):
        # Authenticate with Django's request, not DRF's wrapper: django-axes marks the
        # request it is given as locked out, and its middleware only sees Django's.
        return {**super().get_serializer_context(), "request": self.request._request}


def visible_incident(request, pk) -> Incident:
    return get_object_or_404(selectors.incidents_visible_to(request.user), pk=pk)


class IncidentPagination(PageNumberPagination):
    # Most lists fit on their first page: counted from the page, not by a COUNT query.
    django_paginator_class = FirstPageCountingPaginator


class IncidentViewSet(viewsets.GenericViewSet):
    serializer_class = IncidentSerializer
    pagination_class = IncidentPagination
    lookup_value_converter = "id"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        params = self.request.query_params
        status_filter = params.get("status")
        # Asking for a status (even "closed") is explicit enough to look past open ones.
        open_only = not status_filter and params.get("open", "true").lower() != "false"
        qs = selectors.incidents_for_list(self.request.user, open_only=open_only, cells=False)
        return qs.filter(status=status_filter) if status_filter else qs

    @extend_schema(
        parameters=[
            OpenApiParameter("open", bool, description="false to include closed incidents"),
            OpenApiParameter("status", str, description="only incidents in this status"),
        ]
    )
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self._serialize(pk))

    def partial_update(self, request, pk=None):
        """Edit details (lead only). Changing `severity` also moves the first-response
        deadline while no response is out."""
        incident = visible_incident(request, pk)
        rules.require(request.user, incident, rules.EDIT_DETAILS)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Send a JSON object of fields."]})
        read_only = set(request.data) - set(self.get_serializer().writable_fields_names())
        if read_only:
            raise ValidationError(
                {field: _("This field cannot be edited here.") for field in sorted(read_only)}
            )
        serializer = self.get_serializer(incident, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        severity = changes.pop("severity", None)
        if "platforms" in changes:
            changes["platforms"] = list(changes["platforms"])
        with transaction.atomic():
            if changes:
                actions.incident_update(incident=incident, actor=request.user, **changes)
            if severity is not None:
                actions.incident_set_severity(
                    incident=incident, actor=request.user, severity=severity
                )
        return Response(self._serialize(pk))

    @extend_schema(request=TransitionSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move along detected -> active -> monitoring -> resolved -> closed (409 if the
        move is not allowed; resolved/closed -> active reopens)."""
        incident = visible_incident(request, pk)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.incident_transition(
            incident=incident,
            actor=request.user,
            status=serializer.validated_data["status"],
            note=serializer.validated_data.get("note", ""),
        )
        return Response(self._serialize(pk))

    @extend_schema(request=PromotionFreezeSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="promotion-freeze")
    def promotion_freeze(self, request, pk=None):
        """Set (`frozen: true`) or lift (`false`) the promotion freeze: lead only (403);
        setting it on a closed incident is a 409. Each change is a timeline entry
        (`promotion_freeze_set`, `promotion_freeze_lifted`)."""
        incident = visible_incident(request, pk)
        serializer = PromotionFreezeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.incident_set_promotion_freeze(
            incident=incident,
            actor=request.user,
            frozen=serializer.validated_data["frozen"],
            note=serializer.validated_data.get("note", ""),
        )
        return Response(self._serialize(pk))

    def _serialize(self, pk):
        incident = selectors.incident_for_room(self.request.user, pk)
        return self.get_serializer(incident).data


class MemberListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("history", bool, description="include ended memberships")],
        responses=MemberSerializer(many=True),
    )
    def get(self, request, pk):
        """The cell: active members, or every membership ever with `?history=true`."""
        incident = visible_incident(request, pk)
        if request.query_params.get("history", "false").lower() == "true":
            qs = selectors.membership_history(incident)
        else:
            qs = selectors.cell_members(incident)
        return Response(MemberSerializer(qs, many=True).data)

    @extend_schema(request=MemberCreateSerializer, responses={201: MemberSerializer})
    def post(self, request, pk):
        """Add someone to the cell (lead only). Use the lead hand-over for the lead role."""
        incident = visible_incident(request, pk)
        serializer = MemberCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = actions.member_add(
            incident=incident,
            actor=request.user,
            user=serializer.validated_data["user"],
            role=serializer.validated_data["role"],
            function=serializer.validated_data.get("function", ""),
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    def _member(self, request, pk, user_id):
        incident = visible_incident(request, pk)
        membership = Membership.objects.active().filter(incident=incident, user_id=user_id)
        return incident, get_object_or_404(membership.select_related("user")).user

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def patch(self, request, pk, user_id):
        """Change a member's role (lead only). `"role": "lead"` hands leadership over."""
        incident, user = self._member(request, pk, user_id)
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = actions.member_change_role(
            incident=incident,
            actor=request.user,
            user=user,
            role=serializer.validated_data["role"],
            function=serializer.validated_data.get("function", ""),
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk, user_id):
        """End the membership (lead only). Its history is kept."""
        incident, user = self._member(request, pk, user_id)
        actions.member_remove(incident=incident, actor=request.user, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TimelinePagination(CursorPagination):
    ordering = "seq"
    page_size = 100
    max_page_size = 500
    page_size_query_param = "page_size"


class TimelinePageSerializer(serializers.Serializer):
    """What the timeline answers: a cursor page (or, with `?after=`, every entry after)."""

    next = serializers.URLField(allow_null=True, help_text="The next page; null at the end.")
    previous = serializers.URLField(allow_null=True)
    results = TimelineEntrySerializer(many=True)


class TimelineView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after",
                int,
                description="the entries after this seq, in order, `page_size` at a time "
                "(default 100, at most 500); `next` continues after the last one",
            ),
            OpenApiParameter("kind", str),
            OpenApiParameter("key_events", bool),
            OpenApiParameter("actor", int),
        ],
        responses=TimelinePageSerializer,
    )
    def get(self, request, pk):
        """The incident's timeline in sequence order (cursor-paginated), or, with
        `?after=<seq>`, the entries after that one (what a reconnecting client missed),
        paged the same way: `next` is the URL of the following page, null at the end."""
        params = request.query_params
        after = _int_param(params, "after")
        # Whether the incident is visible is part of the page's query: one query for a
        # page; only an empty page asks again, to answer 404 to outsiders.
        entries = selectors.timeline_for(
            pk,
            visible_to=request.user,
            after=after,
            kind=params.get("kind") or None,
            key_events_only=params.get("key_events", "").lower() == "true",
            actor_id=_int_param(params, "actor"),
        ).values(*ENTRY_ROW_FIELDS)
        paginator = TimelinePagination()
        if after is not None:
            limit = paginator.get_page_size(request)
            rows = list(entries[: limit + 1])
            if not rows:
                visible_incident(request, pk)
            more = len(rows) > limit
            rows = rows[:limit]
            following = None
            if more:
                following = replace_query_param(
                    request.build_absolute_uri(), "after", rows[-1]["seq"]
                )
            data = TimelineEntrySerializer(rows, many=True).data
            return Response({"next": following, "previous": None, "results": data})
        page = paginator.paginate_queryset(entries, request, view=self)
        if not page:
            visible_incident(request, pk)
        return paginator.get_paginated_response(TimelineEntrySerializer(page, many=True).data)

    @extend_schema(request=TimelineEntryCreateSerializer, responses={201: TimelineEntrySerializer})
    def post(self, request, pk):
        """Add a manual entry (any member but observers). `occurred_at` back-dates it."""
        incident = visible_incident(request, pk)
        serializer = TimelineEntryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = actions.timeline_add_entry(
            incident=incident, actor=request.user, **serializer.validated_data
        )
        return Response(events.entry_data(entry), status=status.HTTP_201_CREATED)


def _int_param(params, name) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValidationError({name: "Must be an integer."}) from None
    if not 0 <= number <= 10**18:
        raise ValidationError({name: "Must be between 0 and 10^18."})
    return number
