"""Presence in real browsers over the real WebSocket: the lead sees who else has the
incident open and who is editing which statement; a second editor is warned first."""

import pytest
from playwright.sync_api import expect

from incidents import actions
from tests.browser.conftest import PASSWORD
from tests.helpers import outside_the_browser_loop

pytestmark = pytest.mark.browser


@pytest.fixture
def room(django_user_model, asgi_server, policies, make_statement):
    def make():
        lead = django_user_model.objects.create_user(
            "camille", password=PASSWORD, first_name="Camille", last_name="Laurent"
        )
        drafter = django_user_model.objects.create_user(
            "dana", password=PASSWORD, first_name="Dana"
        )
        incident = actions.incident_declare(
            actor=lead,
            title="Complaint wave about kettle lids",
            category="product",
            origin="online",
            platforms=["x"],
            severity=2,
            activate=True,
        )
        actions.member_add(incident=incident, actor=lead, user=drafter, role="drafter")
        statement = make_statement(
            incident=incident,
            author=drafter,
            text="We are aware of the posts about our kettle lids.",
        )
        return incident, statement, lead, drafter

    return outside_the_browser_loop(make)


def test_the_lead_sees_the_drafter_arrive_edit_and_leave(signed_in, room):
    incident, statement, lead, drafter = room
    lead_tab = signed_in(lead)
    lead_tab.goto(f"/incidents/{incident.pk}/")
    here = lead_tab.locator("#presence-list")
    expect(here).to_contain_text("Only you")

    drafter_tab = signed_in(drafter)
    drafter_tab.goto(f"/statements/{statement.pk}/")
    person = here.locator(".presence-person")
    expect(person).to_have_count(1)
    expect(person.locator(".avatar")).to_have_text("D")
    expect(person.locator(".visually-hidden")).to_have_text("Dana")  # for screen readers
    expect(person).to_have_attribute("title", "Dana")
    expect(here.locator(".presence-alone")).to_be_hidden()

    # The header is refreshed by htmx after a severity change: the list is not part of it.
    lead_tab.once("dialog", lambda dialog: dialog.accept())  # it asks first
    lead_tab.select_option("#severity-select", "3")
    expect(lead_tab.locator("#incident-header .chips .severity-high")).to_be_visible()
    expect(person).to_have_count(1)

    badge = lead_tab.locator(f'.statement-item[data-statement="{statement.pk}"] .presence-editing')
    expect(badge).to_be_hidden()
    drafter_tab.focus("#id_text")
    expect(badge).to_have_text("Dana is editing this statement")
    # The statements panel is re-rendered by htmx: the badge comes back.
    lead_tab.evaluate("crisisCell.refreshPanels(['statements'])")
    expect(badge).to_have_text("Dana is editing this statement")

    # The lead opens the statement too (in French): warned before typing over Dana.
    editor_tab = signed_in(lead, locale="fr-FR")
    editor_tab.goto(f"/statements/{statement.pk}/")
    warning = editor_tab.get_by_role("alert")
    expect(warning).to_contain_text("Dana modifie cette déclaration")
    expect(warning).to_contain_text("Mettez-vous d\u2019accord sur qui rédige")

    # Leaving the text untouched releases it; leaving the page leaves the room.
    drafter_tab.locator("#id_text").blur()
    expect(badge).to_be_hidden()
    expect(warning).to_be_hidden()
    drafter_tab.goto("/")
    expect(person).to_have_count(0)
    expect(here.locator(".presence-alone")).to_be_visible()  # the lead's other tab is the lead
