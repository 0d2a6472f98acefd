"""The public crisis page in a real browser: the lead prepares the dark site from a
playbook in the room, the public gets 404, an approver signs the texts, the lead previews
it (noindex) and switches it live, a spokesperson publishes an update, and a visitor without
JavaScript reads it on the public page."""

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

from incidents import actions as incident_actions
from incidents.crisiscenter.models import CrisisPage, CrisisPageTemplate
from incidents.playbooks.models import Playbook
from statements import actions as statement_actions
from statements.models import ApprovalPolicy, ApprovalRequirement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
UPDATE = "Every batch tested since Monday is clean."


def _setup(django_user_model):
    policy, created = ApprovalPolicy.objects.get_or_create(
        name="One approver", defaults={"mode": "all", "is_default": True}
    )
    if created:
        ApprovalRequirement.objects.create(policy=policy, step=1, function="")

    def user(username):
        return django_user_model.objects.create_user(username=username, password=PASSWORD)

    people = {name: user(name) for name in ("lead", "drafter", "approver", "spokesperson")}
    incident = incident_actions.incident_declare(
        actor=people["lead"],
        title="Internal: batch 42 contamination rumour",
        category="rumour",
        origin="online",
        platforms=["x"],
        severity=2,
    )
    for role in ("drafter", "approver", "spokesperson"):
        incident_actions.member_add(
            incident=incident,
            actor=people["lead"],
            user=people[role],
            role=role,
            function="other" if role == "approver" else "",
        )
    playbook = Playbook.objects.create(name="Rumour", brand="Acme")
    CrisisPageTemplate.objects.create(
        playbook=playbook,
        language="en",
        summary="Acme products are safe\nA false rumour about {{ brand }} is circulating.",
        help="Customer service: 0800 123 456",
        faq="Is the product safe?\nYes: every batch is tested.",
    )
    return incident, people


def _approve_texts(incident, approver):
    page = CrisisPage.objects.get(incident=incident)
    for text in page.texts.select_related("statement"):
        statement = statement_actions.statement_submit(
            statement=text.statement, actor=text.statement.author
        )
        statement_actions.statement_approve(
            statement=statement, actor=approver, revision=statement.revision
        )


def _publish_update(incident, people):
    statement = statement_actions.statement_create(
        incident=incident,
        actor=people["drafter"],
        kind="update",
        channel="crisis_center",
        language="en",
        text=UPDATE,
    )
    statement = statement_actions.statement_submit(statement=statement, actor=people["drafter"])
    statement = statement_actions.statement_approve(
        statement=statement, actor=people["approver"], revision=statement.revision
    )
    statement_actions.statement_publish(statement=statement, actor=people["spokesperson"])


def test_dark_preview_live_and_the_public_reads_the_approved_update(
    chromium, live_server, finder_static, django_user_model
):
    incident, people = outside_the_browser_loop(lambda: _setup(django_user_model))
    lead_context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    lead_context.set_default_timeout(TIMEOUT_MS)
    lead = lead_context.new_page()
    lead.goto("/accounts/login/")
    lead.fill("#id_username", "lead")
    lead.fill("#id_password", PASSWORD)
    lead.get_by_role("button", name="Sign in").click()
    lead.wait_for_url(lambda url: "/accounts/login/" not in url)

    lead.goto(f"/incidents/{incident.pk}/")
    panel = lead.locator("#crisis-page-panel")
    panel.get_by_label("From the playbook").select_option(label="Rumour")
    panel.get_by_label("Address").fill("acme-rumour")
    panel.get_by_role("button", name="Prepare the dark page").click()
    expect(panel.locator(".crisis-state")).to_have_text("Dark (prepared, not public)")
    expect(panel).to_contain_text("Summary")

    # No JavaScript for the public: the page must work without it.
    public_context = chromium.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 390, "height": 800}
    )
    visitor = public_context.new_page()
    assert visitor.goto("/crisis/acme-rumour/").status == 404

    outside_the_browser_loop(lambda: _approve_texts(incident, people["approver"]))
    preview = lead_context.new_page()
    preview.goto(f"/incidents/{incident.pk}/crisis-page/preview/")
    expect(preview.locator("h1")).to_have_text("Acme products are safe")
    expect(preview.locator('meta[name="robots"]')).to_have_attribute("content", "noindex, nofollow")
    expect(preview.locator(".banner.preview")).to_be_visible()

    lead.reload()
    lead.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Switch live").click()
    expect(panel.locator(".crisis-state")).to_have_text("Live")
    expect(lead.locator("#crisis-public-url")).to_have_value(
        "http://127.0.0.1:8000/crisis/acme-rumour/"
    )

    outside_the_browser_loop(lambda: _publish_update(incident, people))
    response = visitor.goto("/crisis/acme-rumour/en/")
    assert response.status == 200
    expect(visitor.locator("h1")).to_have_text("Acme products are safe")
    expect(visitor.locator(".updates")).to_contain_text(UPDATE)
    expect(visitor.locator("details")).to_contain_text("every batch is tested")
    assert visitor.locator('meta[name="robots"]').count() == 0  # a live page is indexable
    # Nothing on it the cell did not approve: not the incident's internal title.
    assert "Internal: batch 42" not in visitor.content()
    width = visitor.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling on a phone
    lead.reload()
    expect(lead.locator("#crisis-page-panel")).to_contain_text(UPDATE)
    lead_context.close()
    public_context.close()
