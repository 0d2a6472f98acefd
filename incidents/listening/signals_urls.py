from django.urls import path

from . import signals_api

urlpatterns = [
    path("signals/", signals_api.SignalListView.as_view(), name="api-signals"),
    path("signals/<id:pk>/", signals_api.SignalDetailView.as_view(), name="api-signal"),
    path(
        "signals/<id:pk>/declare/",
        signals_api.SignalDeclareView.as_view(),
        name="api-signal-declare",
    ),
    path("signals/<id:pk>/link/", signals_api.SignalLinkView.as_view(), name="api-signal-link"),
]
