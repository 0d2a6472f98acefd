from django.urls import path

from . import api

PREFIX = "incidents/<id:pk>/postmortem/"

urlpatterns = [
    path("metrics/", api.MetricsView.as_view(), name="api-metrics"),
    path(PREFIX, api.PostmortemView.as_view(), name="api-postmortem"),
    path(PREFIX + "items/", api.ItemsView.as_view(), name="api-postmortem-items"),
    path(PREFIX + "items/<id:item_pk>/", api.ItemView.as_view(), name="api-postmortem-item"),
    path(PREFIX + "submit/", api.SubmitView.as_view(), name="api-postmortem-submit"),
    path(PREFIX + "share/", api.ShareView.as_view(), name="api-postmortem-share"),
    path(PREFIX + "review/", api.ReviewView.as_view(), name="api-postmortem-review"),
    path("incidents/<id:pk>/precedents/", api.PrecedentsView.as_view(), name="api-precedents"),
    path(
        PREFIX + "versions/<int:number>/", api.VersionView.as_view(), name="api-postmortem-version"
    ),
]
