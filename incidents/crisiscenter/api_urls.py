from django.urls import path, re_path

from . import api

urlpatterns = [
    re_path(
        r"^crisis-pages/(?P<slug>[-a-zA-Z0-9_]{1,80})/$",
        api.PublicPageView.as_view(),
        name="api-crisis-page-public",
    ),
    path("incidents/<id:pk>/crisis-page/", api.TeamPageView.as_view(), name="api-crisis-page"),
    path(
        "incidents/<id:pk>/crisis-page/switch/",
        api.SwitchView.as_view(),
        name="api-crisis-page-switch",
    ),
    path(
        "incidents/<id:pk>/crisis-page/faq-order/",
        api.FaqOrderView.as_view(),
        name="api-crisis-page-faq-order",
    ),
    path(
        "incidents/<id:pk>/crisis-page/next-update/",
        api.NextUpdateView.as_view(),
        name="api-crisis-page-next-update",
    ),
    path(
        "incidents/<id:pk>/crisis-page/publish/",
        api.PublishUpdateView.as_view(),
        name="api-crisis-page-publish-update",
    ),
    path(
        "incidents/<id:pk>/crisis-page/submit-drafts/",
        api.SubmitDraftsView.as_view(),
        name="api-crisis-page-submit-drafts",
    ),
]
