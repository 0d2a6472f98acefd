from django.urls import path

from . import views as evidence

urlpatterns = [
    path("incidents/<id:pk>/evidence/", evidence.locker, name="incident-evidence"),
    path("incidents/<id:pk>/evidence/panel/", evidence.panel, name="incident-evidence-panel"),
    path("incidents/<id:pk>/evidence/upload/", evidence.upload, name="incident-evidence-upload"),
    path("incidents/<id:pk>/evidence/capture/", evidence.capture, name="incident-evidence-capture"),
    path("incidents/<id:pk>/evidence/export/", evidence.export, name="incident-evidence-export"),
    path(
        "incidents/<id:pk>/evidence/exports/",
        evidence.exports,
        name="incident-evidence-exports",
    ),
    path("evidence/exports/<id:pk>/file/", evidence.export_file, name="evidence-export-file"),
    path("evidence/<id:pk>/", evidence.detail, name="evidence-detail"),
    path("evidence/<id:pk>/file/", evidence.original, name="evidence-file"),
    path("evidence/<id:pk>/thumbnail/", evidence.thumbnail, name="evidence-thumbnail"),
    path("evidence/<id:pk>/preview/", evidence.preview, name="evidence-preview"),
]
