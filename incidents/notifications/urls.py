from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/bell/", views.bell, name="notifications-bell"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("notifications/<id:pk>/open/", views.notification_open, name="notification-open"),
    path("notifications/settings/", views.notification_settings, name="notification-settings"),
    path("notifications/settings/chat/", views.chat_target_add, name="notification-chat-add"),
    path(
        "notifications/settings/chat/<id:pk>/remove/",
        views.chat_target_remove,
        name="notification-chat-remove",
    ),
    path(
        "notifications/settings/chat/<id:pk>/test/",
        views.chat_target_test,
        name="notification-chat-test",
    ),
    path(
        "incidents/<id:pk>/notifications/",
        views.incident_notifications,
        name="incident-notifications",
    ),
    path(
        "incidents/<id:pk>/notifications/<id:target>/remove/",
        views.incident_channel_remove,
        name="incident-channel-remove",
    ),
    path(
        "incidents/<id:pk>/notifications/<id:target>/test/",
        views.incident_channel_test,
        name="incident-channel-test",
    ),
]
