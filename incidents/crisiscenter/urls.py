from django.urls import path, re_path

from . import serve, subscribe, views

urlpatterns = [
    path("incidents/<id:pk>/crisis-page/", views.room_panel, name="crisis-page-panel"),
    path("incidents/<id:pk>/crisis-page/prepare/", views.prepare, name="crisis-page-prepare"),
    path("incidents/<id:pk>/crisis-page/switch/", views.switch, name="crisis-page-switch"),
    path(
        "incidents/<id:pk>/crisis-page/next-update/",
        views.next_update,
        name="crisis-page-next-update",
    ),
    path("incidents/<id:pk>/crisis-page/texts/", views.write_text, name="crisis-page-text"),
    path(
        "incidents/<id:pk>/crisis-page/submit-drafts/",
        views.submit_drafts,
        name="crisis-page-submit-drafts",
    ),
    path("incidents/<id:pk>/crisis-page/faq-order/", views.faq_move, name="crisis-page-faq-move"),
    path(
        "incidents/<id:pk>/crisis-page/publish/",
        views.publish_update,
        name="crisis-page-publish-update",
    ),
    path("incidents/<id:pk>/crisis-page/preview/", views.preview, name="crisis-page-preview"),
    # The public writes: e-mail subscriptions (routed to Django by the web server or CDN).
    path("crisis/<slug:slug>/subscribe/", subscribe.subscribe, name="crisis-subscribe"),
    path(
        "crisis/<slug:slug>/confirm/<str:token>/",
        subscribe.confirm,
        name="crisis-subscription-confirm",
    ),
    path(
        "crisis/<slug:slug>/unsubscribe/<str:token>/",
        subscribe.unsubscribe,
        name="crisis-subscription-unsubscribe",
    ),
    # The public files (a web server or a CDN in front serves the same directory).
    re_path(r"^crisis/(?P<path>[A-Za-z0-9._/-]{0,200})$", serve.public_file, name="crisis-public"),
]
