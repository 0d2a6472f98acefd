from django.urls import path

from . import api

urlpatterns = [
    path(
        "statements/<id:pk>/brand-accounts/",
        api.StatementBrandAccountsView.as_view(),
        name="api-statement-brand-accounts",
    ),
    path(
        "statements/<id:pk>/publications/",
        api.StatementPublicationsView.as_view(),
        name="api-statement-publications",
    ),
    path("publications/<id:pk>/", api.PublicationView.as_view(), name="api-publication"),
]
