"""The room in a real browser: the lead staffs the cell with the search picker, several
people in a row, an approver always with a function; on a phone the work comes first and
nothing pushes the page sideways."""

import pytest
from playwright.sync_api import expect

from incidents import actions
from incidents.playbooks import actions as playbook_actions
from incidents.playbooks.defaults import ensure_default_playbooks
from incidents.playbooks.models import Playbook
from statements import actions as statement_actions
from statements.models import ApprovalPolicy, ApprovalRequirement
from tests.browser.conftest import PASSWORD
from tests.helpers import outside_the_browser_loop

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _person(django_user_model, username, first, last):
    return django_user_model.objects.create_user(
        username,
        password=PASSWORD,
        first_name=first,
        last_name=last,
        email=f"{username}@example.com",
    )


@pytest.fixture
def cell(django_user_model, asgi_server):
    def make():
        lead = _person(django_user_model, "camille", "Camille", "Laurent")
        drafter = _person(django_user_model, "dana", "Dana", "Moreau")
        _person(django_user_model, "ibernard", "Inès", "Bernard")
        _person(django_user_model, "jroux", "Julien", "Roux")
        incident = actions.incident_declare(
            actor=lead,
            title="Insensitive post on the brand account",
            category="public_statement",
            origin="online",
            platforms=["instagram"],
            severity=3,
            activate=True,
        )
        actions.member_add(incident=incident, actor=lead, user=drafter, role="drafter")
        return incident, lead, drafter

    return outside_the_browser_loop(make)


def test_the_lead_adds_several_people_in_a_row_with_the_search(signed_in, cell):
    incident, lead, drafter = cell
    lead_tab, drafter_tab = signed_in(lead), signed_in(drafter)
    for tab in (lead_tab, drafter_tab):
        tab.goto(f"/incidents/{incident.pk}/")
        expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")

    lead_tab.locator("#member-add summary").click()
    form = lead_tab.locator("#member-add-form")
    form.locator("#member-person").fill("bern")
    form.locator(".candidate", has_text="Inès Bernard").click()
    # The function select shows once the role is "approver"; an approver needs one.
    expect(form.locator("#member-function")).to_be_hidden()
    form.locator("#member-role").select_option("approver")
    expect(form.locator("#member-function")).to_be_visible()
    form.get_by_role("button", name="Add to the cell").click()
    expect(form).to_contain_text("Choose what this approver signs off for")
    expect(lead_tab.locator("#member-function")).to_be_focused()

    lead_tab.locator("#member-function").select_option("legal")
    lead_tab.get_by_role("button", name="Add to the cell").click()
    expect(lead_tab.locator("#member-add-form .form-success")).to_have_text(
        "Added Inès Bernard as Approver — Legal."
    )
    expect(lead_tab.locator("#members-panel .member-list")).to_contain_text("Inès Bernard")
    expect(drafter_tab.locator("#members-panel")).to_contain_text("Approver — Legal")
    # Still open, emptied and focused for the next person, after the panel's live refresh.
    expect(lead_tab.locator("#member-add")).to_have_attribute("open", "")
    expect(lead_tab.locator("#member-person")).to_be_focused()
    expect(lead_tab.locator("#member-person")).to_have_value("")
    expect(lead_tab.locator("#member-add-form .form-success")).to_be_visible()

    # The next one, typed in full: no need to pick in the list.
    lead_tab.locator("#member-person").fill("jroux@example.com")
    lead_tab.locator("#member-role").select_option("spokesperson")
    lead_tab.locator("#member-person").press("Enter")
    expect(lead_tab.locator("#member-add-form .form-success")).to_have_text(
        "Added Julien Roux as Spokesperson."
    )
    expect(lead_tab.locator("#members-panel .member-list")).to_contain_text("Julien Roux")
    expect(lead_tab.locator("#members-panel .count").first).to_have_text("4")


@pytest.fixture
def followed(django_user_model, asgi_server):
    """A high-severity incident following the ten-step default playbook, whose holding
    statement went out within the hour ("deadline met"), as its lead sees it."""

    def make():
        ensure_default_playbooks()
        policy, created = ApprovalPolicy.objects.get_or_create(
            name="One approver", defaults={"mode": "all", "is_default": True}
        )
        if created:
            ApprovalRequirement.objects.create(policy=policy, step=1, function="")
        lead = _person(django_user_model, "camille", "Camille", "Laurent")
        people = {
            role: _person(django_user_model, role, role.title(), "Durand-Petitjean")
            for role in ("drafter", "approver", "spokesperson")
        }
        incident = actions.incident_declare(
            actor=lead,
            title="Post insensible publié sur le compte Instagram de la marque, repris partout",
            category="public_statement",
            origin="online",
            platforms=["instagram", "x", "press"],
            severity=3,
            activate=True,
        )
        for role, user in people.items():
            actions.member_add(
                incident=incident,
                actor=lead,
                user=user,
                role=role,
                function="communications" if role == "approver" else "",
            )
        playbook = Playbook.objects.get(name__startswith="Publication inappropriée")
        playbook_actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)
        statement = statement_actions.statement_create(
            incident=incident,
            actor=people["drafter"],
            kind="holding",
            channel="x",
            language="en",
            text="We are aware of the post and are looking into it. More information soon.",
            approval_policy=policy,
        )
        statement = statement_actions.statement_submit(statement=statement, actor=people["drafter"])
        statement = statement_actions.statement_approve(
            statement=statement, actor=people["approver"], revision=statement.revision
        )
        statement_actions.statement_publish(
            statement=statement, actor=people["spokesperson"], url="https://x.com/brand/status/1"
        )
        return incident, lead

    return outside_the_browser_loop(make)


def test_on_a_phone_the_work_comes_first_and_nothing_overflows(signed_in, followed):
    incident, lead = followed
    tab = signed_in(lead)
    tab.set_viewport_size(PHONE)
    tab.goto(f"/incidents/{incident.pk}/")
    expect(tab.locator("#incident-header .countdown")).to_contain_text("deadline met")
    layout = tab.evaluate(
        """() => {
          const top = (s) => document.querySelector(s).getBoundingClientRect().top + scrollY;
          const wide = [...document.querySelectorAll(
              '.chip, .countdown, .button, .statement-item, .task, .member, h1, h2')]
            .filter((e) => e.getClientRects().length)
            .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5)
            .map((e) => e.className || e.tagName);
          return {
            scrollWidth: document.documentElement.scrollWidth,
            width: innerWidth,
            statements: top('#statements-panel'),
            tasks: top('#tasks-panel'),
            timeline: top('#timeline'),
            wide,
          };
        }"""
    )
    assert layout["scrollWidth"] <= layout["width"], layout
    assert layout["wide"] == [], layout
    assert layout["statements"] < layout["tasks"] < layout["timeline"], layout
    # The statements start within the first screen and a half, not ~3,000 px down.
    assert layout["statements"] < 1.5 * PHONE["height"], layout
