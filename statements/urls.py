from django.urls import path

from . import views

urlpatterns = [
    path("approvals/", views.inbox, name="approvals-inbox"),
    path("incidents/<int:pk>/statements/new/", views.create, name="statement-create"),
    path("incidents/<int:pk>/statements/", views.incident_panel, name="incident-statements"),
    path("statements/<int:pk>/", views.detail, name="statement-detail"),
    path("statements/<int:pk>/edit/", views.edit, name="statement-edit"),
    path("statements/<int:pk>/submit/", views.submit, name="statement-submit"),
    path("statements/<int:pk>/approve/", views.approve, name="statement-approve"),
    path(
        "statements/<int:pk>/request-changes/",
        views.request_changes,
        name="statement-request-changes",
    ),
    path("statements/<int:pk>/publish/", views.publish, name="statement-publish"),
    path("statements/<int:pk>/withdraw/", views.withdraw, name="statement-withdraw"),
    path("statements/<int:pk>/diff/", views.diff, name="statement-diff"),
]
