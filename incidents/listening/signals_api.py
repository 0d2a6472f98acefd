"""Signals API: list, detail with the volume curve and its baseline band, declare an
incident from a signal. Thin: validate -> action -> serialize."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.fields import IntegerField, ModelSerializer
from incidents.api.pagination import CursorPagination, cursor_parameters
from incidents.api.views import visible_incident
from incidents.errors import NotAllowed
from incidents.models import Category, Severity
from incidents.text import TITLE_MAX, parse_id

from . import actions, curves, rules, selectors
from .choices import SignalKind, SignalStatus
from .models import Signal


class SignalSerializer(ModelSerializer):
    watch_name = serializers.CharField(source="watch.name")

    class Meta:
        model = Signal
        fields = [
            "id",
            "watch",
            "watch_name",
            "kind",
            "status",
            "severity",
            "opened_at",
            "started_at",
            "first_mention",
            "peak_at",
            "closed_at",
            "observed",
            "expected",
            "deviations",
            "negative_share",
            "baseline_negative_share",
            "summary",
            "incident",
            "declared_at",
            "linked",
        ]


class SignalPagination(CursorPagination):
    ordering = ("-opened_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


def _require_listening(request):
    if not rules.can_view_listening(request.user):
        raise NotAllowed(_("Listening data is shown to the people given access to it."))


def _serialize(signals, user):
    """Signals with `incident` named only to people who may see it (one query)."""
    visible = selectors.visible_incident_ids(user, [s.incident_id for s in signals])
    data = SignalSerializer(signals, many=True).data
    for row in data:
        if row["incident"] not in visible:
            row["incident"] = None
    return data


class SignalListView(APIView):
    @extend_schema(
        operation_id="signals_list",
        parameters=[
            OpenApiParameter("watch", int),
            OpenApiParameter("status", str, enum=SignalStatus.values),
            OpenApiParameter("kind", str, enum=SignalKind.values),
            *cursor_parameters(SignalPagination),
        ],
        responses=inline_serializer(
            "SignalPage",
            {
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": SignalSerializer(many=True),
            },
        ),
    )
    def get(self, request):
        """Signals newest first (cursor pages of 50, `page_size` up to 200); listening
        readers."""
        _require_listening(request)
        qs = Signal.objects.select_related("watch")
        params = request.query_params
        if params.get("watch"):
            watch = parse_id(params["watch"])
            if watch is None or watch > 2**31:
                raise ValidationError({"watch": [_("Must be a whole number.")]})
            qs = qs.filter(watch_id=watch)
        for name, allowed in (("status", SignalStatus.values), ("kind", SignalKind.values)):
            if params.get(name):
                if params[name] not in allowed:
                    raise ValidationError({name: [_("Unknown value.")]})
                qs = qs.filter(**{name: params[name]})
        paginator = SignalPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(_serialize(page, request.user))


def curve(signal) -> dict:
    """The signal's volume curve (curves.signal_curve, the page's own rule): buckets beside
    the baseline band, from six hours before its start to now (open) or an hour after its
    close."""
    found = curves.signal_curve(signal)
    return {
        "bucket_minutes": found.bucket_minutes,
        "start": found.start,
        "end": found.end,
        "points": [
            {
                "start": bucket.start,
                "mentions": bucket.mentions,
                "negative": bucket.negative,
                "scored": bucket.scored,
                "expected": limits["expected"],
                "low": limits["low"],
                "high": limits["high"],
            }
            for bucket, limits in zip(found.buckets, found.band, strict=False)
        ],
    }


class SignalDetailView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "SignalDetail",
            {
                "signal": SignalSerializer(),
                "curve": serializers.JSONField(),
                "declare_defaults": inline_serializer(
                    "SignalDeclareDefaults",
                    {
                        "title": serializers.CharField(),
                        "category": serializers.ChoiceField(choices=Category.choices),
                        "severity": IntegerField(),
                    },
                ),
            },
        )
    )
    def get(self, request, pk):
        """A signal with its volume curve: `curve.points` `[{start, mentions, negative,
        scored, expected, low, high}]` per bucket of `curve.bucket_minutes` (10, wider for
        a long signal: at most 288 buckets), from `curve.start` (six hours before the
        signal started) to `curve.end` (now while it is open, an hour after its close
        once closed, never in the future; the last bucket ends there);
        `expected`/`low`/`high` the baseline band in mentions per bucket (null without
        history; `high` is where the alert bar stands). The signal's page draws the same
        buckets. `declare_defaults`: what declaring from it without values would give."""
        _require_listening(request)
        signal = get_object_or_404(Signal.objects.select_related("watch"), pk=pk)
        return Response(
            {
                "signal": _serialize([signal], request.user)[0],
                "curve": curve(signal),
                "declare_defaults": actions.signal_declare_defaults(signal),
            }
        )


class DeclareSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=TITLE_MAX)
    category = serializers.ChoiceField(
        choices=Category.choices,
        required=False,
        help_text="Default: the signal's guess (`declare_defaults.category` of the detail).",
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, help_text="Default: the signal's severity."
    )


class SignalDeclareView(APIView):
    @extend_schema(
        request=DeclareSerializer,
        responses={201: inline_serializer("Declared", {"incident": IntegerField()})},
    )
    def post(self, request, pk):
        """Declare an incident from the signal (listening readers; the declarer becomes the
        lead): `title`, `category` (a Category value) and `severity` (1-4) as given, else
        the signal's suggestions (the detail's `declare_defaults`: its title, the category
        its top terms suggest, its severity); an unknown value is a 400 naming the field.
        Platforms from the window's mentions, which are attached; the start recorded on the
        timeline. 201 `{"incident": id}`; 409 when it was already declared."""
        _require_listening(request)
        signal = get_object_or_404(Signal, pk=pk)
        serializer = DeclareSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = actions.signal_declare(
            signal=signal, actor=request.user, **serializer.validated_data
        )
        return Response({"incident": incident.pk}, status=status.HTTP_201_CREATED)


class LinkSerializer(serializers.Serializer):
    incident = IntegerField(help_text="An incident of yours, open or not.")


class SignalLinkView(APIView):
    @extend_schema(
        request=LinkSerializer,
        responses={
            200: inline_serializer(
                "Linked",
                {"incident": IntegerField(), "attached": IntegerField()},
            )
        },
    )
    def post(self, request, pk):
        """Link the signal to an incident already declared (by hand, or from another signal
        of the same burst) instead of declaring a new one: the signal names it, its
        window's mentions attached to no incident are attached to it (`attached`), and its
        timeline records where the crisis started. Listening readers who may write the
        incident's timeline (its cell, except observers): 403; an incident you do not see:
        404; a closed incident, or a signal that already names an incident: 409."""
        _require_listening(request)
        signal = get_object_or_404(Signal, pk=pk)
        serializer = LinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = visible_incident(request, serializer.validated_data["incident"])
        attached = actions.signal_link(signal=signal, incident=incident, actor=request.user)
        return Response({"incident": incident.pk, "attached": attached})
