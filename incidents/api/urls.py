from django.urls import path
from rest_framework.routers import SimpleRouter

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
    *router.urls,
]
