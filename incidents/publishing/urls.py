from django.urls import path

from . import views

urlpatterns = [
    path(
        "statements/<id:pk>/publish-on/<id:account_pk>/",
        views.publish_via,
        name="statement-publish-via",
    ),
]
