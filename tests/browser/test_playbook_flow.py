"""A lead declares an incident from a playbook; the drafter works its checklist and starts
a statement from its template; each sees the other's progress live."""

import re

import pytest
from playwright.sync_api import expect

from incidents import actions as incident_actions
from incidents.models import Incident
from tests.browser.conftest import PASSWORD
from tests.helpers import ensure_policy, outside_the_browser_loop

pytestmark = pytest.mark.browser


@pytest.fixture
def people(django_user_model, asgi_server):
    def make():
        from incidents.playbooks.models import Playbook, PlaybookStep, StatementTemplate

        ensure_policy("One approver", [(1, "")], is_default=True, mode="all")
        lead = django_user_model.objects.create_user("camille", password=PASSWORD)
        drafter = django_user_model.objects.create_user("sam", password=PASSWORD, first_name="Sam")
        playbook = Playbook.objects.create(name="Complaint wave", brand="Maison Durand")
        PlaybookStep.objects.create(
            playbook=playbook,
            order=1,
            title="Reply to the first complaints",
            role="drafter",
            due_minutes=20,
        )
        PlaybookStep.objects.create(
            playbook=playbook,
            order=2,
            title="Post an update",
            role="drafter",
            due_minutes=120,
            repeat_minutes=120,
        )
        StatementTemplate.objects.create(
            playbook=playbook,
            name="Holding statement",
            kind="holding",
            channel="x",
            language="en",
            text="{{ brand }} has seen your messages about {{ incident.title }}. "
            "More by {{ next_update_at }}.",
        )
        return lead, drafter, playbook

    return outside_the_browser_loop(make)


def test_declare_from_a_playbook_and_work_its_checklist(signed_in, people):
    lead, drafter, playbook = people
    lead_tab = signed_in(lead)
    lead_tab.goto("/incidents/new/")
    lead_tab.fill("#id_title", "Kettle lids melting")
    lead_tab.select_option("#id_category", "product")
    lead_tab.select_option("#id_playbook", str(playbook.pk))
    lead_tab.click("form.form-card button[type=submit]")
    lead_tab.wait_for_url(re.compile(r".*/incidents/\d+/$"))
    expect(lead_tab.locator("#tasks-panel")).to_contain_text("Reply to the first complaints")

    incident = outside_the_browser_loop(lambda: Incident.objects.get(title="Kettle lids melting"))
    outside_the_browser_loop(
        lambda: incident_actions.member_add(
            incident=incident, actor=lead, user=drafter, role="drafter"
        )
    )
    drafter_tab = signed_in(drafter)
    drafter_tab.goto(f"/incidents/{incident.pk}/")
    expect(drafter_tab.locator("#live-status")).to_have_attribute("data-state", "live")
    lead_tab.reload()
    expect(lead_tab.locator("#live-status")).to_have_attribute("data-state", "live")

    task = drafter_tab.locator(".task", has_text="Reply to the first complaints")
    task.locator("input[name=note]").fill("Answered 12 posts on X")
    task.locator("button", has_text="Mark as done").click()
    expect(lead_tab.locator(".tasks-done")).to_contain_text("1 task done")
    expect(lead_tab.locator("#timeline")).to_contain_text("Answered 12 posts on X")

    drafter_tab.goto(f"/incidents/{incident.pk}/statements/new/")
    drafter_tab.click("text=Holding statement")
    expect(drafter_tab.locator("#id_text")).to_have_value(
        re.compile(
            r"^Maison Durand has seen your messages about Kettle lids melting\. More by .+\.$"
        )
    )
