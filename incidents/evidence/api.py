"""Evidence API: thin views over the evidence actions. Outsiders get 404 everywhere."""

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.fields import IntegerField, ListField, LocalDateTimeField
from incidents.api.pagination import CursorPagination
from incidents.api.parsers import DEFAULT_PARSERS
from incidents.api.views import visible_incident
from incidents.models import Platform

from . import actions, rules, selectors, serve
from .models import (
    CaptureStatus,
    CustodyAction,
    DisplayStatus,
    EvidenceExport,
    EvidenceKind,
    EvidenceSource,
    ExportStatus,
)


class EvidenceMetadataSerializer(serializers.Serializer):
    """The facts typed about the evidence, shared by every file of one upload."""

    kind = serializers.ChoiceField(EvidenceKind.choices, default=EvidenceKind.POST)
    platform = serializers.ChoiceField(Platform.choices, required=False, allow_blank=True)
    source_url = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    published_at = LocalDateTimeField(required=False, allow_null=True)
    author_handle = serializers.CharField(required=False, allow_blank=True, max_length=200)
    author_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    author_profile_url = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    author_followers = IntegerField(required=False, allow_null=True, min_value=0)
    author_facts = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class EvidenceUploadSerializer(EvidenceMetadataSerializer):
    file = ListField(
        child=serializers.FileField(), help_text="One or more files, each in a `file` field."
    )


class PersonSerializer(serializers.Serializer):
    id = IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class AuthorSerializer(serializers.Serializer):
    handle = serializers.CharField()
    name = serializers.CharField()
    profile_url = serializers.CharField()
    followers = IntegerField(allow_null=True)
    facts = serializers.CharField()


class CaptureFactsSerializer(serializers.Serializer):
    final_url = serializers.CharField()
    http_status = IntegerField(allow_null=True)
    page_title = serializers.CharField()


class EvidenceItemSerializer(serializers.Serializer):
    """Fields declared for the schema; the values come from `selectors.item_facts`, the same
    facts the export manifest records."""

    id = IntegerField(read_only=True)
    incident = IntegerField(read_only=True)
    label = serializers.CharField(read_only=True, help_text="Exhibit label, e.g. E-3")
    number = IntegerField(read_only=True)
    kind = serializers.ChoiceField(EvidenceKind.choices, read_only=True)
    source = serializers.ChoiceField(EvidenceSource.choices, read_only=True)
    sha256 = serializers.CharField(read_only=True)
    size = IntegerField(read_only=True)
    content_type = serializers.CharField(read_only=True, help_text="detected from the bytes")
    width = IntegerField(read_only=True, allow_null=True)
    height = IntegerField(read_only=True, allow_null=True)
    original_name = serializers.CharField(read_only=True)
    platform = serializers.CharField(read_only=True)
    source_url = serializers.CharField(read_only=True)
    published_at = serializers.DateTimeField(read_only=True, allow_null=True)
    author = AuthorSerializer(read_only=True)
    description = serializers.CharField(read_only=True)
    capture = CaptureFactsSerializer(read_only=True, allow_null=True)
    captured_at = serializers.DateTimeField(read_only=True)
    captured_by = PersonSerializer(read_only=True)
    display_status = serializers.ChoiceField(DisplayStatus.choices, read_only=True)
    file_url = serializers.URLField(read_only=True)
    thumbnail_url = serializers.URLField(read_only=True, allow_null=True)
    preview_url = serializers.URLField(read_only=True, allow_null=True)
    custody_url = serializers.URLField(read_only=True)
    page_url = serializers.URLField(read_only=True)

    def to_representation(self, item):
        request = self.context.get("request")

        def link(name):
            url = reverse(name, args=[item.pk])
            return request.build_absolute_uri(url) if request else url

        return {
            "id": item.pk,
            "incident": item.incident_id,
            **selectors.item_facts(item),
            "display_status": item.display_status,
            "file_url": link("api-evidence-file"),
            "thumbnail_url": link("evidence-thumbnail") if item.thumbnail else None,
            "preview_url": link("evidence-preview") if item.preview else None,
            "custody_url": link("api-evidence-custody"),
            "page_url": link("evidence-detail"),
        }


