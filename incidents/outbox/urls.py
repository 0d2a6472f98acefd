from django.urls import path

from . import views

urlpatterns = [path("outbox/", views.outbox_status, name="outbox-status")]
