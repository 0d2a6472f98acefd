"""Submit all the crisis page's drafts for approval at once (the room's button and the API),
and the warning about {{ next_update_at }} in a crisis page template."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crisiscell.typography import french_spacing
from incidents.crisiscenter import actions
from incidents.crisiscenter.models import CrisisPage, CrisisPageTemplate
from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import Notification
from incidents.playbooks.models import Playbook
from statements.models import Statement
from tests.helpers import assert_error

BUTTON = "Submit all drafts for approval"


def statuses(page) -> list[str]:
    return list(page.texts.values_list("statement__status", flat=True))


def room_message(response) -> str:
    return json.loads(response["HX-Trigger"])["room-message"]["message"]


def test_the_lead_submits_every_draft_at_once_and_the_approvers_are_asked(
    dark_page, browser_client, lead, approver, incident
):
    assert statuses(dark_page) == ["draft"] * 9
    response = browser_client.as_user(lead).post(
        f"/incidents/{incident.pk}/crisis-page/submit-drafts/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "incident-changed" in response["HX-Trigger"]
    assert room_message(response) == "9 drafts submitted for approval."
    assert statuses(dark_page) == ["in_review"] * 9
    asked = Notification.objects.filter(user=approver, kind=NotificationKind.REVIEW_REQUESTED)
    assert asked.count() == 9
    # Each went through the statements' own submit: on the timeline, one by one.
    assert incident.timeline.filter(kind="statement_submitted").count() == 9


def test_the_api_submits_and_answers_what_went(dark_page, api, drafter, incident):
    url = f"/api/incidents/{incident.pk}/crisis-page/submit-drafts/"
    response = api.as_user(drafter).post(url)
    assert response.status_code == 200
    body = response.json()
    assert len(body["submitted"]) == 9 and body["refused"] == []
    assert {s["status"] for s in body["submitted"]} == {"in_review"}
    assert body["submitted"][0]["title"].startswith("Crisis page: ")
    again = api.as_user(drafter).post(url).json()  # nothing left to submit
    assert again == {"submitted": [], "refused": []}


def test_an_observer_cannot_and_an_outsider_is_told_nothing(
    dark_page, api, browser_client, observer, outsider, incident
):
    url = f"/api/incidents/{incident.pk}/crisis-page/submit-drafts/"
    assert "writers of the cell" in assert_error(api.as_user(observer).post(url), 403)
    assert_error(api.as_user(outsider).post(url), 404)
    room = browser_client.as_user(observer)
    assert BUTTON not in room.get(f"/incidents/{incident.pk}/crisis-page/").content.decode()
    response = room.post(
        f"/incidents/{incident.pk}/crisis-page/submit-drafts/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and "writers of the cell" in response.content.decode()
    assert statuses(dark_page) == ["draft"] * 9


def test_a_draft_its_submit_rule_refuses_is_reported_and_the_others_still_go(
    dark_page, api, browser_client, lead, policies, incident
):
    # Its policy asks for legal, whom nobody in the cell signs for: nobody could approve it.
    stuck = dark_page.texts.order_by("id").first().statement
    Statement.objects.filter(pk=stuck.pk).update(policy=policies["ordered"])
    response = api.as_user(lead).post(f"/api/incidents/{incident.pk}/crisis-page/submit-drafts/")
    assert response.status_code == 200
    body = response.json()
    assert len(body["submitted"]) == 8
    [refused] = body["refused"]
    assert refused["statement"] == stuck.pk and refused["title"] == str(stuck)
    assert "legal" in refused["reason"].lower()
    stuck.refresh_from_db()
    assert stuck.status == "draft"
    assert sorted(statuses(dark_page)) == ["draft"] + ["in_review"] * 8
    # The room says it too: only the one left, with its title and why.
    response = browser_client.as_user(lead).post(
        f"/incidents/{incident.pk}/crisis-page/submit-drafts/", HTTP_HX_REQUEST="true"
    )
    message = room_message(response)
    assert message.startswith(f"Not submitted: “{stuck}”: ") and "legal" in message.lower()


def test_without_htmx_the_room_says_how_many_went(dark_page, browser_client, lead, incident):
    response = browser_client.as_user(lead).post(
        f"/incidents/{incident.pk}/crisis-page/submit-drafts/", follow=True
    )
    assert "9 drafts submitted for approval." in response.content.decode()


def test_the_panel_counts_the_drafts_the_user_may_submit(
    dark_page, browser_client, lead, drafter, incident
):
    panel_url = f"/incidents/{incident.pk}/crisis-page/"
    body = browser_client.as_user(drafter).get(panel_url).content.decode()
    assert f"{BUTTON} (9)" in body and "data-confirm=" in body
    first = dark_page.texts.order_by("id").first().statement
    browser_client.as_user(lead).post(f"/statements/{first.pk}/submit/")
    first.refresh_from_db()
    assert first.status == "in_review"
    assert f"{BUTTON} (8)" in browser_client.as_user(drafter).get(panel_url).content.decode()
    actions.page_drafts_submit(page=dark_page, actor=lead)
    assert BUTTON not in browser_client.as_user(lead).get(panel_url).content.decode()


# Queries of one statement submit, its savepoint included (lock, progress, timeline, the
# approvers' notifications): about 20 measured.
PER_DRAFT = 25


def test_the_button_and_the_outcome_read_in_french(dark_page, browser_client, lead, incident):
    client = browser_client.as_user(lead)
    panel = client.get(
        f"/incidents/{incident.pk}/crisis-page/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Soumettre tous les brouillons à validation (9)" in panel
    assert french_spacing("Envoyer maintenant 9 brouillons à leurs validateurs ?") in panel
    response = client.post(
        f"/incidents/{incident.pk}/crisis-page/submit-drafts/",
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert room_message(response) == "9 brouillons soumis à validation."


def _add_drafts(page, actor, n):
    for i in range(n):
        actions.page_text_draft(
            page=page, actor=actor, section="faq", language="en", text=f"Question {i}?\nAnswer."
        )


def test_the_panel_reads_a_constant_number_of_queries_and_the_action_a_bounded_number(
    dark_page, browser_client, lead, incident
):
    client = browser_client.as_user(lead)
    panel_url = f"/incidents/{incident.pk}/crisis-page/"
    client.get(panel_url)  # warm up (session, caches)

    def panel_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(panel_url).status_code == 200
        return len(queries)

    before = panel_queries()
    _add_drafts(dark_page, lead, 6)
    assert f"{BUTTON} (15)" in client.get(panel_url).content.decode()
    assert panel_queries() == before

    # The action: each draft goes through the statements' submit action, so a bounded cost
    # per draft and none for the selection.
    with CaptureQueriesContext(connection) as queries:
        outcome = actions.page_drafts_submit(page=dark_page, actor=lead)
    assert len(outcome.submitted) == 15
    assert len(queries) <= 15 * PER_DRAFT + 10


# --- {{ next_update_at }} in a crisis page template: a warning, never a refusal -------------------


def test_the_room_warns_once_when_a_template_puts_the_next_update_time_in_a_text(
    incident, lead, playbook, browser_client, next_update
):
    # Both languages' templates hold it: said once.
    CrisisPageTemplate.objects.filter(playbook=playbook, language="fr").update(
        doing="Prochaine mise à jour : {{ next_update_at }}."
    )
    response = browser_client.as_user(lead).post(
        f"/incidents/{incident.pk}/crisis-page/prepare/",
        {"playbook": playbook.pk, "slug": "warned", "next_update_at": ""},
        HTTP_HX_REQUEST="true",
    )
    # No time given: the template cannot be filled (the existing refusal, unchanged).
    assert response.status_code == 422
    response = browser_client.as_user(lead).post(
        f"/incidents/{incident.pk}/crisis-page/prepare/",
        {
            "playbook": playbook.pk,
            "slug": "warned",
            "next_update_at": next_update.strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )
    body = response.content.decode()
    assert CrisisPage.objects.get(incident=incident).texts.count() == 9  # it still works
    assert "Crisis page prepared" in body
    assert body.count("goes stale when the next update time moves") == 1


def test_preparing_from_a_template_without_it_says_nothing_more(incident, lead, browser_client):
    playbook = Playbook.objects.create(name="Quiet", brand="Acme")
    CrisisPageTemplate.objects.create(playbook=playbook, language="en", summary="Title\nBody.")
    response = browser_client.as_user(lead).post(
        f"/incidents/{incident.pk}/crisis-page/prepare/",
        {"playbook": playbook.pk, "slug": "quiet"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    said = json.loads(response["HX-Trigger"])["room-message"]["message"]
    assert said == "Crisis page prepared: dark until you switch it live."  # no warning


@pytest.fixture
def admin_client(client, make_user):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_the_admin_says_it_and_saves_such_a_template_with_a_warning(admin_client, playbook):
    url = "/admin/crisiscenter/crisispagetemplate/add/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "header always shows the current next update time" in (page.content.decode())
    other = Playbook.objects.create(name="Other", brand="Acme")
    response = admin_client.post(
        url,
        {
            "playbook": other.pk,
            "language": "en",
            "summary": "Title\nNext update: {{ next_update_at }}",
            "doing": "",
            "help": "",
            "faq": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert CrisisPageTemplate.objects.filter(playbook=other).exists()  # saved: a warning
    assert "A text of this crisis page template holds" in response.content.decode()
    response = admin_client.post(
        url,
        {
            "playbook": Playbook.objects.create(name="Plain", brand="Acme").pk,
            "language": "en",
            "summary": "Title\nBody.",
            "doing": "",
            "help": "",
            "faq": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "A text of this crisis page template holds" not in response.content.decode()
