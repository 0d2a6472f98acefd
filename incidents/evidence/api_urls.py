from django.urls import path

from . import api as evidence

urlpatterns = [
    path("incidents/<id:pk>/evidence/", evidence.EvidenceListView.as_view(), name="api-evidence"),
    path(
        "incidents/<id:pk>/evidence/capture/",
        evidence.CaptureView.as_view(),
        name="api-evidence-capture",
    ),
    path(
        "incidents/<id:pk>/evidence/export/",
        evidence.ExportView.as_view(),
        name="api-evidence-export",
    ),
    path("evidence/<id:pk>/", evidence.EvidenceDetailView.as_view(), name="api-evidence-item"),
    path("evidence/<id:pk>/file/", evidence.EvidenceFileView.as_view(), name="api-evidence-file"),
    path(
        "evidence/<id:pk>/custody/",
        evidence.EvidenceCustodyView.as_view(),
        name="api-evidence-custody",
    ),
    path(
        "evidence/exports/<id:pk>/",
        evidence.ExportStatusView.as_view(),
        name="api-evidence-export-status",
    ),
    path(
        "evidence/exports/<id:pk>/file/",
        evidence.ExportFileView.as_view(),
        name="api-evidence-export-file",
    ),
    path(
        "evidence/captures/<id:pk>/",
        evidence.CaptureStatusView.as_view(),
        name="api-evidence-capture-status",
    ),
]
