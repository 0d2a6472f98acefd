from django.urls import path

from . import views
from .evidence import views as evidence
from .playbooks import views as playbooks

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("incidents/new/", views.declare, name="incident-declare"),
    path("incidents/<id:pk>/", views.room, name="incident-room"),
    path("incidents/<id:pk>/edit/", views.edit, name="incident-edit"),
    path("incidents/<id:pk>/header/", views.header_panel, name="incident-header"),
    path("incidents/<id:pk>/members/", views.members_panel, name="incident-members"),
    path("incidents/<id:pk>/timeline/", views.timeline_panel, name="incident-timeline"),
    path("incidents/<id:pk>/status/", views.change_status, name="incident-status"),
    path("incidents/<id:pk>/severity/", views.change_severity, name="incident-severity"),
    path("incidents/<id:pk>/entries/", views.add_entry, name="incident-add-entry"),
    path("incidents/<id:pk>/members/add/", views.add_member, name="incident-add-member"),
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
    path("incidents/<id:pk>/evidence/", evidence.locker, name="incident-evidence"),
    path("incidents/<id:pk>/evidence/panel/", evidence.panel, name="incident-evidence-panel"),
    path("incidents/<id:pk>/evidence/upload/", evidence.upload, name="incident-evidence-upload"),
    path("incidents/<id:pk>/evidence/capture/", evidence.capture, name="incident-evidence-capture"),
    path("incidents/<id:pk>/evidence/export/", evidence.export, name="incident-evidence-export"),
    path("incidents/<id:pk>/tasks/", playbooks.tasks_panel, name="incident-tasks"),
    path("incidents/<id:pk>/contacts/", playbooks.contacts_panel, name="incident-contacts"),
    path("incidents/<id:pk>/playbook/", playbooks.apply, name="incident-apply-playbook"),
    path(
        "incidents/<id:pk>/tasks/<id:task_id>/complete/",
        playbooks.complete,
        name="incident-task-complete",
    ),
    path(
        "incidents/<id:pk>/tasks/<id:task_id>/assign/",
        playbooks.assign,
        name="incident-task-assign",
    ),
    path(
        "incidents/<id:pk>/contacts/<id:contact_id>/mark/",
        playbooks.mark_contact,
        name="incident-contact-mark",
    ),
    path("notifications/", playbooks.notifications, name="notifications"),
    path("notifications/bell/", playbooks.bell, name="notifications-bell"),
    path("notifications/read/", playbooks.notifications_read, name="notifications-read"),
    path("evidence/<id:pk>/", evidence.detail, name="evidence-detail"),
    path("evidence/<id:pk>/file/", evidence.original, name="evidence-file"),
    path("evidence/<id:pk>/thumbnail/", evidence.thumbnail, name="evidence-thumbnail"),
    path("evidence/<id:pk>/preview/", evidence.preview, name="evidence-preview"),
]
