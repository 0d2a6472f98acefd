"""A lead declares a planned campaign from the watch's edit page in a browser, in their own
time zone, then deletes it (the page asks first)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.listening import actions
from incidents.listening.models import ExpectedBurst
from tests.browser.conftest import ARTIFACTS, PASSWORD
from tests.helpers import outside_the_browser_loop
from tests.listening.conftest import grant

pytestmark = pytest.mark.browser

ZONE = "America/New_York"


def test_a_lead_declares_a_campaign_where_they_edit_the_watch(signed_in, django_user_model):
    def make():
        lead = django_user_model.objects.create_user("camille", password=PASSWORD)
        lead = grant(lead, "view_mention", "change_watch")
        watch = actions.watch_create(actor=lead, name="Lumière", brand="Lumière", keywords=["lum"])
        return lead, watch

    lead, watch = outside_the_browser_loop(make)
    tab = signed_in(lead, timezone_id=ZONE)
    tab.goto(f"/listening/watches/{watch.pk}/edit/")
    tab.get_by_role("link", name="Planned campaigns").click()
    expect(tab.locator("body")).to_contain_text("No campaign planned.")

    day = (timezone.now().astimezone(ZoneInfo(ZONE)) + timedelta(days=2)).date().isoformat()
    tab.fill("#id_starts_at", f"{day}T08:00")
    tab.fill("#id_ends_at", f"{day}T07:00")  # before it starts: refused, as typed
    tab.fill("#id_expected_size", "3")
    tab.fill("#id_note", "Black Friday")
    tab.get_by_role("button", name="Add the campaign").click()
    expect(tab.locator(".has-error")).to_contain_text("must end after it starts")
    expect(tab.locator("#id_note")).to_have_value("Black Friday")

    tab.fill("#id_ends_at", f"{day}T20:00")
    tab.get_by_role("button", name="Add the campaign").click()
    expect(tab.locator(".messages")).to_contain_text("Planned campaign saved")
    item = tab.locator(".campaign")
    expect(item).to_contain_text("08:00 \u2013 20:00")
    expect(item).to_contain_text("expects 3\u00d7 the usual volume")
    burst = outside_the_browser_loop(lambda: ExpectedBurst.objects.get())
    assert burst.starts_at.astimezone(ZoneInfo(ZONE)).hour == 8

    tab.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Delete").click()
    expect(tab.locator(".messages")).to_contain_text("Planned campaign deleted")
    assert not outside_the_browser_loop(lambda: ExpectedBurst.objects.exists())


def test_the_freeze_notice_appears_live_where_campaigns_are_planned(signed_in, django_user_model):
    """A freeze set while the page is open shows at once for the cell (the banner's own
    signal refreshes the notice too), named; lifting it hides it again."""

    def make():
        from incidents import actions as incident_actions

        lead = django_user_model.objects.create_user("camille", password=PASSWORD)
        lead = grant(lead, "view_mention", "change_watch")
        watch = actions.watch_create(actor=lead, name="Lumière", brand="Lumière", keywords=["lum"])
        incident = incident_actions.incident_declare(
            actor=lead,
            title="Cracked lids",
            category="product",
            origin="online",
            platforms=["x"],
            severity=2,  # no freeze by default
        )
        return lead, watch, incident

    lead, watch, incident = outside_the_browser_loop(make)
    outside_the_browser_loop(lambda: planned(watch, lead))
    tab = signed_in(lead)
    tab.goto(f"/listening/watches/{watch.pk}/campaigns/")
    expect(tab.locator("body")).to_have_attribute("data-live", "live")
    notice = tab.locator("#campaign-freeze")
    expect(notice).to_be_hidden()
    marks = tab.locator("#upcoming-campaigns .campaign").get_by_text(FREEZE_MARK)
    expect(marks).to_have_count(0)

    def freeze(frozen):
        from incidents import actions as incident_actions

        incident_actions.incident_set_promotion_freeze(incident=incident, actor=lead, frozen=frozen)

    outside_the_browser_loop(lambda: freeze(True))
    expect(notice).to_be_visible()
    expect(notice.get_by_role("link", name="Cracked lids")).to_be_visible()
    expect(marks).to_have_count(1)  # the campaign's mark, with the notice
    outside_the_browser_loop(lambda: freeze(False))
    expect(notice).to_be_hidden()
    expect(marks).to_have_count(0)


FREEZE_MARK = "promotion freeze in force"
PHONE = {"width": 390, "height": 844}


def planned(watch, actor, days=3):
    start = timezone.now() + timedelta(days=days)
    burst = ExpectedBurst(watch=watch, starts_at=start, ends_at=start + timedelta(hours=12))
    return actions.expected_burst_save(burst=burst, actor=actor)


def test_on_a_phone_an_editor_outside_the_cell_is_warned_and_sees_the_marks(
    signed_in, django_user_model
):
    """A freeze on an incident whose cell the editor is not in: no event reaches them, the
    notice turns on its minute refresh and the list's marks follow it; saving a campaign
    then warns, without the incident's title; nothing is wider than the phone."""

    def make():
        editor = django_user_model.objects.create_user("camille", password=PASSWORD)
        editor = grant(editor, "view_mention", "change_watch")
        watch = actions.watch_create(
            actor=editor, name="Lumière", brand="Lumière", keywords=["lum"]
        )
        planned(watch, editor)
        return editor, watch

    editor, watch = outside_the_browser_loop(make)
    tab = signed_in(editor)
    tab.set_viewport_size(PHONE)
    tab.goto(f"/listening/watches/{watch.pk}/campaigns/")
    notice = tab.locator("#campaign-freeze")
    marks = tab.locator("#upcoming-campaigns .campaign").get_by_text(FREEZE_MARK)
    expect(notice).to_be_hidden()
    expect(marks).to_have_count(0)

    def freeze_elsewhere():
        from incidents import actions as incident_actions

        lead = django_user_model.objects.create_user("dominique", password=PASSWORD)
        incident_actions.incident_declare(
            actor=lead,
            title="Cracked lids",
            category="product",
            origin="online",
            platforms=["x"],
            severity=3,  # frozen from its declaration
        )

    outside_the_browser_loop(freeze_elsewhere)
    # The notice's own minute refresh, without the minute.
    notice.dispatch_event("panel-refresh")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("whose cell you are not in")
    expect(marks).to_have_count(1)

    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    tab.fill("#id_starts_at", f"{day}T08:00")
    tab.fill("#id_ends_at", f"{day}T20:00")
    tab.fill("#id_note", "Spring sale")
    tab.get_by_role("button", name="Add the campaign").click()
    expect(tab.locator(".message-success")).to_contain_text("Planned campaign saved")
    expect(tab.locator(".message-warning")).to_contain_text("A promotion freeze is in force")
    expect(marks).to_have_count(2)
    assert "Cracked lids" not in tab.content()
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    for box in (marks.nth(i).bounding_box() for i in range(2)):
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "campaigns-during-freeze-phone.png"), full_page=True)
