"""The incidents core's API routes. `/api/incidents/` itself (list, declare, detail,
transition) is routed by the playbooks app, whose `IncidentViewSet` adds declaring with a
playbook to the core's viewset."""

from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("incidents/<id:pk>/members/", views.MemberListView.as_view(), name="api-members"),
    path(
        "incidents/<id:pk>/members/<id:user_id>/",
        views.MemberDetailView.as_view(),
        name="api-member",
    ),
    path("incidents/<id:pk>/timeline/", views.TimelineView.as_view(), name="api-timeline"),
]
