from django.urls import path
from rest_framework.routers import SimpleRouter

from ..evidence import api as evidence
from ..playbooks import api as playbooks
from . import views

router = SimpleRouter(use_regex_path=False)
router.register("incidents", views.IncidentViewSet, basename="incident")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("incidents/<id:pk>/members/", views.MemberListView.as_view(), name="api-members"),
    path(
        "incidents/<id:pk>/members/<id:user_id>/",
        views.MemberDetailView.as_view(),
        name="api-member",
    ),
    path("incidents/<id:pk>/timeline/", views.TimelineView.as_view(), name="api-timeline"),
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
        "evidence/captures/<id:pk>/",
        evidence.CaptureStatusView.as_view(),
        name="api-evidence-capture-status",
    ),
    path("playbooks/", playbooks.PlaybookListView.as_view(), name="api-playbooks"),
    path("playbooks/<id:pk>/", playbooks.PlaybookDetailView.as_view(), name="api-playbook"),
    path("incidents/<id:pk>/tasks/", playbooks.IncidentTasksView.as_view(), name="api-tasks"),
    path("tasks/<id:pk>/complete/", playbooks.TaskCompleteView.as_view(), name="api-task-complete"),
    path("tasks/<id:pk>/assign/", playbooks.TaskAssignView.as_view(), name="api-task-assign"),
    *router.urls,
]
