from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("promotion-freeze/banner/", views.freeze_banner, name="promotion-freeze-banner"),
    path("incidents/<id:pk>/", views.room, name="incident-room"),
    path(
        "incidents/<id:pk>/promotion-freeze/",
        views.promotion_freeze,
        name="incident-promotion-freeze",
    ),
    path("incidents/<id:pk>/edit/", views.edit, name="incident-edit"),
    path("incidents/<id:pk>/header/", views.header_panel, name="incident-header"),
    path("incidents/<id:pk>/members/", views.members_panel, name="incident-members"),
    path("incidents/<id:pk>/timeline/", views.timeline_panel, name="incident-timeline"),
    path("incidents/<id:pk>/status/", views.change_status, name="incident-status"),
    path("incidents/<id:pk>/severity/", views.change_severity, name="incident-severity"),
    path("incidents/<id:pk>/entries/", views.add_entry, name="incident-add-entry"),
    path("incidents/<id:pk>/members/add/", views.add_member, name="incident-add-member"),
    path(
        "incidents/<id:pk>/members/candidates/",
        views.member_candidates,
        name="incident-member-candidates",
    ),
    path("incidents/<id:pk>/lead/", views.hand_over, name="incident-hand-over"),
    path(
        "incidents/<id:pk>/members/<id:user_id>/role/",
        views.change_role,
        name="incident-change-role",
    ),
    path(
        "incidents/<id:pk>/members/<id:user_id>/remove/",
        views.remove_member,
        name="incident-remove-member",
    ),
]
