"""The playbooks API and the room's checklist and contacts panels."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.playbooks.models import Task
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


class TestApi:
    def test_playbooks_list_filters_by_category_and_severity(self, api, playbook, outsider):
        client = api.as_user(outsider)  # any signed-in user may declare, so may read these
        names = [p["name"] for p in client.get("/api/playbooks/").json()]
        assert names == [playbook.name]
        assert client.get("/api/playbooks/?category=rumour&severity=2").json() == []
        assert len(client.get("/api/playbooks/?category=brand&severity=3").json()) == 1
        assert_error(client.get("/api/playbooks/?category=brand&severity=9"), 400)

    def test_playbook_detail(self, api, playbook, lead):
        body = api.as_user(lead).get(f"/api/playbooks/{playbook.pk}/").json()
        assert [s["due_minutes"] for s in body["steps"]] == [15, 30, 60, 180]
        assert {t["language"] for t in body["templates"]} == {"en", "fr"}
        assert {p["severity"]: p["policy"] for p in body["policies"]}[4] == (
            "Legal, then communications"
        )
        assert body["needs_review"] is True

    def test_declaring_with_a_playbook(self, api, lead, playbook, policies):
        response = api.as_user(lead).post(
            "/api/incidents/",
            {
                "title": "Joke about the floods",
                "category": "brand",
                "origin": "online",
                "severity": 3,
                "playbook": playbook.pk,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        tasks = api.get(f"/api/incidents/{response.json()['id']}/tasks/").json()
        assert tasks[0]["title"] == "Acknowledge internally and assess"
        assert tasks[0]["status"] == "open" and tasks[0]["overdue"] is False

    def test_declaring_with_an_unsuitable_playbook_declares_nothing(self, api, lead, playbook):
        from incidents.models import Incident

        response = api.as_user(lead).post(
            "/api/incidents/",
            {"title": "Rumour", "category": "rumour", "origin": "online", "playbook": playbook.pk},
            format="json",
        )
        assert "not meant for" in assert_error(response, 400)
        assert not Incident.objects.filter(title="Rumour").exists()

    def test_complete_and_assign(self, api, followed, lead, drafter):
        task = Task.objects.filter(incident=followed).order_by("due_at").first()
        body = (
            api.as_user(lead)
            .post(f"/api/tasks/{task.pk}/assign/", {"assignee": drafter.pk}, format="json")
            .json()
        )
        assert body["assignee"]["username"] == "drafter"
        response = api.as_user(drafter).post(
            f"/api/tasks/{task.pk}/complete/", {"note": "Done on X"}, format="json"
        )
        assert response.json()["status"] == "done"
        assert_error(api.post(f"/api/tasks/{task.pk}/complete/", {}, format="json"), 409)

    def test_observer_and_outsider(self, api, followed, observer, outsider):
        task = Task.objects.filter(incident=followed).first()
        assert_error(api.as_user(observer).post(f"/api/tasks/{task.pk}/complete/", {}), 403)
        client = api.as_user(outsider)
        assert_error(client.post(f"/api/tasks/{task.pk}/complete/", {}), 404)
        assert_error(client.get(f"/api/incidents/{followed.pk}/tasks/"), 404)

    def test_statement_from_a_template(self, api, followed, drafter):
        from incidents.playbooks.selectors import templates_of

        template = templates_of(followed).get(language="fr")
        response = api.as_user(drafter).post(
            f"/api/incidents/{followed.pk}/statements/", {"template": template.pk}, format="json"
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["language"] == "fr" and body["kind"] == "holding"
        assert body["text"].startswith("Maison Durand a pris connaissance des réactions (")

    def test_statement_without_template_still_needs_its_fields(self, api, followed, drafter):
        response = api.as_user(drafter).post(
            f"/api/incidents/{followed.pk}/statements/", {"text": "Hi"}, format="json"
        )
        assert_error(response, 400)
        response = api.as_user(drafter).post(
            f"/api/incidents/{followed.pk}/statements/", {"template": 999999}, format="json"
        )
        assert "No template" in assert_error(response, 400)


class TestPages:
    def test_room_shows_the_checklist_by_role_and_the_contacts(
        self, browser_client, followed, drafter
    ):
        page = browser_client.as_user(drafter).get(f"/incidents/{followed.pk}/").content.decode()
        assert "Checklist" in page and "Draft the holding statement" in page
        assert "Playbook: Inappropriate post by the brand (v1)" in page
        assert "Julie B." in page and "@julie_cuisine" in page

    def test_lead_is_offered_suitable_playbooks(self, browser_client, incident, lead, playbook):
        page = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/").content.decode()
        assert "Follow a playbook" in page and playbook.name in page
        response = browser_client.post(
            f"/incidents/{incident.pk}/playbook/",
            {"playbook": playbook.pk},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        assert Task.objects.filter(incident=incident).count() == 4
        # Said: its tasks appear in their panel, far from the form.
        said = json.loads(response["HX-Trigger"])["room-message"]["message"]
        assert said == "Playbook applied: its tasks are on the board."

    def test_declare_form_offers_playbooks(self, browser_client, lead, playbook):
        client = browser_client.as_user(lead)
        assert playbook.name in client.get("/incidents/new/").content.decode()
        response = client.post(
            "/incidents/new/",
            {
                "title": "Joke about the floods",
                "category": "rumour",
                "origin": "online",
                "severity": 2,
                "playbook": playbook.pk,
            },
        )
        assert "not meant for this category" in response.content.decode()

    def test_complete_from_the_board(self, browser_client, followed, drafter):
        task = Task.objects.filter(incident=followed).first()
        response = browser_client.as_user(drafter).post(
            f"/incidents/{followed.pk}/tasks/{task.pk}/complete/",
            {"note": "ok"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        task.refresh_from_db()
        assert task.status == "done"

    def test_contact_checkbox(self, browser_client, followed, drafter):
        from incidents.playbooks.selectors import contacts_of

        julie = contacts_of(followed).get(name="Julie B.")
        browser_client.as_user(drafter).post(
            f"/incidents/{followed.pk}/contacts/{julie.pk}/mark/",
            {"what": "briefed", "done": "true"},
            headers={"HX-Request": "true"},
        )
        julie.refresh_from_db()
        assert julie.briefed_at is not None

    def test_tasks_panel_queries_do_not_grow(self, browser_client, followed, lead, drafter):
        from incidents.playbooks import actions

        client = browser_client.as_user(lead)
        with CaptureQueriesContext(connection) as few:
            client.get(f"/incidents/{followed.pk}/tasks/")
        for t in Task.objects.filter(incident=followed):
            actions.task_assign(task=t, actor=lead, assignee=drafter)
        actions.task_complete(task=Task.objects.filter(incident=followed).first(), actor=drafter)
        with CaptureQueriesContext(connection) as many:
            client.get(f"/incidents/{followed.pk}/tasks/")
        assert len(many) == len(few)

    def test_outsider_gets_404(self, browser_client, followed, outsider):
        client = browser_client.as_user(outsider)
        task = Task.objects.filter(incident=followed).first()
        assert client.get(f"/incidents/{followed.pk}/tasks/").status_code == 404
        assert client.post(f"/incidents/{followed.pk}/tasks/{task.pk}/complete/").status_code == 404


def test_panels_do_not_count_notifications_only_pages_with_the_bell_do(
    browser_client, followed, lead
):
    client = browser_client.as_user(lead)

    def notification_queries(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return [q for q in queries if "notification" in q["sql"]]

    assert notification_queries(f"/incidents/{followed.pk}/tasks/") == []
    assert len(notification_queries(f"/incidents/{followed.pk}/")) == 1


def test_a_too_long_note_is_refused_not_dropped(browser_client, followed, drafter):
    task = Task.objects.filter(incident=followed).first()
    response = browser_client.as_user(drafter).post(
        f"/incidents/{followed.pk}/tasks/{task.pk}/complete/",
        {"note": "x" * 5001},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "5,000 characters" in response.content.decode()
    task.refresh_from_db()
    assert task.status == "open"


def test_a_resolved_incidents_tasks_stop_counting_down(followed, lead, browser_client):
    """After closing, the board still counted "7 min 8 s left" on its open tasks."""
    from incidents import actions as incident_actions

    client = browser_client.as_user(lead)
    room = f"/incidents/{followed.pk}/"
    assert 'class="countdown task-due"' in client.get(room).text
    for status in ("active", "resolved"):
        incident_actions.incident_transition(incident=followed, actor=lead, status=status)
    page = client.get(room).text
    assert 'class="countdown task-due"' not in page and "is-overdue" not in page
    assert 'class="task-due muted small"' in page  # the due time is still said
