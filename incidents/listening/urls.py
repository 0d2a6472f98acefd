from django.urls import path

from . import import_views, views

urlpatterns = [
    path("listening/", views.page, name="listening"),
    path("listening/panels/<slug:name>/", views.panel, name="listening-panel"),
    path("listening/import/", import_views.import_page, name="listening-import"),
    path("listening/watches/new/", views.watch_new, name="listening-watch-new"),
    path("listening/watches/<id:pk>/edit/", views.watch_edit, name="listening-watch-edit"),
    path("listening/campaign-freeze/", views.campaign_freeze, name="listening-campaign-freeze"),
    path(
        "listening/watches/<id:pk>/campaigns/",
        views.watch_campaigns,
        name="listening-watch-campaigns",
    ),
    path(
        "listening/watches/<id:pk>/campaigns/<id:burst_pk>/edit/",
        views.campaign_edit,
        name="listening-campaign-edit",
    ),
    path(
        "listening/watches/<id:pk>/campaigns/<id:burst_pk>/delete/",
        views.campaign_delete,
        name="listening-campaign-delete",
    ),
    path("listening/signals/", views.signal_list, name="listening-signals"),
    path("listening/signals/<id:pk>/", views.signal_page, name="listening-signal"),
    path("listening/mentions/<id:pk>/attach/", views.mention_attach, name="listening-attach"),
    path("listening/mentions/attach/", views.mentions_attach, name="listening-attach-selected"),
    path("incidents/<id:pk>/mentions/", views.room_panel, name="incident-mentions"),
    path(
        "incidents/<id:pk>/mentions/sources/", views.room_sources, name="incident-mentions-sources"
    ),
    path(
        "incidents/<id:pk>/mentions/<id:mention_pk>/detach/",
        views.mention_detach,
        name="incident-mention-detach",
    ),
]
