"""A holding statement's way out, in a real browser, by three people at once: the drafter
writes and submits it, the approver signs it off from their inbox, the spokesperson copies
the approved text, posts it and records the URL; the room then shows the first response."""

import os
import re

import pytest

from tests.browser.conftest import ARTIFACTS, TIMEOUT_MS
from tests.helpers import outside_the_browser_loop

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest's skip-or-fail rule, applied at collection
    if os.environ.get("CRISISCELL_REQUIRE_BROWSER", "").strip() == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from incidents import actions as incident_actions
from incidents.models import Incident
from statements.models import ApprovalPolicy, ApprovalRequirement, Statement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
OPENING = "We are aware"
HOLDING = (
    "We are aware of the post shared on our account this morning and we are looking into it. "
    "We will share more within the hour."
)
POST_URL = "https://x.com/brand/status/1790000000000000000"


@pytest.fixture
def log_in_as(chromium, live_server, finder_static, request):
    """A separate browser (context) per person, each logged in through the login form."""
    # Same override as the `page` fixture: the live server cannot serve the hashed names
    # of the production (manifest) storage.
    opened = []

    def log_in_as(user, permissions=()):
        context = chromium.new_context(base_url=live_server.url, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        if permissions:
            context.grant_permissions(list(permissions), origin=live_server.url)
        page = context.new_page()
        opened.append((user.get_username(), context, page))
        page.goto("/accounts/login/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    yield log_in_as
    failed = any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    for username, context, page in opened:
        if failed:
            os.makedirs(ARTIFACTS, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.node.nodeid}-{username}")
            try:
                page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"), full_page=True)
            except Exception as exc:  # a dead page must not hide the test's own failure
                print(f"could not save a screenshot: {exc}")
        context.close()


@pytest.fixture
def cell(transactional_db, django_user_model):
    """An incident with its lead, drafter, approver and spokesperson, made with the ORM."""
    return outside_the_browser_loop(lambda: _make_cell(django_user_model))


def _make_cell(django_user_model):
    # Transactional tests flush the database, data migrations included: make sure the
    # default policy ("One approver") is there.
    policy, created = ApprovalPolicy.objects.get_or_create(
        name="One approver", defaults={"mode": "all", "is_default": True}
    )
    if created:
        ApprovalRequirement.objects.create(policy=policy, step=1, function="")

    def user(username, first, last):
        return django_user_model.objects.create_user(
            username=username, password=PASSWORD, first_name=first, last_name=last
        )

    people = {
        "lead": user("camille", "Camille", "Laurent"),
        "drafter": user("dana", "Dana", "Drafter"),
        "approver": user("alex", "Alex", "Approver"),
        "spokesperson": user("sasha", "Sasha", "Speaker"),
    }
    incident = incident_actions.incident_declare(
        actor=people["lead"],
        title="Insensitive post on the brand account",
        category="public_statement",
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
            function="legal" if role == "approver" else "",
        )
    return incident, people


def test_drafter_approver_and_spokesperson_get_a_holding_statement_out(log_in_as, cell):
    incident, people = cell
    drafter = log_in_as(people["drafter"])
    approver = log_in_as(people["approver"])
    spokesperson = log_in_as(people["spokesperson"], ["clipboard-read", "clipboard-write"])

    # The drafter writes a holding statement for X from the incident room.
    drafter.goto(f"/incidents/{incident.pk}/")
    expect(drafter.locator("#statements-panel")).to_contain_text("No statement yet.")
    drafter.locator("#statements-panel").get_by_role("link", name="New statement").click()
    expect(drafter).to_have_url(re.compile(rf"/incidents/{incident.pk}/statements/new/$"))
    drafter.select_option("#id_kind", "holding")
    drafter.select_option("#id_channel", "x")
    drafter.select_option("#id_language", "en")
    drafter.fill("#id_title", "Holding statement X")

    counter = drafter.locator(".char-counter")
    expect(counter).to_contain_text("0 / 280")
    drafter.locator("#id_text").press_sequentially(OPENING)
    expect(counter).to_contain_text(f"{len(OPENING)} / 280")
    drafter.fill("#id_text", HOLDING)
    expect(counter).to_contain_text(f"{len(HOLDING)} / 280")
    expect(counter).not_to_have_class(re.compile(r"\bis-over\b"))
    expect(counter.locator(".over")).to_be_hidden()
    drafter.fill("#id_text", "x" * 281)
    expect(counter).to_contain_text("281 / 280")
    expect(counter).to_have_class(re.compile(r"\bis-over\b"))
    expect(counter.locator(".over")).to_be_visible()
    drafter.fill("#id_text", HOLDING)
    expect(counter).to_contain_text(f"{len(HOLDING)} / 280")

    drafter.get_by_role("button", name="Save draft").click()
    expect(drafter).to_have_url(re.compile(r"/statements/\d+/$"))
    statement = Statement.objects.get()
    assert drafter.url.endswith(f"/statements/{statement.pk}/")
    expect(drafter.locator(".messages")).to_contain_text("Draft saved as revision 1.")
    expect(drafter.locator(".chip.stmt-draft")).to_have_text("Draft")
    # The editor's counter says the length once, against the channel's limit.
    expect(drafter.locator(".char-counter")).to_contain_text(
        re.compile(rf"^\s*{len(HOLDING)} / 280 characters\b")
    )
    drafter.get_by_role("button", name="Submit for approval").click()
    expect(drafter.locator(".messages")).to_contain_text("Submitted for approval.")
    expect(drafter.locator(".chip.stmt-in_review")).to_have_text("In review")
    statement.refresh_from_db()
    assert (statement.status, statement.revision, statement.text) == ("in_review", 1, HOLDING)

    # The approver finds it in "My approvals" and signs revision 1 off.
    approver.goto("/")
    approver.locator("nav").get_by_role("link", name="My approvals").click()
    expect(approver).to_have_url(re.compile(r"/approvals/$"))
    approver.get_by_role("link", name=re.compile("Holding statement X")).click()
    expect(approver).to_have_url(re.compile(rf"/statements/{statement.pk}/$"))
    expect(approver.locator("#approved-text")).to_have_text(HOLDING)
    approver.get_by_role("button", name="Approve revision 1").click()
    expect(approver.locator(".messages")).to_contain_text("Approved.")
    expect(approver.locator(".chip.stmt-approved")).to_have_text("Approved")
    approver.goto("/approvals/")
    expect(approver.locator("main")).to_contain_text("Nothing waits for you")

    # The spokesperson copies the exact approved text, posts it, records the URL.
    spokesperson.goto(f"/statements/{statement.pk}/")
    expect(spokesperson.locator("#approved-copy")).to_have_value(HOLDING)
    copy = spokesperson.locator("button[data-copy='#approved-copy']")
    expect(copy).to_have_text("Copy the approved text")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert spokesperson.evaluate("navigator.clipboard.readText()") == HOLDING
    spokesperson.fill("#id_url", POST_URL)
    spokesperson.get_by_role("button", name="Mark as published").click()
    expect(spokesperson.locator(".messages")).to_contain_text("Marked as published.")
    expect(spokesperson.locator(".chip.stmt-published")).to_have_text("Published")
    expect(spokesperson.locator(".published-note")).to_contain_text("Sasha Speaker")

    statement.refresh_from_db()
    incident = Incident.objects.get(pk=incident.pk)
    assert (statement.status, statement.published_url) == ("published", POST_URL)
    assert incident.first_response_at == statement.published_at

    # Back in the room, the countdown has become the first-response time.
    drafter.goto(f"/incidents/{incident.pk}/")
    expect(drafter.locator("#incident-header")).to_contain_text(
        re.compile(r"First response after \d+ min")
    )
    expect(drafter.locator("#incident-header")).to_contain_text("deadline met")
    expect(drafter.locator("#statements-panel .chip.stmt-published")).to_have_text("Published")
