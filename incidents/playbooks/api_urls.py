from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api as playbooks
from .declare import IncidentViewSet

router = SimpleRouter(use_regex_path=False)
router.register("incidents", IncidentViewSet, basename="incident")

urlpatterns = [
    path("playbooks/", playbooks.PlaybookListView.as_view(), name="api-playbooks"),
    path("playbooks/<id:pk>/", playbooks.PlaybookDetailView.as_view(), name="api-playbook"),
    path("incidents/<id:pk>/tasks/", playbooks.IncidentTasksView.as_view(), name="api-tasks"),
    path("incidents/<id:pk>/roster/", playbooks.RosterView.as_view(), name="api-roster"),
    path(
        "incidents/<id:pk>/roster/staff/",
        playbooks.RosterStaffView.as_view(),
        name="api-roster-staff",
    ),
    path("tasks/<id:pk>/complete/", playbooks.TaskCompleteView.as_view(), name="api-task-complete"),
    path("tasks/<id:pk>/assign/", playbooks.TaskAssignView.as_view(), name="api-task-assign"),
    *router.urls,
]
