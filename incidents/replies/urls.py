from django.urls import path

from . import views

urlpatterns = [
    path("incidents/<id:pk>/replies/", views.queue_page, name="reply-queue"),
    path("incidents/<id:pk>/replies/panel/", views.room_panel, name="reply-room-panel"),
    path("incidents/<id:pk>/replies/review/", views.review_page, name="reply-review"),
    path("incidents/<id:pk>/replies/templates/", views.templates_page, name="reply-templates"),
    path(
        "incidents/<id:pk>/replies/templates/policy/",
        views.preapproved_replies,
        name="reply-templates-policy",
    ),
    path(
        "incidents/<id:pk>/replies/templates/<id:template_pk>/preapprove/",
        views.preapprove,
        name="reply-template-preapprove",
    ),
    path(
        "incidents/<id:pk>/replies/templates/<id:template_pk>/withdraw/",
        views.withdraw_preapproval,
        name="reply-template-withdraw",
    ),
    path("incidents/<id:pk>/replies/<id:mention_pk>/triage/", views.triage, name="reply-triage"),
    path("incidents/<id:pk>/replies/<id:mention_pk>/claim/", views.claim, name="reply-claim"),
    path("incidents/<id:pk>/replies/<id:mention_pk>/release/", views.release, name="reply-release"),
    path("incidents/<id:pk>/replies/<id:mention_pk>/decide/", views.decide, name="reply-decide"),
    path("incidents/<id:pk>/replies/<id:mention_pk>/thank/", views.thank, name="reply-thank"),
    path("incidents/<id:pk>/replies/<id:mention_pk>/reply/", views.write_reply, name="reply-write"),
    path("incidents/<id:pk>/replies/<id:mention_pk>/capture/", views.capture, name="reply-capture"),
]
