"""Every page where work happens is live (issue 12, item 3): the dashboard, "My approvals"
and a statement's page follow the changes made elsewhere without a reload, over the
person's own socket (ws/me/) or the statement's incident socket. Page loads are counted:
none after the first."""

import pytest
from playwright.sync_api import expect

from incidents import actions as incident_actions
from tests.browser.conftest import PASSWORD
from tests.helpers import ensure_policy, outside_the_browser_loop

pytestmark = pytest.mark.browser


@pytest.fixture
def people(django_user_model, asgi_server):
    def make():
        ensure_policy("One approver", [(1, "")], is_default=True, mode="all")

        def user(username, first):
            return django_user_model.objects.create_user(
                username, password=PASSWORD, first_name=first, last_name="Test"
            )

        return {
            name: user(name, name.capitalize())
            for name in ("camille", "dana", "alex", "bea", "sasha")
        }

    return outside_the_browser_loop(make)


def declare(lead, title="Complaint wave about kettle lids", **cell):
    def make():
        incident = incident_actions.incident_declare(
            actor=lead,
            title=title,
            category="product",
            origin="online",
            platforms=["x"],
            severity=2,
            activate=True,
        )
        for user, role in cell.items():
            incident_actions.member_add(
                incident=incident, actor=lead, user=user, role=role, function=function_of(role)
            )
        return incident

    return outside_the_browser_loop(make)


def open_live(tab, path):
    """Open a page, wait until its socket is live, then count the page loads from there."""
    tab.goto(path)
    expect(tab.locator("body")).to_have_attribute("data-live", "live")
    loads = []
    tab.on("framenavigated", lambda frame: frame == tab.main_frame and loads.append(frame.url))
    return loads


def statement_in_review(incident, author):
    def make():
        from statements import actions

        statement = actions.statement_create(
            incident=incident,
            actor=author,
            kind="holding",
            channel="x",
            language="en",
            title="Holding statement X",
            text="We have seen your messages about our kettles. More soon.",
        )
        return actions.statement_submit(statement=statement, actor=author)

    return outside_the_browser_loop(make)


def function_of(role):
    return "other" if role == "approver" else ""


def approve(statement, approver):
    def run():
        from statements import actions

        actions.statement_approve(statement=statement, actor=approver, revision=statement.revision)

    outside_the_browser_loop(run)


def test_the_dashboard_shows_an_incident_once_i_am_in_its_cell_and_follows_it(signed_in, people):
    lead, dana = people["camille"], people["dana"]
    tab = signed_in(dana)
    loads = open_live(tab, "/")
    expect(tab.locator("#incident-list")).to_contain_text("No open incident")

    incident = declare(lead)  # not in its cell yet: nothing to see
    outside_the_browser_loop(
        lambda: incident_actions.member_add(
            incident=incident, actor=lead, user=dana, role="drafter"
        )
    )
    row = tab.locator("#incident-list tr", has_text="Complaint wave about kettle lids")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Drafter")

    # From now on the dashboard follows that incident's changes.
    outside_the_browser_loop(
        lambda: incident_actions.incident_set_severity(incident=incident, actor=lead, severity=4)
    )
    expect(row.locator(".severity-critical")).to_be_visible()
    outside_the_browser_loop(
        lambda: incident_actions.member_change_role(
            incident=incident, actor=lead, user=dana, role="observer"
        )
    )
    expect(row).to_contain_text("Observer")
    assert loads == [], "the dashboard reloaded"


def test_my_approvals_shows_a_statement_submitted_to_me_and_drops_it_once_approved(
    signed_in, people
):
    lead, dana, alex, bea = (people[n] for n in ("camille", "dana", "alex", "bea"))
    incident = declare(lead)
    outside_the_browser_loop(
        lambda: [
            incident_actions.member_add(
                incident=incident, actor=lead, user=user, role=role, function=function_of(role)
            )
            for user, role in ((dana, "drafter"), (alex, "approver"), (bea, "approver"))
        ]
    )
    tab = signed_in(alex)
    loads = open_live(tab, "/approvals/")
    expect(tab.locator("#approvals-inbox")).to_contain_text("Nothing waits for you")

    statement = statement_in_review(incident, dana)
    expect(tab.locator("#approvals-inbox")).to_contain_text("Holding statement X")

    approve(statement, bea)  # another approver signs off: it no longer waits for Alex
    expect(tab.locator("#approvals-inbox")).to_contain_text("Nothing waits for you")
    expect(tab.locator("#approvals-inbox")).not_to_contain_text("Holding statement X")
    assert loads == [], "the inbox reloaded"


def test_the_statement_page_follows_its_review(signed_in, people):
    lead, dana, alex, sasha = (people[n] for n in ("camille", "dana", "alex", "sasha"))
    incident = declare(lead)
    outside_the_browser_loop(
        lambda: [
            incident_actions.member_add(
                incident=incident, actor=lead, user=user, role=role, function=function_of(role)
            )
            for user, role in ((dana, "drafter"), (alex, "approver"), (sasha, "spokesperson"))
        ]
    )
    statement = statement_in_review(incident, dana)
    path = f"/statements/{statement.pk}/"

    spokesperson = signed_in(sasha)
    spokesperson_loads = open_live(spokesperson, path)
    expect(spokesperson.locator(".page-head .chips")).to_contain_text("In review")
    expect(spokesperson.locator(".publish-box")).to_have_count(0)

    # The drafter starts a new revision in the editor, without saving it yet.
    drafter = signed_in(dana)
    drafter_loads = open_live(drafter, path)
    editor = drafter.locator("textarea[name=text]")
    editor.fill("We have seen your messages. Our kettles are safe; more at noon.")
    editor.evaluate("(el) => { el.focus(); el.setSelectionRange(7, 7); }")

    approve(statement, alex)
    # The spokesperson waiting on it sees it approved, and the publish box appears.
    expect(spokesperson.locator(".page-head .chips")).to_contain_text("Approved")
    expect(spokesperson.locator(".publish-box")).to_be_visible()
    expect(spokesperson.locator(".approval-list")).to_contain_text("Alex")
    # The drafter's page follows too, and keeps what was typed, where it was typed.
    expect(drafter.locator(".page-head .chips")).to_contain_text("Approved")
    expect(editor).to_have_value("We have seen your messages. Our kettles are safe; more at noon.")
    assert drafter.evaluate(
        "() => [document.activeElement.name, document.activeElement.selectionStart]"
    ) == ["text", 7]
    assert spokesperson_loads == [] and drafter_loads == [], "a statement page reloaded"
