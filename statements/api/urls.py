from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(use_regex_path=False)
router.register("statements", views.StatementViewSet, basename="statement")

urlpatterns = [
    path(
        "incidents/<id:pk>/statements/",
        views.IncidentStatementsView.as_view(),
        name="api-incident-statements",
    ),
    path("approvals/", views.ApprovalsInboxView.as_view(), name="api-approvals"),
    path("to-publish/", views.ToPublishView.as_view(), name="api-to-publish"),
    *router.urls,
]