class CustodyEventSerializer(serializers.Serializer):
    seq = IntegerField(read_only=True)
    action = serializers.ChoiceField(CustodyAction.choices, read_only=True)
    actor = PersonSerializer(read_only=True, allow_null=True)
    at = serializers.DateTimeField(read_only=True)
    detail = serializers.DictField(read_only=True)
    hash = serializers.CharField(read_only=True)
    prev_hash = serializers.CharField(read_only=True)

    def to_representation(self, event):
        return selectors.custody_facts(event)


class CaptureJobSerializer(serializers.Serializer):
    id = IntegerField(read_only=True)
    incident = IntegerField(read_only=True)
    url = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(CaptureStatus.choices, read_only=True)
    stage = serializers.CharField(read_only=True)
    error = serializers.CharField(read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    items = ListField(child=IntegerField(), read_only=True)
    status_url = serializers.URLField(read_only=True)

    def to_representation(self, job):
        request = self.context.get("request")
        url = reverse("api-evidence-capture-status", args=[job.pk])
        return {
            "id": job.pk,
            "incident": job.incident_id,
            "url": job.url,
            "status": job.status,
            "stage": job.stage,
            "error": job.reason,
            "requested_at": job.requested_at,
            "finished_at": job.finished_at,
            "items": [item.pk for item in job.items.order_by("number")],
            "status_url": request.build_absolute_uri(url) if request else url,
        }


class EvidencePagination(CursorPagination):
    """Newest first, by exhibit number: a page stays put while items are added."""

    ordering = "-number"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class EvidenceListView(GenericAPIView):
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = EvidenceItemSerializer
    pagination_class = EvidencePagination

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, description="the page: follow `next` / `previous`"),
            OpenApiParameter(
                "page_size", int, description="items a page (default 50, at most 200)"
            ),
        ],
        responses=EvidenceItemSerializer(many=True),
    )
    def get(self, request, pk):
        """The incident's evidence items, newest first, a page at a time: `{"next",
        "previous", "results"}` (cursor pages of `page_size` items, default 50, at most
        200; `next` is null on the last page)."""
        incident = visible_incident(request, pk)
        page = self.paginate_queryset(selectors.evidence_for(incident))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=EvidenceUploadSerializer, responses={201: EvidenceItemSerializer(many=True)}
    )
    def post(self, request, pk):
        """Upload one or more files (multipart, each in a `file` field) with the facts about
        them. All are stored or none: a bad file answers 400 naming it and the reason."""
        incident = visible_incident(request, pk)
        files = request.FILES.getlist("file")
        metadata = EvidenceMetadataSerializer(data=request.data)
        metadata.is_valid(raise_exception=True)
        items = actions.evidence_attach(
            incident=incident, actor=request.user, files=files, metadata=metadata.validated_data
        )
        data = EvidenceItemSerializer(items, many=True, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class EvidenceDetailView(APIView):
    @extend_schema(responses=EvidenceItemSerializer)
    def get(self, request, pk):
        item = selectors.item_visible_to(request.user, pk)
        return Response(EvidenceItemSerializer(item, context={"request": request}).data)


class EvidenceFileView(APIView):
    # The original's own (detected) content type: image/png, application/pdf, ...
    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY})
    def get(self, request, pk) -> FileResponse:
        """The original, bit-exact, as an attachment, with the content type detected when it
        was stored (`content_type` of the item). The download is logged in custody."""
        item = selectors.item_visible_to(request.user, pk)
        return serve.download_original(request, item)


class EvidenceCustodyView(APIView):
    @extend_schema(responses=CustodyEventSerializer(many=True))
    def get(self, request, pk):
        """The item's chain of custody, oldest first."""
        item = selectors.item_visible_to(request.user, pk)
        return Response(CustodyEventSerializer(selectors.custody_of(item), many=True).data)


class CaptureRequestSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    kind = serializers.ChoiceField(EvidenceKind.choices, default=EvidenceKind.POST)
    platform = serializers.ChoiceField(Platform.choices, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class CaptureView(APIView):
    parser_classes = DEFAULT_PARSERS

    @extend_schema(request=CaptureRequestSerializer, responses={202: CaptureJobSerializer})
    def post(self, request, pk):
        """Ask the server to capture a URL in its own browser (screenshot + page archive).
        Answers 202 at once; follow `status_url`."""
        incident = visible_incident(request, pk)
        serializer = CaptureRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = actions.evidence_capture_request(
            incident=incident, actor=request.user, **serializer.validated_data
        )
        job = selectors.capture_visible_to(request.user, job.pk)
        data = CaptureJobSerializer(job, context={"request": request}).data
        return Response(
            data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["status_url"]}
        )


