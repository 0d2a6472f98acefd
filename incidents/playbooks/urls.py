from django.urls import path

from . import views as playbooks
from .declare import declare

urlpatterns = [
    path("incidents/new/", declare, name="incident-declare"),
    path("incidents/<id:pk>/tasks/", playbooks.tasks_panel, name="incident-tasks"),
    path("incidents/<id:pk>/contacts/", playbooks.contacts_panel, name="incident-contacts"),
    path("incidents/<id:pk>/playbook/", playbooks.apply, name="incident-apply-playbook"),
    path("incidents/<id:pk>/roster/", playbooks.roster, name="incident-roster"),
    path(
        "incidents/<id:pk>/tasks/<id:task_id>/complete/",
        playbooks.complete,
        name="incident-task-complete",
    ),
    path(
        "incidents/<id:pk>/tasks/<id:task_id>/assign/",
        playbooks.assign,
        name="incident-task-assign",
    ),
    path(
        "incidents/<id:pk>/contacts/<id:contact_id>/mark/",
        playbooks.mark_contact,
        name="incident-contact-mark",
    ),
]
