from django.urls import include, path

from . import api, attach_api, bursts_api

urlpatterns = [
    path("watches/", api.WatchListView.as_view(), name="api-watches"),
    path("watches/<id:pk>/", api.WatchDetailView.as_view(), name="api-watch"),
    path("watches/<id:pk>/rematch/", api.WatchRematchView.as_view(), name="api-watch-rematch"),
    path(
        "watches/<id:pk>/expected-bursts/",
        bursts_api.WatchBurstListView.as_view(),
        name="api-watch-bursts",
    ),
    path(
        "watches/<id:pk>/expected-bursts/<id:burst_id>/",
        bursts_api.WatchBurstDetailView.as_view(),
        name="api-watch-burst",
    ),
    path("mentions/", api.MentionListView.as_view(), name="api-mentions"),
    path("mentions/bulk/", api.MentionBulkView.as_view(), name="api-mentions-bulk"),
    path(
        "incidents/<id:pk>/mentions/",
        attach_api.IncidentMentionsView.as_view(),
        name="api-incident-mentions",
    ),
    path(
        "incidents/<id:pk>/mentions/<id:mention_pk>/",
        attach_api.IncidentMentionDetailView.as_view(),
        name="api-incident-mention",
    ),
    path("", include("incidents.listening.signals_urls")),
]
