from django.urls import path

from . import views

urlpatterns = [
    path("approvals/", views.inbox, name="approvals-inbox"),
    path("statements/length/", views.text_length, name="statement-length"),
    path("incidents/<id:pk>/statements/new/", views.create, name="statement-create"),
    path("incidents/<id:pk>/statements/", views.incident_panel, name="incident-statements"),
    path("statements/<id:pk>/", views.detail, name="statement-detail"),
    path("statements/<id:pk>/edit/", views.edit, name="statement-edit"),
    path("statements/<id:pk>/submit/", views.submit, name="statement-submit"),
    path("statements/<id:pk>/approve/", views.approve, name="statement-approve"),
    path(
        "statements/<id:pk>/request-changes/",
        views.request_changes,
        name="statement-request-changes",
    ),
    path("statements/<id:pk>/publish/", views.publish, name="statement-publish"),
    path("statements/<id:pk>/withdraw/", views.withdraw, name="statement-withdraw"),
    path("statements/<id:pk>/diff/", views.diff, name="statement-diff"),
]
