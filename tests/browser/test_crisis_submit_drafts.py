"""In a real browser: the lead submits every draft of the prepared crisis page at once,
confirms, and the room says how many went (a message), the button gone."""

import os

import pytest

from tests.browser.conftest import TIMEOUT_MS
from tests.helpers import outside_the_browser_loop

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest's skip-or-fail rule, applied at collection
    if os.environ.get("CRISISCELL_REQUIRE_BROWSER", "").strip() == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from incidents.crisiscenter import actions
from incidents.playbooks.models import Playbook

from .test_crisis_page_flow import PASSWORD, _setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_lead_submits_all_drafts_after_a_confirmation_and_reads_how_many_went(
    chromium, live_server, finder_static, django_user_model
):

    def prepare():
        incident, people = _setup(django_user_model)
        actions.page_prepare(
            incident=incident,
            actor=people["lead"],
            playbook=Playbook.objects.get(name="Rumour"),
            slug="acme-rumour",
        )
        return incident

    incident = outside_the_browser_loop(prepare)
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    lead = context.new_page()
    lead.goto("/accounts/login/")
    lead.fill("#id_username", "lead")
    lead.fill("#id_password", PASSWORD)
    lead.get_by_role("button", name="Sign in").click()
    lead.wait_for_url(lambda url: "/accounts/login/" not in url)

    lead.goto(f"/incidents/{incident.pk}/")
    panel = lead.locator("#crisis-page-panel")
    button = panel.get_by_role("button", name="Submit all drafts for approval (3)")
    messages = []
    lead.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    button.click()
    expect(lead.locator(".toast")).to_have_text("3 drafts submitted for approval.")
    assert messages == ["Send 3 drafts to their approvers now?"]
    expect(panel.get_by_role("button", name="Submit all drafts for approval")).to_have_count(0)
    expect(panel).to_contain_text("In review")
    context.close()
