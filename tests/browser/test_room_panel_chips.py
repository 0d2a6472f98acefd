"""The room's sentiment chips in a browser: "All" brings every sentiment back (the panel
swapped in place, the address bar without the chip), also after the chosen chip's only
post was detached ("Neutral 0" chosen, "No mention with this sentiment.")."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.listening import actions
from incidents.listening.choices import Source
from incidents.listening.ingest import parse
from incidents.listening.models import Mention
from tests.browser.conftest import PASSWORD
from tests.helpers import outside_the_browser_loop
from tests.listening.conftest import lead_of_a_listened_incident, post

pytestmark = pytest.mark.browser


@pytest.fixture
def room(django_user_model, asgi_server):
    """A lead and an incident with 3 negative posts and 1 neutral attached."""

    def make():
        lead, incident = lead_of_a_listened_incident(django_user_model, PASSWORD, "Lids")
        start = timezone.now() - timedelta(hours=1)
        texts = [f"Lumière, couvercle fendu (n°{i})" for i in range(3)] + ["Lumière, neutre"]
        rows = [
            parse(post(f"c{i}", text=text, posted_at=(start + timedelta(minutes=i)).isoformat()))
            for i, text in enumerate(texts)
        ]
        actions.mentions_ingest(mentions=rows, source=Source.API, actor=None)
        Mention.objects.update(incident=incident, sentiment="negative")
        Mention.objects.filter(external_id="c3").update(sentiment="neutral")
        return lead, incident

    return outside_the_browser_loop(make)


def test_all_brings_every_sentiment_back_even_from_a_chip_left_at_zero(signed_in, room):
    lead, incident = room
    tab = signed_in(lead)
    tab.set_viewport_size({"width": 390, "height": 800})
    tab.goto(f"/incidents/{incident.pk}/")
    expect(tab.locator("body")).to_have_attribute("data-live", "live")
    panel = tab.locator("#mentions-panel")
    items = panel.locator(".mention")
    chips = panel.locator(".sentiment-counts")
    every = chips.locator(".sentiment-all")
    expect(every).to_have_text("All 4")
    expect(every).to_have_attribute("aria-current", "true")
    expect(items).to_have_count(4)

    chips.locator(".sentiment-neutral").click()
    expect(items).to_have_count(1)
    expect(chips.locator(".sentiment-neutral")).to_have_attribute("aria-current", "true")
    expect(every).not_to_have_attribute("aria-current", "true")
    tab.wait_for_function("() => new URLSearchParams(location.search).has('mentions_sentiment')")

    # "All" again: every mention, and the chip leaves the address.
    every.click()
    expect(items).to_have_count(4)
    expect(every).to_have_attribute("aria-current", "true")
    tab.wait_for_function("() => !new URLSearchParams(location.search).has('mentions_sentiment')")

    # The only neutral post detached while "Neutral" is chosen: its chip stays, at 0.
    chips.locator(".sentiment-neutral").click()
    expect(items).to_have_count(1)
    tab.once("dialog", lambda dialog: dialog.accept())
    items.first.get_by_role("button", name="Detach").click()
    expect(chips.locator(".sentiment-neutral")).to_have_text("Neutral 0")
    expect(chips.locator(".sentiment-neutral")).to_have_attribute("aria-current", "true")
    expect(panel.locator(".empty-state")).to_contain_text("No mention with this sentiment.")
    expect(every).to_have_text("All 3")

    # The empty list's own link leads back too.
    panel.get_by_role("link", name="Show every sentiment").click()
    expect(items).to_have_count(3)
    expect(every).to_have_attribute("aria-current", "true")
    expect(chips.locator(".sentiment-neutral")).to_have_count(0)  # no mention: no chip
    tab.wait_for_function("() => !new URLSearchParams(location.search).has('mentions_sentiment')")
    assert "mentions_sentiment" not in parse_qs(urlsplit(tab.url).query)
