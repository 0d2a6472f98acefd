"""A watch's planned campaigns (expected bursts) through the API; the actions
expected_burst_save and expected_burst_delete decide.

    GET    /api/watches/{id}/expected-bursts/             cursor pages, latest start first
    POST   /api/watches/{id}/expected-bursts/             -> 201
    GET    /api/watches/{id}/expected-bursts/{burst_id}/
    PATCH  /api/watches/{id}/expected-bursts/{burst_id}/
    DELETE /api/watches/{id}/expected-bursts/{burst_id}/  -> 204

Read by listening readers, as the watch is; written by whoever may change watches
(rules.can_edit_watches), until the campaign ends (rules.burst_is_open: 409 after).
Each campaign says `during_promotion_freeze` (selectors.CampaignFreezes.concerns, as the
page marks it): saving one during a freeze is allowed, and the answer says so.
"""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.fields import FloatField, IntegerField, LocalDateTimeField
from incidents.api.pagination import CursorPagination

from . import actions, api, rules, selectors
from .models import ExpectedBurst, Watch


class ExpectedBurstSerializer(serializers.Serializer):
    id = IntegerField(read_only=True)
    watch = IntegerField(source="watch_id", read_only=True)
    starts_at = LocalDateTimeField(
        help_text="ISO 8601 with its UTC offset (without one: the server's zone)."
    )
    ends_at = LocalDateTimeField(
        help_text=f"After `starts_at`, in the future, at most {actions.MAX_BURST_LENGTH.days} "
        "days after it."
    )
    note = serializers.CharField(
        required=False, allow_blank=True, help_text="What it is, for the team (200 characters)."
    )
    expected_size = FloatField(
        required=False,
        allow_null=True,
        help_text="How many times the usual volume it should bring, 1 to 100; null: no volume "
        "signal in its window (nor the hour after).",
    )
    created_by = IntegerField(source="created_by_id", read_only=True, allow_null=True)
    ended = serializers.SerializerMethodField(
        help_text="Ended: kept as it was (read-only, not deletable)."
    )

    during_promotion_freeze = serializers.SerializerMethodField(
        help_text="Not ended while a promotion freeze holds (read-only): publish no "
        "promotional post for it until the freeze is lifted. Only freezes the caller is told "
        "of: those of incidents they may see, and, for watch editors, any other."
    )

    def get_ended(self, burst) -> bool:
        return not rules.burst_is_open(burst, self.context["now"])

    def get_during_promotion_freeze(self, burst) -> bool:
        return self.context["freezes"].concerns(burst, self.context["now"])


def _context(request) -> dict:
    """The serializer's context: `now`, and the freezes the caller is told of, read once
    per request (selectors.campaign_freezes: two queries at most, whatever the page)."""
    planner = rules.can_edit_watches(request.user)
    freezes = selectors.campaign_freezes(request.user, planner=planner)
    return {"now": timezone.now(), "freezes": freezes}


class ExpectedBurstPagination(CursorPagination):
    ordering = ("-starts_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


def _watch(request, pk) -> Watch:
    api._require_listening(request)
    return get_object_or_404(Watch, pk=pk)


def _burst(request, pk, burst_id) -> ExpectedBurst:
    api._require_listening(request)
    return get_object_or_404(ExpectedBurst, pk=burst_id, watch=pk)


def _answer(request, burst, code=status.HTTP_200_OK) -> Response:
    data = ExpectedBurstSerializer(burst, context=_context(request)).data
    return Response(data, status=code)


class WatchBurstListView(APIView):
    @extend_schema(
        operation_id="watches_expected_bursts_list",
        responses=inline_serializer(
            "ExpectedBurstPage",
            {
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": ExpectedBurstSerializer(many=True),
            },
        ),
    )
    def get(self, request, pk):
        """The watch's planned campaigns, latest start first (cursor pages of 50,
        `page_size` up to 200); listening readers."""
        watch = _watch(request, pk)
        paginator = ExpectedBurstPagination()
        page = paginator.paginate_queryset(watch.expected_bursts.all(), request, view=self)
        data = ExpectedBurstSerializer(page, many=True, context=_context(request)).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="watches_expected_bursts_create",
        request=ExpectedBurstSerializer,
        responses={201: ExpectedBurstSerializer},
    )
    def post(self, request, pk):
        """Declare a planned campaign on the watch (`listening.change_watch`). A refused
        value: 400 with `errors` naming it (ends before it starts or in the past, lasts
        over actions.MAX_BURST_LENGTH, a size outside 1-100, a note over 200 characters).
        One planned during a promotion freeze is saved: `during_promotion_freeze` says it."""
        watch = _watch(request, pk)
        rules.require_edit_watches(request.user)  # before validating: 403, not field errors
        serializer = ExpectedBurstSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        burst = ExpectedBurst(watch=watch, **serializer.validated_data)
        burst = actions.expected_burst_save(burst=burst, actor=request.user)
        return _answer(request, burst, status.HTTP_201_CREATED)


class WatchBurstDetailView(APIView):
    @extend_schema(
        operation_id="watches_expected_bursts_retrieve", responses=ExpectedBurstSerializer
    )
    def get(self, request, pk, burst_id):
        return _answer(request, _burst(request, pk, burst_id))

    @extend_schema(
        operation_id="watches_expected_bursts_partial_update",
        request=ExpectedBurstSerializer,
        responses=ExpectedBurstSerializer,
    )
    def patch(self, request, pk, burst_id):
        """Change a planned campaign that has not ended (409 once it has)."""
        burst = _burst(request, pk, burst_id)
        rules.require_edit_watches(request.user)
        serializer = ExpectedBurstSerializer(burst, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        for name, value in serializer.validated_data.items():
            setattr(burst, name, value)
        changed = list(serializer.validated_data)
        burst = actions.expected_burst_save(burst=burst, actor=request.user, fields=changed)
        return _answer(request, burst)

    @extend_schema(operation_id="watches_expected_bursts_destroy", responses={204: None})
    def delete(self, request, pk, burst_id):
        """Delete a planned campaign that has not started; a running one is ended now (it
        stops quieting the alerts at once and stays, read-only, as the record); 409 once it
        has ended."""
        burst = _burst(request, pk, burst_id)
        actions.expected_burst_delete(burst=burst, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
