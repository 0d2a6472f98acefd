"""A page's polls (hx-trigger="every …") while the server cannot be reached: the room's
notice of missing posts asks again every minute; offline, its failure is said once, not
every minute, and said to be over once a poll gets an answer; what the person does
(a timeline filter) is still answered every time. Time runs on the page's fake clock."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.listening.models import CollectorState
from tests.browser.conftest import PASSWORD
from tests.helpers import outside_the_browser_loop
from tests.listening.conftest import lead_of_a_listened_incident

pytestmark = pytest.mark.browser

OFFLINE = "The server cannot be reached. Check your connection."
ONLINE = "The server can be reached again."
MINUTE_MS = 60_000

# Every toast the page shows, in order (they remove themselves after a few seconds), and
# the polls that failed to reach the server.
RECORD = """() => {
  window.__toasts = [];
  window.__pollsFailed = 0;
  new MutationObserver((changes) => changes.forEach((change) => change.addedNodes.forEach(
    (node) => window.__toasts.push(node.textContent)))).observe(
    document.getElementById("toasts"), { childList: true });
  document.addEventListener("htmx:sendError", (event) => {
    if (!event.detail.requestConfig.triggeringEvent) window.__pollsFailed += 1;
  });
}"""


@pytest.fixture
def room(django_user_model, asgi_server, settings):
    """A lead of an open incident who reads listening, while collecting from Mastodon
    stopped an hour ago (the room's mentions panel says so, and asks again every minute)."""
    settings.LISTENING_MASTODON = [{"base_url": "https://social.example"}]
    settings.LISTENING_FEEDS = []

    def make():
        lead, incident = lead_of_a_listened_incident(
            django_user_model, PASSWORD, "Kettle lids coming off"
        )
        CollectorState.objects.create(
            name="mastodon:https://social.example",
            updated_at=timezone.now() - timedelta(hours=1),
        )
        return lead, incident

    return outside_the_browser_loop(make)


def wait_until(tab, script, at_least):
    deadline = time.monotonic() + 20
    while tab.evaluate(script) < at_least:
        assert time.monotonic() < deadline, f"{script} stayed under {at_least}"
        time.sleep(0.05)


def offline(route):
    route.abort("internetdisconnected")


def test_a_failing_poll_is_said_once_and_a_click_every_time(signed_in, room):
    lead, incident = room
    tab = signed_in(lead)
    tab.clock.install()
    tab.goto(f"/incidents/{incident.pk}/")
    notice = tab.locator("#mentions-panel .source-notice")
    expect(notice).to_contain_text("Posts from Mastodon may be missing:")
    tab.evaluate(RECORD)
    toasts = "window.__toasts.length"

    # The server goes away: three minutes of polls failing, said once.
    tab.route("**/*", offline)
    for minute in range(1, 4):
        tab.clock.run_for(MINUTE_MS)
        wait_until(tab, "window.__pollsFailed", minute)
    assert tab.evaluate("window.__toasts") == [OFFLINE]

    # What the person asks for is answered each time, offline as before.
    kinds = tab.locator(".timeline-filters select").first
    kinds.select_option(index=1)
    wait_until(tab, toasts, 2)
    kinds.select_option(index=0)
    wait_until(tab, toasts, 3)
    tab.clock.run_for(MINUTE_MS)  # and the poll still says nothing more
    wait_until(tab, "window.__pollsFailed", 4)
    assert tab.evaluate("window.__toasts") == [OFFLINE] * 3

    # Back: the next poll gets its answer, said once; the notice is still there.
    tab.unroute("**/*", offline)
    tab.clock.run_for(MINUTE_MS)
    wait_until(tab, toasts, 4)
    assert tab.evaluate("window.__toasts")[3] == ONLINE
    expect(notice).to_contain_text("collecting them seems to have stopped")

    # Gone again: said again, once.
    tab.route("**/*", offline)
    for minute in range(5, 7):
        tab.clock.run_for(MINUTE_MS)
        wait_until(tab, "window.__pollsFailed", minute)
    assert tab.evaluate("window.__toasts") == [OFFLINE] * 3 + [ONLINE, OFFLINE]
