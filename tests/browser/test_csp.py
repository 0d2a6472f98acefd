"""The Content-Security-Policy holds on the real pages: the room (live socket, htmx), the
statement page, the declare page, the API docs (Swagger UI) and the admin load and work
with no violation reported by the browser."""

import pytest
from playwright.sync_api import expect

from incidents import actions
from statements import actions as statement_actions
from tests.browser.conftest import PASSWORD
from tests.helpers import outside_the_browser_loop

pytestmark = pytest.mark.browser

# Every violation the page sees, collected before any of its own scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def setup(django_user_model, asgi_server, policies):
    def make():
        lead = django_user_model.objects.create_user(
            "camille", password=PASSWORD, first_name="Camille", is_staff=True, is_superuser=True
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
        statement = statement_actions.statement_create(
            incident=incident,
            actor=lead,
            kind="holding",
            channel="x",
            language="en",
            text="We are aware of the posts about our kettle lids.",
        )
        return lead, incident, statement

    return outside_the_browser_loop(make)


def watched(tab):
    """Console messages about the policy, and the violation events."""
    console = []
    tab.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    tab.add_init_script(RECORD_VIOLATIONS)
    return console


def assert_no_violation(tab, console):
    tab.wait_for_timeout(300)  # late scripts and styles (htmx swaps, Swagger's rendering)
    assert tab.evaluate("window.__cspViolations") == []
    assert console == []


def test_the_pages_run_under_the_policy_without_violations(signed_in, setup):
    lead, incident, statement = setup
    tab = signed_in(lead)
    console = watched(tab)

    response = tab.goto(f"/incidents/{incident.pk}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")
    # htmx posts and resets the form (was an inline hx-on handler).
    tab.fill("#id_text", "Seen on a forum")
    tab.click("form.entry-form button[type=submit]")
    expect(tab.locator("#timeline")).to_contain_text("Seen on a forum")
    expect(tab.locator("#id_text")).to_have_value("")
    assert_no_violation(tab, console)

    tab.goto(f"/statements/{statement.pk}/")
    expect(tab.locator("body")).to_contain_text("We are aware of the posts")
    assert_no_violation(tab, console)

    tab.goto("/incidents/new/")
    expect(tab.locator("form")).not_to_have_count(0)
    assert_no_violation(tab, console)

    tab.goto("/api/docs/")
    expect(tab.locator(".swagger-ui .info")).to_contain_text("Crisis Cell API")
    assert_no_violation(tab, console)

    tab.goto("/admin/")
    expect(tab.locator("#content")).to_be_visible()
    tab.goto("/admin/playbooks/playbook/")
    expect(tab.locator("#content")).to_be_visible()
    assert_no_violation(tab, console)

    # The language menu (was an inline onchange) still switches.
    tab.goto(f"/incidents/{incident.pk}/")
    tab.select_option("#language", "fr")
    expect(tab.locator("html")).to_have_attribute("lang", "fr")
    assert_no_violation(tab, console)
