"""The Listening page's "Attach selected to incident…" in a browser: select all shown, the
count, the live refresh held while mentions are ticked (nothing moves under the pointer)
and let through once the selection is cleared, then the two steps (the incident named
before anything is written) and the report."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.listening import actions, events
from incidents.listening.choices import Source
from incidents.listening.ingest import parse
from incidents.listening.models import Mention
from incidents.models import TimelineEntry
from tests.browser.conftest import PASSWORD
from tests.helpers import outside_the_browser_loop
from tests.listening.conftest import lead_of_a_listened_incident, post

pytestmark = pytest.mark.browser

SHOWN = 5


@pytest.fixture
def setting(django_user_model, asgi_server):
    def make():
        lead, incident = lead_of_a_listened_incident(
            django_user_model, PASSWORD, "Complaint wave about kettle lids"
        )
        start = timezone.now() - timedelta(hours=1)
        rows = [
            parse(post(f"old{i}", posted_at=(start + timedelta(minutes=i)).isoformat()))
            for i in range(SHOWN)
        ]
        actions.mentions_ingest(mentions=rows, source=Source.API, actor=None)
        return lead, incident

    return outside_the_browser_loop(make)


def ingest_one(external_id):
    def run():
        events.cache.delete(events._THROTTLE_KEY)  # a new refresh, whatever the last one
        row = post(external_id, text=f"Lumière again ({external_id})")
        row["posted_at"] = timezone.now().isoformat()
        actions.mentions_ingest(mentions=[parse(row)], source=Source.API, actor=None)

    outside_the_browser_loop(run)


def test_select_hold_the_refresh_and_attach_in_two_steps(signed_in, setting):
    lead, incident = setting
    tab = signed_in(lead)
    tab.goto("/listening/")
    expect(tab.locator("body")).to_have_attribute("data-live", "live")
    stream = tab.locator("#listening-stream")
    boxes = stream.locator('input[name="mentions"][form="attach-selected"]')
    expect(boxes).to_have_count(SHOWN)
    attach = tab.get_by_role("button", name="Attach selected to incident…")
    expect(attach).to_be_disabled()  # nothing ticked yet

    boxes.nth(0).check()
    expect(attach).to_be_enabled()
    boxes.nth(2).check()
    expect(tab.locator("[data-selected-count]")).to_have_text("2 selected")

    # New mentions arrive while two are ticked: the stream stays as it is.
    ingest_one("new1")
    expect(tab.locator("[data-stream-paused]")).to_be_visible()
    expect(stream).not_to_contain_text("(new1)")
    expect(boxes.nth(0)).to_be_checked()
    expect(boxes.nth(2)).to_be_checked()

    # Cleared: the held refresh runs.
    tab.get_by_role("button", name="Clear").click()
    expect(stream).to_contain_text("(new1)")
    expect(tab.locator("[data-stream-paused]")).to_be_hidden()

    tab.get_by_label("Select all shown").check()
    expect(tab.locator("[data-selected-count]")).to_have_text(f"{SHOWN + 1} selected")
    tab.select_option("#attach-selected-incident", label=incident.title)
    tab.get_by_role("button", name="Attach selected to incident…").click()

    expect(tab.locator("[data-destination]")).to_have_text(incident.title)
    assert not outside_the_browser_loop(lambda: Mention.objects.filter(incident=incident).exists())
    tab.get_by_role("button", name=f"Attach {SHOWN + 1} mentions to").click()
    expect(tab.locator(".messages")).to_contain_text(
        f"{SHOWN + 1} mentions attached to “{incident.title}”."
    )
    counts = outside_the_browser_loop(
        lambda: (
            Mention.objects.filter(incident=incident).count(),
            TimelineEntry.objects.filter(incident=incident, kind="mentions_attached").count(),
        )
    )
    assert counts == (SHOWN + 1, 1)
    expect(stream.locator('input[name="mentions"][form="attach-selected"]')).to_have_count(0)
