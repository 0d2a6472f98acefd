from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/bell/", views.bell, name="notifications-bell"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
]
