from django.urls import path

from . import views

PREFIX = "incidents/<id:pk>/postmortem/"

urlpatterns = [
    path("metrics/", views.metrics_page, name="metrics"),
    path("metrics/export.csv", views.metrics_csv, name="metrics-csv"),
    path(PREFIX, views.page, name="postmortem"),
    path(PREFIX + "create/", views.create, name="postmortem-create"),
    path(PREFIX + "write/", views.write, name="postmortem-write"),
    path(PREFIX + "items/", views.item_add, name="postmortem-item-add"),
    path(PREFIX + "items/<id:item_pk>/status/", views.item_status, name="postmortem-item-status"),
    path(PREFIX + "submit/", views.submit, name="postmortem-submit"),
    path(PREFIX + "review/", views.review, name="postmortem-review"),
    path(PREFIX + "share/", views.share, name="postmortem-share"),
    path(PREFIX + "print/", views.printable, name="postmortem-print"),
    path(PREFIX + "export.md", views.markdown, name="postmortem-markdown"),
    path(PREFIX + "export.pdf", views.pdf, name="postmortem-pdf"),
]
