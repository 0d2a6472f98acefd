from django.urls import path

from . import views

urlpatterns = [path("integrity/", views.integrity, name="integrity")]