class CaptureStatusView(APIView):
    @extend_schema(responses=CaptureJobSerializer)
    def get(self, request, pk):
        job = selectors.capture_visible_to(request.user, pk)
        return Response(CaptureJobSerializer(job, context={"request": request}).data)


class ExportRequestSerializer(serializers.Serializer):
    items = ListField(
        child=IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=10_000,
        help_text="The ids of the items to export; every item of the incident without it.",
    )


class ExportSerializer(serializers.Serializer):
    id = IntegerField(read_only=True)
    incident = IntegerField(read_only=True)
    status = serializers.ChoiceField(ExportStatus.choices, read_only=True)
    item_count = IntegerField(read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    requested_by = PersonSerializer(read_only=True)
    snapshot_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="when the bundle's content was read"
    )
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    error = serializers.CharField(read_only=True)
    size = IntegerField(read_only=True, allow_null=True, help_text="in bytes")
    sha256 = serializers.CharField(read_only=True, help_text="of the ZIP; empty until ready")
    manifest_sha256 = serializers.CharField(read_only=True)
    status_url = serializers.URLField(read_only=True)
    file_url = serializers.URLField(
        read_only=True,
        allow_null=True,
        help_text="the ZIP, once ready, for the person who asked for it; null otherwise",
    )

    def to_representation(self, export):
        request = self.context.get("request")

        def link(name):
            url = reverse(name, args=[export.pk])
            return request.build_absolute_uri(url) if request else url

        user = request.user if request else None
        return {
            "id": export.pk,
            "incident": export.incident_id,
            "status": export.status,
            "item_count": export.item_count,
            "requested_at": export.requested_at,
            "requested_by": selectors.person(export.requested_by),
            "snapshot_at": export.snapshot_at,
            "finished_at": export.finished_at,
            "error": export.error,
            "size": export.size,
            "sha256": export.sha256,
            "manifest_sha256": export.manifest_sha256,
            "status_url": link("api-evidence-export-status"),
            "file_url": (
                link("api-evidence-export-file")
                if user and rules.can_download_export(user, export)
                else None
            ),
        }


class ExportView(APIView):
    parser_classes = DEFAULT_PARSERS

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportSerializer})
    def post(self, request, pk):
        """Ask for the signed ZIP bundle for counsel (originals, manifest.json, its signature
        and a readable report) of every item, or of `items`. Answers 202 at once; a worker
        builds it: follow `status_url` (also in `Location`) until `status` is `ready`, then
        download `file_url`. When ready, the export is logged in each item's custody and on
        the timeline."""
        incident = visible_incident(request, pk)
        serializer = ExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        export = actions.evidence_export_request(
            incident=incident,
            actor=request.user,
            item_ids=serializer.validated_data.get("items"),
        )
        export = selectors.export_visible_to(request.user, export.pk)
        data = ExportSerializer(export, context={"request": request}).data
        return Response(
            data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["status_url"]}
        )


def _export(request, pk) -> EvidenceExport:
    try:
        return selectors.export_visible_to(request.user, pk)
    except EvidenceExport.DoesNotExist:
        raise NotFound(_("No export here, or you are not in its crisis cell.")) from None


class ExportStatusView(APIView):
    @extend_schema(responses=ExportSerializer)
    def get(self, request, pk):
        """An export's `status` (queued, running, ready, failed), its `error`, and, once
        ready, the bundle's size and SHA-256 and `file_url`."""
        return Response(ExportSerializer(_export(request, pk), context={"request": request}).data)


class ExportFileView(APIView):
    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request, pk) -> FileResponse:
        """The bundle (ZIP), for the person who asked for it (403 for anyone else in the
        cell); 404 until it is ready."""
        export = _export(request, pk)
        if export.status != ExportStatus.READY:
            raise NotFound(
                _("This export is not ready (it is %(status)s).")
                % {"status": export.get_status_display().lower()}
            )
        if not rules.can_download_export(request.user, export):
            raise PermissionDenied(_("Only the person who asked for this export may download it."))
        return serve.export_response(export)
