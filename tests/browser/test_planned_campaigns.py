"""A lead declares a planned campaign from the watch's edit page in a browser, in their own
time zone, then deletes it (the page asks first)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.listening import actions
from incidents.listening.models import ExpectedBurst
from tests.browser.conftest import PASSWORD
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
    tab = signed_in(lead)
    tab.goto(f"/listening/watches/{watch.pk}/campaigns/")
    expect(tab.locator("body")).to_have_attribute("data-live", "live")
    notice = tab.locator("#campaign-freeze")
    expect(notice).to_be_hidden()

    def freeze(frozen):
        from incidents import actions as incident_actions

        incident_actions.incident_set_promotion_freeze(incident=incident, actor=lead, frozen=frozen)

    outside_the_browser_loop(lambda: freeze(True))
    expect(notice).to_be_visible()
    expect(notice.get_by_role("link", name="Cracked lids")).to_be_visible()
    outside_the_browser_loop(lambda: freeze(False))
    expect(notice).to_be_hidden()
