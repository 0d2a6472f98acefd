from django.urls import path

from . import api

PREFIX = "incidents/<id:pk>/replies/"
ITEM = PREFIX + "<id:mention_pk>/"

urlpatterns = [
    path(PREFIX, api.QueueListView.as_view(), name="api-reply-queue"),
    path(PREFIX + "coverage/", api.CoverageView.as_view(), name="api-reply-coverage"),
    path(PREFIX + "review/", api.ReviewView.as_view(), name="api-reply-review"),
    path(PREFIX + "templates/", api.TemplatesView.as_view(), name="api-reply-templates"),
    path(
        PREFIX + "templates/policy/",
        api.PreapprovedRepliesView.as_view(),
        name="api-reply-templates-policy",
    ),
    path(
        PREFIX + "templates/<id:template_pk>/preapprove/",
        api.PreapproveView.as_view(),
        name="api-reply-template-preapprove",
    ),
    path(
        PREFIX + "templates/<id:template_pk>/withdraw/",
        api.WithdrawPreapprovalView.as_view(),
        name="api-reply-template-withdraw",
    ),
    path(ITEM, api.ItemView.as_view(), name="api-reply-item"),
    path(ITEM + "triage/", api.TriageView.as_view(), name="api-reply-triage"),
    path(ITEM + "claim/", api.ClaimView.as_view(), name="api-reply-claim"),
    path(ITEM + "release/", api.ReleaseView.as_view(), name="api-reply-release"),
    path(ITEM + "decide/", api.DecideView.as_view(), name="api-reply-decide"),
    path(ITEM + "thank/", api.ThankView.as_view(), name="api-reply-thank"),
    path(ITEM + "reply/", api.WriteReplyView.as_view(), name="api-reply-write"),
    path(
        ITEM + "reply-from-template/",
        api.ReplyFromTemplateView.as_view(),
        name="api-reply-write-from-template",
    ),
    path(ITEM + "evidence/", api.EvidenceView.as_view(), name="api-reply-evidence"),
]
