from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("incidents/new/", views.declare, name="incident-declare"),
    path("incidents/<int:pk>/", views.room, name="incident-room"),
    path("incidents/<int:pk>/edit/", views.edit, name="incident-edit"),
    path("incidents/<int:pk>/header/", views.header_panel, name="incident-header"),
    path("incidents/<int:pk>/members/", views.members_panel, name="incident-members"),
    path("incidents/<int:pk>/timeline/", views.timeline_panel, name="incident-timeline"),
    path("incidents/<int:pk>/status/", views.change_status, name="incident-status"),
    path("incidents/<int:pk>/severity/", views.change_severity, name="incident-severity"),
    path("incidents/<int:pk>/entries/", views.add_entry, name="incident-add-entry"),
    path("incidents/<int:pk>/members/add/", views.add_member, name="incident-add-member"),
    path("incidents/<int:pk>/lead/", views.hand_over, name="incident-hand-over"),
    path(
        "incidents/<int:pk>/members/<int:user_id>/role/",
        views.change_role,
        name="incident-change-role",
    ),
    path(
        "incidents/<int:pk>/members/<int:user_id>/remove/",
        views.remove_member,
        name="incident-remove-member",
    ),
]
